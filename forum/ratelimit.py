"""Fixed-window rate limits kept in PostgreSQL, so every worker and process shares them.

`FORUM_RATE_LIMITS` scales every limit at once: `off` disables them, a number N makes
each limit N times looser (for test and benchmark runs from one address).

Two kinds of limit: `Window` (at most `limit` events per fixed window of `window_s`) and
`Spacing` (at most one event per `min_interval_s`). `check()` counts one event against
several limits in one statement (a post is counted per address and per author at once);
a raised RateLimited is the first limit, in the order given, that the event exceeds. The
counting happens in the caller's transaction: a request that fails afterwards leaves no hit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from forum import sql
from forum.errors import RateLimited

_factor: float = 1.0

DEFAULT_DETAIL = "Too many requests; slow down."


def set_factor(factor: float) -> None:
    global _factor
    _factor = factor


@dataclass(frozen=True)
class Window:
    key: str
    limit: int
    window_s: int
    detail: str = DEFAULT_DETAIL


@dataclass(frozen=True)
class Spacing:
    key: str
    min_interval_s: float
    detail: str = "Please wait before posting again."


# One upsert per limit ({a}, {b}, {c}: its parameters' numbers), all in one statement. A
# window returns its hits; a spacing NULL when this event counted, else the last one's time.
_WINDOW = """INSERT INTO rate_limit_bucket (key, window_start, hits) VALUES (${a}, ${b}, 1)
    ON CONFLICT (key) DO UPDATE
       SET hits = CASE WHEN rate_limit_bucket.window_start = EXCLUDED.window_start
                       THEN rate_limit_bucket.hits + 1 ELSE 1 END,
           window_start = EXCLUDED.window_start
    RETURNING hits::float8 AS value"""
_SPACING = """INSERT INTO rate_limit_bucket (key, window_start, hits, last_at) VALUES (${a}, 0, 1, ${b})
    ON CONFLICT (key) DO UPDATE
       SET last_at = CASE WHEN ${b} - rate_limit_bucket.last_at >= ${c}
                          THEN ${b} ELSE rate_limit_bucket.last_at END
    RETURNING CASE WHEN last_at = ${b} THEN NULL ELSE last_at END AS value"""


async def check(*limits: Window | Spacing) -> None:
    """Count one event against every limit (one statement); raise RateLimited (429,
    Retry-After) for the first one it exceeds."""
    if _factor <= 0:
        return
    now = time.time()
    ctes: list[str] = []
    args: list[Any] = []
    judges: list[tuple[Window | Spacing, float, int]] = []  # (limit, bound, window start)
    for limit in limits:
        n, name = len(args), f"l{len(ctes)}"
        if isinstance(limit, Window):
            start = int(now // limit.window_s * limit.window_s)
            ctes.append(f"{name} AS ({_WINDOW.format(a=n + 1, b=n + 2)})")
            args += [limit.key[:200], start]
            judges.append((limit, max(1, math.floor(limit.limit * _factor)), start))
        else:
            interval = limit.min_interval_s / _factor
            if interval < 0.001:
                continue
            ctes.append(f"{name} AS ({_SPACING.format(a=n + 1, b=n + 2, c=n + 3)})")
            args += [limit.key[:200], now, interval]
            judges.append((limit, interval, 0))
    if not ctes:
        return
    keys = [limit.key for limit, _, _ in judges]
    if len(set(keys)) != len(keys):  # one statement may not upsert a row twice
        raise ValueError("rate limits counted together need distinct keys")
    row = await sql.fetchrow(f"WITH {', '.join(ctes)} SELECT "
                             + ", ".join(f"(SELECT value FROM l{k})" for k in range(len(ctes))), *args)
    if row is None:
        raise RuntimeError("unexpected: no row")
    for value, (limit, bound, start) in zip(row, judges, strict=True):  # l0, l1, ... in the order given
        if isinstance(limit, Window):
            if value > bound:
                raise RateLimited(limit.detail, retry_after=math.ceil(start + limit.window_s - now))
        elif value is not None:  # the last event counted stays: this one came too soon
            raise RateLimited(limit.detail, retry_after=math.ceil(value + bound - now))


async def hit(key: str, limit: int, window_s: int, detail: str = DEFAULT_DETAIL) -> None:
    """Count one event for `key`; raise RateLimited (429, Retry-After) past `limit` per window."""
    await check(Window(key, limit, window_s, detail))


async def spacing(key: str, min_interval_s: float, detail: str = "Please wait before posting again.") -> None:
    """At most one event per `min_interval_s` for `key` (e.g. one comment per 15 s)."""
    await check(Spacing(key, min_interval_s, detail))
