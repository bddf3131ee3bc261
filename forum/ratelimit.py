"""Fixed-window rate limits kept in PostgreSQL, so every worker and process shares them.

`FORUM_RATE_LIMITS` scales every limit at once: `off` disables them, a number N makes
each limit N times looser (for test and benchmark runs from one address).
"""

from __future__ import annotations

import math
import time

from forum import sql
from forum.errors import RateLimited

_factor: float = 1.0


def set_factor(factor: float) -> None:
    global _factor
    _factor = factor


async def hit(key: str, limit: int, window_s: int, detail: str = "Too many requests; slow down.") -> None:
    """Count one event for `key`; raise RateLimited (429, Retry-After) past `limit` per window."""
    if _factor <= 0:
        return
    allowed = max(1, math.floor(limit * _factor))
    now = time.time()
    window_start = int(now // window_s * window_s)
    count = await sql.fetchval(
        """
        INSERT INTO rate_limit_bucket (key, window_start, hits)
        VALUES ($1, $2, 1)
        ON CONFLICT (key) DO UPDATE
           SET hits = CASE WHEN rate_limit_bucket.window_start = EXCLUDED.window_start
                           THEN rate_limit_bucket.hits + 1 ELSE 1 END,
               window_start = EXCLUDED.window_start
        RETURNING hits
        """,
        key[:200], window_start,
    )
    if count > allowed:
        raise RateLimited(detail, retry_after=math.ceil(window_start + window_s - now))


async def spacing(key: str, min_interval_s: float, detail: str = "Please wait before posting again.") -> None:
    """At most one event per `min_interval_s` for `key` (e.g. one comment per 15 s)."""
    if _factor <= 0:
        return
    interval = min_interval_s / _factor
    if interval < 0.001:
        return
    now = time.time()
    row = await sql.fetchrow(
        """
        INSERT INTO rate_limit_bucket (key, window_start, hits, last_at)
        VALUES ($1, 0, 1, $2)
        ON CONFLICT (key) DO UPDATE
           SET last_at = CASE WHEN $2 - rate_limit_bucket.last_at >= $3
                              THEN $2 ELSE rate_limit_bucket.last_at END
        RETURNING last_at = $2 AS allowed, last_at
        """,
        key[:200], now, interval,
    )
    if row is not None and not row["allowed"]:
        raise RateLimited(detail, retry_after=math.ceil(row["last_at"] + interval - now))
