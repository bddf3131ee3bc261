"""The baseline: "the database plus encoding, with no web framework".

An in-process loop over a raw asyncpg pool: fetch page 1 of a thread (the roots page in
the default `oldest` order plus the first 100 visible descendants of each root, read
by (root_id, path)), nest it as the API does and encode it to JSON with msgspec, with
`concurrency` asyncio tasks, for `duration` seconds.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
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
        figures = await _timed(lambda: fetch_page(pool, slug), concurrency, duration)
    finally:
        await pool.close()
    return {**figures, "bytes": len(sample)}


async def _timed(op: Callable[[], Awaitable[Any]], concurrency: int, duration: float) -> dict[str, Any]:
    """`concurrency` tasks repeating `op` for `duration` seconds: its rate and latencies."""
    latencies: list[float] = []
    stop_at = time.perf_counter() + duration

    async def worker() -> None:
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                return
            await op()
            latencies.append(time.perf_counter() - t0)

    t_start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t_start
    return {"rps": len(latencies) / elapsed, "p50_ms": _pct(latencies, 50), "p99_ms": _pct(latencies, 99),
            "errors": 0, "requests": len(latencies)}


def _pct(latencies: list[float], p: float) -> float:
    latencies.sort()
    return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000 if latencies else 0.0


# ---------------------------------------------------------------- scenario 4: posting

POST_SQL = """
INSERT INTO comment (id, topic, parent, root_id, path, depth, kind, private, status, author, body, body_html,
                     score, reply_count, accepted, urgent, created_at, first_published_at)
VALUES ($1, $2, NULL, $1, $3, 0, 'comment', false, 'published', $4, $5, $6, 0, 0, false, false,
        clock_timestamp(), clock_timestamp())
"""


async def run_post_baseline(dsn: str, slug: str, author: int, body: str, concurrency: int, duration: float,
                            pool_size: int = 10) -> dict[str, Any]:
    """Posting with no web framework: `concurrency` tasks each render the same 2 KB Markdown
    (forum.markup.render_markdown: markdown-it + bleach, in this process, on its loop) with a
    unique last line, and insert it as a root comment in one transaction over a raw asyncpg
    pool (a new id, the INSERT, the topic's count and version)."""
    from forum.comments.tree import child_path
    from forum.markup import render_markdown

    pool = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size)
    assert pool is not None
    topic_id = await pool.fetchval("SELECT id FROM topic WHERE slug = $1", slug)
    serial = 0

    async def post_one() -> None:
        nonlocal serial
        serial += 1
        text = f"{body}\n\nbaseline {serial}"
        html = render_markdown(text)
        async with pool.acquire() as conn, conn.transaction():
            cid = await conn.fetchval("SELECT nextval(pg_get_serial_sequence('comment', 'id'))")
            await conn.execute(POST_SQL, cid, topic_id, child_path(None, cid), author, text, html)
            await conn.execute("UPDATE topic SET comment_count = comment_count + 1, version = version + 1"
                               " WHERE id = $1", topic_id)

    try:
        for _ in range(10):
            await post_one()
        return await _timed(post_one, concurrency, duration)
    finally:
        await pool.close()


# ---------------------------------------------------------------- scenario 5: decisions

QUEUE_SQL = """
SELECT id, claimed_by FROM moderation_item
 WHERE queue = 'pending' AND status = 'open' AND id = ANY($1::bigint[]) ORDER BY created_at, id LIMIT 20
"""
CLAIM_SQL = """
UPDATE moderation_item SET claimed_by = $2, claim_expires_at = clock_timestamp() + interval '5 minutes'
 WHERE id = $1 AND status = 'open' AND (claimed_by IS NULL OR claim_expires_at <= now()) RETURNING id
"""
DECIDE_SQL = """
UPDATE moderation_item SET status = 'decided', decision = 'approve', decided_by = $2, decided_at = clock_timestamp(),
       claimed_by = NULL, claim_expires_at = NULL
 WHERE id = $1 AND status = 'open' AND claimed_by = $2 RETURNING comment
"""
PUBLISH_SQL = """
UPDATE comment SET status = 'published', first_published_at = clock_timestamp()
 WHERE id = $1 AND status = 'pending' RETURNING topic
"""
AUDIT_SQL = """
INSERT INTO audit_log (actor_id, action, target_type, target_id, reason, details, created_at)
VALUES ($1, 'approve', 'comment', $2, NULL, '{}'::jsonb, clock_timestamp())
"""


async def run_decide_baseline(dsn: str, moderators: list[int], items: list[int], pool_size: int = 10) -> dict[str, Any]:
    """Moderation with no web framework: one task per moderator over a raw asyncpg pool, each
    looping: read the queue's first 20 open items, claim a free one at random (a conditional
    UPDATE; losing a race is a conflict), then in one transaction decide it, publish its
    comment, bump the topic's count and version and write the audit entry. Runs until its
    `items` (a queue of their own, seeded for it) are all decided."""
    pool = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size)
    assert pool is not None
    latencies: list[float] = []
    decided = 0
    conflicts = 0

    async def moderator(uid: int) -> None:
        nonlocal decided, conflicts
        rnd = random.Random(uid)
        while True:
            t0 = time.perf_counter()
            rows = await pool.fetch(QUEUE_SQL, items)
            if not rows:
                return
            free = [r["id"] for r in rows if r["claimed_by"] in (None, uid)]
            if not free:
                await asyncio.sleep(0.02)
                continue
            iid = rnd.choice(free)
            if await pool.fetchval(CLAIM_SQL, iid, uid) is None:
                conflicts += 1
                continue
            async with pool.acquire() as conn, conn.transaction():
                comment = await conn.fetchval(DECIDE_SQL, iid, uid)
                if comment is None:
                    conflicts += 1
                    continue
                topic = await conn.fetchval(PUBLISH_SQL, comment)
                await conn.execute("UPDATE topic SET comment_count = comment_count + 1, version = version + 1"
                                   " WHERE id = $1", topic)
                await conn.execute(AUDIT_SQL, uid, comment)
            decided += 1
            latencies.append(time.perf_counter() - t0)

    try:
        t_start = time.perf_counter()
        await asyncio.gather(*(moderator(u) for u in moderators))
        elapsed = time.perf_counter() - t_start
    finally:
        await pool.close()
    return {"rps": decided / elapsed if elapsed else 0.0, "p50_ms": _pct(latencies, 50),
            "p99_ms": _pct(latencies, 99), "errors": 0, "requests": decided, "conflicts": conflicts,
            "complete": decided == len(items)}
