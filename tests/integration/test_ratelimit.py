"""forum.ratelimit.check: several limits counted in one statement, the first exceeded one
raised, nothing counted when the caller's transaction fails."""

from __future__ import annotations

import httpx
import pytest

from forum import ratelimit, sql
from forum.errors import RateLimited
from tests.helpers import unique


async def hits(key: str) -> int | None:
    return await sql.fetchval("SELECT hits FROM rate_limit_bucket WHERE key = $1",  # type: ignore[no-any-return]
                              ratelimit.stored_key(key))


async def test_limits_counted_together_raise_the_first_exceeded(client: httpx.AsyncClient,
                                                                rate_limits_on: None) -> None:
    address, hour, gap = unique("ip"), unique("hour"), unique("gap")
    limits = (ratelimit.Window(address, 2, 300, "address"), ratelimit.Spacing(gap, 0.0011, "gap"),
              ratelimit.Window(hour, 1, 3600, "hour"))
    async with sql.transaction():
        await ratelimit.check(*limits)
    assert (await hits(address), await hits(hour)) == (1, 1)
    with pytest.raises(RateLimited) as exc:  # the spacing is fine again, the hourly window is not
        async with sql.transaction():
            await ratelimit.check(*limits[:1], ratelimit.Window(hour, 1, 3600, "hour"))
    assert exc.value.detail == "hour" and 1 <= int(exc.value.headers["Retry-After"]) <= 3600
    assert (await hits(address), await hits(hour)) == (1, 1)  # the refused event left no hit
    with pytest.raises(RateLimited) as exc:  # both exceeded: the first in the order given
        async with sql.transaction():
            await ratelimit.check(ratelimit.Window(address, 0, 300, "address"), *limits[2:])
    assert exc.value.detail == "address"


async def test_spacing_refuses_a_second_event_too_soon(client: httpx.AsyncClient, rate_limits_on: None) -> None:
    key = unique("spacing")
    await ratelimit.check(ratelimit.Spacing(key, 30, "wait"))
    with pytest.raises(RateLimited) as exc:
        await ratelimit.check(ratelimit.Spacing(key, 30, "wait"))
    assert exc.value.detail == "wait" and 1 <= int(exc.value.headers["Retry-After"]) <= 30


async def test_one_key_twice_is_a_programming_error(client: httpx.AsyncClient, rate_limits_on: None) -> None:
    key = unique("twice")
    with pytest.raises(ValueError, match="distinct keys"):
        await ratelimit.check(ratelimit.Window(key, 5, 60), ratelimit.Spacing(key, 5))


async def test_off_counts_nothing(client: httpx.AsyncClient) -> None:
    key = unique("off")
    await ratelimit.check(ratelimit.Window(key, 0, 60))  # limits are off in tests unless asked for
    assert await hits(key) is None
