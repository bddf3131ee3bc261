"""Handing pooled connections back (`forum.db.release`): always with a time limit, so a
request cut short in the middle of a statement never leaves a connection, and the table
locks of its half-sent statement, behind it. CI once saw a TRUNCATE wait 12 minutes behind
a connection left so by a request-timeout test."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import asyncpg
import httpx
import pytest

from forum import db, sql
from forum.transfer import jsonio
from tests.helpers import make_user
from tests.integration.test_comments import make_topic, post, trust_everyone


async def test_every_pooled_use_hands_back_with_a_time_limit(client: httpx.AsyncClient,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[float | None] = []
    original = asyncpg.pool.Pool.release

    async def release(self: asyncpg.pool.Pool, connection: Any, *,
                      timeout: float | None = None) -> None:  # noqa: ASYNC109 (asyncpg's signature)
        seen.append(timeout)
        await original(self, connection, timeout=timeout)

    monkeypatch.setattr(asyncpg.pool.Pool, "release", release)
    assert await sql.fetchval("SELECT 41 + 1") == 42
    async with sql.transaction() as conn:
        assert await conn.fetchval("SELECT 1") == 1
    assert [chunk async for chunk in jsonio.export_chunks(None)]
    await trust_everyone()
    coach = await make_user("coach")
    await post(client, await make_topic(client, coach), coach)  # a request with a transaction
    assert len(seen) >= 4 and set(seen) == {db.RELEASE_TIMEOUT_S}, seen


async def test_a_cancelled_statement_leaves_nothing_half_sent(client: httpx.AsyncClient, migrated: str) -> None:
    """Statements cancelled at every point of their first use (a new statement: Parse,
    Describe and Flush, then Bind and Execute): afterwards no pooled connection is left
    waiting for the rest of a message, and an ACCESS EXCLUSIVE lock on the table they read
    (what TRUNCATE and most DDL take) is granted at once. Without `db._settle`, about one
    cancellation in 25 left a connection so (seen in CI after a request-timeout test)."""
    rnd = random.Random(19)
    monitor = await asyncpg.connect(migrated)
    try:
        left: list[dict[str, Any]] = []
        for i in range(300):
            task = asyncio.ensure_future(sql.fetch(f"SELECT {i} AS n, slug FROM topic WHERE slug = $1", "x"))
            for _ in range(rnd.randint(0, 6)):
                await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            waiting = await monitor.fetch(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'forum' AND state = 'active'"
                " AND wait_event = 'ClientRead'")
            if waiting:
                await asyncio.sleep(0.3)  # not a moment's state: still so a while later
                left += [dict(r) for r in await monitor.fetch(
                    "SELECT pid, left(query, 60) AS query FROM pg_stat_activity WHERE pid = ANY($1::int[])"
                    " AND state = 'active' AND wait_event = 'ClientRead'", [r["pid"] for r in waiting])]
        assert not left, left
        async with monitor.transaction():
            await monitor.execute("SET LOCAL lock_timeout = '2s'")
            await monitor.execute("LOCK TABLE topic IN ACCESS EXCLUSIVE MODE")
    finally:
        await monitor.close()
    assert await sql.fetchval("SELECT 41 + 1") == 42  # and the pool still serves
