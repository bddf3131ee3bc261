"""Scenario 13: what one comment costs PostgreSQL, on disk and in time.

- Bytes on disk: the comment table's heap, its TOAST table (and TOAST index) and each of its
  indexes, measured before and after posting `n` comments of 1 KB of Markdown through the
  API; the growth divided by `n`. Relations grow by whole 8 KB pages, so `n` is a few
  hundred (the rounding is under 1%).
- Time: the CPU time of all PostgreSQL processes over the posts (psutil, embedded server
  only), and which statements it went to. pg_stat_statements needs
  `shared_preload_libraries`, which the embedded server's bundled build does not ship; so,
  when the view is missing, the run turns `log_min_duration_statement = 0` on for the posts
  (ALTER SYSTEM + reload) and sums the logged durations (parse + bind + execute) per
  statement text from the server's log. Logging adds its own cost: the shares are what to
  read, the total CPU per post is measured separately with logging off.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from bench import client

SIZES_SQL = """
SELECT 'heap' AS part, pg_relation_size('comment'::regclass) AS bytes
UNION ALL
SELECT 'toast', coalesce(pg_total_relation_size(reltoastrelid), 0) FROM pg_class WHERE oid = 'comment'::regclass
UNION ALL
SELECT 'index ' || i.indexrelid::regclass::text, pg_relation_size(i.indexrelid)
  FROM pg_index i WHERE i.indrelid = 'comment'::regclass
"""


def one_kb_markdown(i: int) -> str:
    para = ("We talked about the curfew again tonight and I kept my voice low, as the coach "
            "suggested. My daughter *listened*, then asked for a **clear** plan. ")
    text = f"Evening {i}: what changed this week\n\n{para}\n\n- one calm question\n- one boundary\n\n{para}"
    while len(text.encode()) < 1000:
        text += "Small steps still count for our family. "
    return text[:1024]


def postgres_cpu(pgdata: Path) -> float | None:
    """CPU seconds used so far by the postmaster of `pgdata` and its children."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except (OSError, ValueError, psutil.Error):
        return None
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


async def sizes(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CHECKPOINT")
        return {r["part"]: r["bytes"] for r in await conn.fetch(SIZES_SQL)}
    finally:
        await conn.close()


async def gin_bytes(dsn: str, slug: str) -> dict[str, int]:
    """What each GIN index of `comment` holds for the comments of `slug`: the index built
    afresh, pending list off, over a copy of just those rows.

    Their growth over a run says nothing: new entries of a GIN index (fastupdate) first go to
    an unsorted pending list that autovacuum merges later, into pages freed by earlier
    merges, so the same 400 posts read anywhere from 0 to 2 KB per comment."""
    conn = await asyncpg.connect(dsn)
    try:
        topic = await conn.fetchval("SELECT id FROM topic WHERE slug = $1", slug)
        out: dict[str, int] = {}
        for r in await conn.fetch(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
                " WHERE am.amname = 'gin' AND i.indrelid = 'comment'::regclass"):
            # "(search_tsv) WHERE ...": the same keys and predicate, from the catalogue
            keys, _, where = r["def"].split(" USING gin ", 1)[1].partition(" WHERE ")
            async with conn.transaction():
                await conn.execute(f"CREATE TEMP TABLE cost_rows ON COMMIT DROP AS"
                                   f" SELECT * FROM comment WHERE topic = {int(topic)}")
                await conn.execute(f"CREATE INDEX cost_gin ON cost_rows USING gin {keys} WITH (fastupdate = off)"
                                   + (f" WHERE {where}" if where else ""))
                out[f"index {r['relname']}"] = await conn.fetchval("SELECT pg_relation_size('cost_gin')")
        return out
    finally:
        await conn.close()


async def post_comments(url: str, token: str, slug: str, n: int, first: int, concurrency: int = 8) -> int:
    """Post `n` comments (numbered from `first`), `concurrency` keep-alive clients; returns the 201s."""
    numbers = iter(range(first, first + n))
    created = 0

    async def worker() -> None:
        nonlocal created
        async with client.Client(url, {"Authorization": f"Bearer {token}"}) as c:
            for i in numbers:
                r = await c.request("POST", f"/api/topics/{slug}/comments", json_body={"body": one_kb_markdown(i)})
                created += r.status_code == 201

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return created


_DURATION = re.compile(r"duration: ([\d.]+) ms\s+(?:parse|bind|execute) [^:]*: (.*)$")


def statement_times(log_text: str) -> dict[str, float]:
    """Logged milliseconds per statement text (whitespace collapsed), parse + bind + execute."""
    out: dict[str, float] = {}
    lines = log_text.splitlines()
    for i, line in enumerate(lines):
        m = _DURATION.search(line)
        if not m:
            continue
        text = m.group(2)
        j = i + 1  # a statement's text goes on over the following lines until the next log line
        while j < len(lines) and not re.match(r"^\d{4}-\d\d-\d\d ", lines[j]):
            text += " " + lines[j].strip()
            j += 1
        key = " ".join(text.split())
        out[key] = out.get(key, 0.0) + float(m.group(1))
    return out


async def _set_logging(dsn: str, on: bool) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        if on:
            await conn.execute("ALTER SYSTEM SET log_min_duration_statement = 0")
        else:
            await conn.execute("ALTER SYSTEM RESET log_min_duration_statement")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()
    await asyncio.sleep(0.3)  # the reload reaches the backends at their next command


def measure(dsn: str, pgdata: Path | None, url: str, token: str, slug: str, n: int = 400) -> dict[str, Any]:
    before = asyncio.run(sizes(dsn))
    cpu0 = postgres_cpu(pgdata) if pgdata else None
    t0 = time.perf_counter()
    created = asyncio.run(post_comments(url, token, slug, n, 0))
    elapsed = time.perf_counter() - t0
    cpu1 = postgres_cpu(pgdata) if pgdata else None
    after = asyncio.run(sizes(dsn))
    growth = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    growth.update(asyncio.run(gin_bytes(dsn, slug)))  # the topic holds only this run's posts
    result: dict[str, Any] = {"created": created, "elapsed": elapsed, "growth": growth,
                              "bytes_per_comment": sum(growth.values()) / created if created else None,
                              "body_bytes": len(one_kb_markdown(0).encode()),
                              "pg_cpu_ms_per_post": (cpu1 - cpu0) / created * 1000
                              if created and cpu0 is not None and cpu1 is not None else None,
                              "statements": {}}
    log = pgdata / "log" if pgdata else None
    if log is None or not log.exists():
        return result
    offset = log.stat().st_size
    asyncio.run(_set_logging(dsn, True))
    try:
        logged = asyncio.run(post_comments(url, token, slug, n // 2, n))
    finally:
        asyncio.run(_set_logging(dsn, False))
    with open(log, "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    times = statement_times(text)
    if logged:
        result["statements"] = {k: v / logged for k, v in sorted(times.items(), key=lambda kv: -kv[1])}
        result["logged_posts"] = logged
    return result
