"""Fixed-window rate limits kept in PostgreSQL, so every worker and process shares them.

`FORUM_RATE_LIMITS` scales every limit at once: `off` disables them, a number N makes
each limit N times looser (for test and benchmark runs from one address).

Two kinds of limit: `Window` (at most `limit` events per fixed window of `window_s`) and
`Spacing` (at most one event per `min_interval_s`). `check()` counts one event against
several limits in one statement (a post is counted per address and per author at once);
a raised RateLimited is the first limit, in the order given, that the event exceeds. The
counting happens in the caller's transaction: a request that fails afterwards leaves no hit.

Privacy: a key names a person or a client address (`login:user:42`, `post:ip:10.0.0.1`),
so it is stored only as a keyed hash (HMAC-SHA256 with the secret key, forum/keyed.py),
prefixed by its kind (`login:` ...): nobody with the table can test a guessed address or
email against it. Every bucket has `expires_at` (the end of its window or spacing) and
`sweep()` removes the expired ones; `forget()` removes a person's buckets on erasure.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from forum import keyed, sql
from forum.errors import RateLimited

_factor: float = 1.0

DEFAULT_DETAIL = "Too many requests; slow down."


def set_factor(factor: float) -> None:
    global _factor
    _factor = factor


def stored_key(key: str) -> str:
    """The bucket's key as stored: its kind in clear, the rest as a keyed hash."""
    kind = key.split(":", 1)[0][:30]
    return f"{kind}:{keyed.digest('ratelimit', key)}"


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
_WINDOW = """INSERT INTO rate_limit_bucket (key, window_start, hits, expires_at) VALUES (${a}, ${b}, 1, ${c})
    ON CONFLICT (key) DO UPDATE
       SET hits = CASE WHEN rate_limit_bucket.window_start = EXCLUDED.window_start
                       THEN rate_limit_bucket.hits + 1 ELSE 1 END,
           window_start = EXCLUDED.window_start, expires_at = EXCLUDED.expires_at
    RETURNING hits::float8 AS value"""
_SPACING = """INSERT INTO rate_limit_bucket (key, window_start, hits, last_at, expires_at)
    VALUES (${a}, 0, 1, ${b}, ${b}::float8 + ${c}::float8)
    ON CONFLICT (key) DO UPDATE
       SET last_at = CASE WHEN ${b} - rate_limit_bucket.last_at >= ${c}
                          THEN ${b} ELSE rate_limit_bucket.last_at END,
           expires_at = CASE WHEN ${b} - rate_limit_bucket.last_at >= ${c}
                          THEN ${b}::float8 + ${c}::float8 ELSE rate_limit_bucket.expires_at END
    RETURNING CASE WHEN last_at = ${b} THEN NULL ELSE last_at END AS value"""


async def check(*limits: Window | Spacing, enforce: bool = True) -> None:
    """Count one event against every limit (one statement); raise RateLimited (429,
    Retry-After) for the first one it exceeds (`enforce=False`: only count)."""
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
            ctes.append(f"{name} AS ({_WINDOW.format(a=n + 1, b=n + 2, c=n + 3)})")
            args += [stored_key(limit.key), start, float(start + limit.window_s)]
            judges.append((limit, max(1, math.floor(limit.limit * _factor)), start))
        else:
            interval = limit.min_interval_s / _factor
            if interval < 0.001:
                continue
            ctes.append(f"{name} AS ({_SPACING.format(a=n + 1, b=n + 2, c=n + 3)})")
            args += [stored_key(limit.key), now, interval]
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
    if not enforce:
        return
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


def bound(limit: Window) -> int:
    """The limit as scaled by FORUM_RATE_LIMITS (0 when limits are off)."""
    return max(1, math.floor(limit.limit * _factor)) if _factor > 0 else 0


async def peek(*limits: Window) -> list[int]:
    """The events counted so far in each limit's current window, counting nothing."""
    if _factor <= 0:
        return [0] * len(limits)
    now = time.time()
    starts = [int(now // w.window_s * w.window_s) for w in limits]
    rows = await sql.fetch("SELECT key, window_start, hits FROM rate_limit_bucket WHERE key = ANY($1::varchar[])",
                           [stored_key(w.key) for w in limits])
    found = {(r["key"], r["window_start"]): r["hits"] for r in rows}
    return [int(found.get((stored_key(w.key), start), 0)) for w, start in zip(limits, starts, strict=True)]


def refuse(limit: Window) -> RateLimited:
    """The 429 of `limit` for an event refused now (Retry-After: the end of its window)."""
    now = time.time()
    return RateLimited(limit.detail, retry_after=math.ceil(int(now // limit.window_s * limit.window_s)
                                                           + limit.window_s - now))


async def forget(*keys: str) -> int:
    """Remove these buckets (a person's, on erasure). Returns how many were there."""
    status = await sql.execute("DELETE FROM rate_limit_bucket WHERE key = ANY($1::varchar[])",
                               [stored_key(k) for k in keys])
    return sql.rowcount(status)


async def sweep() -> int:
    """Remove the buckets whose window or spacing has passed (run periodically)."""
    status = await sql.execute("DELETE FROM rate_limit_bucket WHERE expires_at < $1", time.time())
    return sql.rowcount(status)
