"""The baseline: "the database plus encoding, with no web framework".

An in-process loop over a raw asyncpg pool: fetch page 1 of a thread (the roots page in
the default `oldest` order plus the first 100 visible descendants of each root, read
by (root_id, path)), nest it as the API does and encode it to JSON with msgspec, with
`concurrency` asyncio tasks, for `duration` seconds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import msgspec

ROOTS_LIMIT = 50
DESCENDANTS = 100

# One round trip: the topic by slug, its roots page, and each root's first descendants.
PAGE_SQL = """
WITH roots AS (
    SELECT c.* FROM comment c
     WHERE c.topic = (SELECT id FROM topic WHERE slug = $1 AND status = 'published')
       AND c.parent IS NULL AND NOT c.private AND c.status IN ('published', 'deleted')
     ORDER BY c.created_at, c.id
     LIMIT $2
), page AS (
    SELECT r.*, 0 AS ord_root FROM roots r
    UNION ALL
    SELECT d.*, 1 FROM roots r
     CROSS JOIN LATERAL (
        SELECT c.* FROM comment c
         WHERE c.root_id = r.id AND c.path > r.path AND NOT c.private
           AND c.status IN ('published', 'deleted')
         ORDER BY c.path
         LIMIT $3
     ) d
)
SELECT p.id, p.parent, p.root_id, p.path, p.depth, p.kind, p.status, p.private, p.guest_name,
       p.author_badge, p.body_html, p.score, p.accepted, p.question_status, p.reply_count,
       p.created_at, p.edited_at, u.id AS author_id, u.handle AS author_handle, u.role AS author_role,
       $1::text AS topic_slug
  FROM page p LEFT JOIN forum_user u ON u.id = p.author
 ORDER BY p.root_id, p.ord_root, p.path
"""

_encoder = msgspec.json.Encoder()


def build_page(rows: list[asyncpg.Record]) -> dict[str, Any]:
    """Nest rows (grouped by root, each root first, then its descendants in path order)."""
    items: list[dict[str, Any]] = []
    by_id: dict[int, dict[str, Any]] = {}
    shown: dict[int, int] = {}
    for r in rows:
        deleted = r["status"] == "deleted"
        author = None
        if r["author_id"] is not None and not deleted:
            author = {"id": r["author_id"], "handle": r["author_handle"], "role": r["author_role"]}
        c = {
            "id": r["id"], "topic_slug": r["topic_slug"], "parent_id": r["parent"], "depth": r["depth"],
            "kind": r["kind"], "status": r["status"], "private": r["private"], "author": author,
            "guest_name": None if deleted else r["guest_name"], "author_badge": r["author_badge"],
            "body_html": "" if deleted else r["body_html"], "score": r["score"], "accepted": r["accepted"],
            "question_status": r["question_status"], "reply_count": r["reply_count"],
            "created_at": r["created_at"], "edited_at": r["edited_at"], "replies": [],
        }
        by_id[r["id"]] = c
        if r["parent"] is None:
            items.append(c)
            shown[r["id"]] = 0
        else:
            parent = by_id.get(r["parent"])
            if parent is not None:
                parent["replies"].append(c)
            shown[r["root_id"]] = shown.get(r["root_id"], 0) + 1
    for c in items:
        more = c["reply_count"] - shown.get(c["id"], 0)
        if more > 0:
            c["more_replies"] = more
    return {"items": items, "next_cursor": None}


async def fetch_page(pool: asyncpg.Pool, slug: str) -> bytes:
    async with pool.acquire() as conn:
        rows = await conn.fetch(PAGE_SQL, slug, ROOTS_LIMIT, DESCENDANTS)
    return _encoder.encode(build_page(rows))


async def run_baseline(dsn: str, slug: str, concurrency: int, duration: float,
                       pool_size: int = 10) -> dict[str, Any]:
    pool = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size)
    assert pool is not None
    try:
        sample = await fetch_page(pool, slug)
        for _ in range(20):  # warm the statement cache and PostgreSQL's buffers
            await fetch_page(pool, slug)
        latencies: list[float] = []
        stop_at = time.perf_counter() + duration
        done = 0

        async def worker() -> None:
            nonlocal done
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                await fetch_page(pool, slug)
                latencies.append(time.perf_counter() - t0)
                done += 1

        t_start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t_start
    finally:
        await pool.close()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000 if latencies else 0.0

    return {"rps": done / elapsed, "p50_ms": pct(50), "p99_ms": pct(99), "errors": 0,
            "bytes": len(sample), "requests": done}
