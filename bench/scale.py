"""Scenario 11 (issue 19): a grown community, on the 1,000,000-comment dataset of
bench/bigseed.py, with its own embedded PostgreSQL and server.

Rows: search (common one- and two-word queries, 10 connections, p95 < 50 ms), a user's
public profile and the moderators' view of a user with their history (heavy accounts
included, p99 < 50 ms), the moderation queue's first page with 100,000 pending items
(p99 < 50 ms), decisions against the raw baseline of scenario 5 on the same database
(`run.DECIDE_RATIO`), and the database's size with each index's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import asyncpg
import httpx

from bench import baseline, bigseed, moderators
from bench.server import BENCH_DIR, Server, run_wrk

if TYPE_CHECKING:
    from bench.run import Context

CONNECTIONS = 10  # search and public profiles
STAFF_CONNECTIONS = 8  # the moderators' routes: a team of 8, as in scenario 5
SEARCH_LIMIT = 20  # hits per page, as a search page shows them
TARGET_MS = 50.0
DECISIONS = 2_000  # decided by the moderators through the server (of the 100,000 pending)
# Common words of the seed's vocabulary (bench.seed.WORDS are its most frequent words).
QUERIES = ("family", "support", "hope", "trust", "week", "listen", "calm", "progress", "family support",
           "hope trust", "listen calm", "week progress", "support together", "trust patience")
SIZES_SQL = """
SELECT c.relname AS name, t.relname AS table_name, pg_relation_size(c.oid) AS bytes
  FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname = 'public'
 ORDER BY pg_relation_size(c.oid) DESC
"""


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


async def sizes(dsn: str) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        db = await conn.fetchval("SELECT pg_database_size(current_database())")
        heap = await conn.fetchval("SELECT pg_table_size('comment')")
        rows = await conn.fetch(SIZES_SQL)
    finally:
        await conn.close()
    return {"database": db, "comment_table": heap, "indexes": [(r["name"], r["table_name"], r["bytes"]) for r in rows]}


def _load(srv: Server, paths: list[str], duration: float, token: str | None = None,
          connections: int = CONNECTIONS) -> dict[str, Any]:
    env = {"BENCH_PATHS": " ".join(paths), "BENCH_AUTH": token or ""}
    run_wrk(srv.url + "/", duration=1, connections=connections, script="paths.lua", env=env)  # warm-up
    w = run_wrk(srv.url + "/", duration=duration, connections=connections, script="paths.lua", env=env)
    m = re.search(r"p95_us (\d+)", w["raw"])
    w["p95_ms"] = int(m.group(1)) / 1000 if m else None
    return w


def _row(name: str, w: dict[str, Any], pct: str, target: str, probe_ok: bool, note: str) -> Any:
    from bench.run import Row

    value = w["p95_ms"] if pct == "p95" else w["p99_ms"]
    ok = probe_ok and value is not None and value < TARGET_MS and w["errors"] == 0
    return Row.from_wrk(name, w, ratio=f"{pct} {value:.1f} ms" if value is not None else "", target=target,
                        passed=ok, note=note)


def scenario_11(ctx: Context) -> None:
    from bench.run import DECIDE_RATIO, Row, _moderate, _stopped

    t0 = time.perf_counter()
    dsn, embedded, big = bigseed.ensure(ctx.data_dir, BENCH_DIR.parent, ctx.args)
    ready = time.perf_counter() - t0
    how = f"seeded in {big.seconds:.0f}s" if ready >= big.seconds else "saved seed restored"
    try:
        size = asyncio.run(sizes(dsn))
        srv = Server(dsn, ctx.data_dir / "big", ctx.secret).start()
        try:
            _measure(ctx, srv, dsn, big)
            # decisions: the scenario-5 baseline on the big database's own oldest items, then
            # 8 moderators through the server on the next ones
            name = f"11 decisions, 8 moderators, {big.counts.get('pending', 0):,} pending"
            target = f">={DECIDE_RATIO:.2f}x baseline 11, none twice"
            mods = [big.users[h] for h in big.moderators]
            base = asyncio.run(baseline.run_decide_baseline(dsn, mods, big.base_item_ids))
            ctx.rows.append(Row("baseline 11: queue read + claim + decide, raw asyncpg, 8 tasks", base["rps"],
                                base["p50_ms"], base["p99_ms"], 0 if base["complete"] else 1, ratio="1.00x",
                                note=f"{base['requests']} items decided, {base['conflicts']} lost claims"))
            since = datetime.now(UTC)
            big_ctx = dataclasses.replace(ctx, dsn=dsn, seeded=big, rows=[], notes=[])  # type: ignore[arg-type]
            res = asyncio.run(_moderate(big_ctx, srv, stop_after=DECISIONS))
            decided = res["decided"]
            twice = sum(1 for n in decided.values() if n > 1)
            ok_sql, sql_note = asyncio.run(_verify(dsn, since, list(decided)))
            rate = len(decided) / res["elapsed"] if res["elapsed"] else 0.0
            ratio = rate / base["rps"] if base["rps"] else 0.0
            errors = sum(res["unexpected"].values())
            ok = ok_sql and twice == 0 and len(decided) >= DECISIONS and ratio >= DECIDE_RATIO and errors == 0
            ctx.rows.append(Row(name, rate, res["p50"], res["p99"], errors, ratio=f"{ratio:.2f}x baseline 11",
                                target=target, passed=ok,
                                note=f"{rate:,.0f} decisions/s vs baseline {base['rps']:,.0f}/s; {len(decided)}"
                                     f" decided, {twice} twice, {res['conflicts']} 409s; {sql_note}"
                                     + (f"; unexpected {res['unexpected']}" if res["unexpected"] else "")))
        finally:
            _stopped(ctx, srv)
        idx = ", ".join(f"{n} {_mb(b)}" for n, t, b in size["indexes"] if b >= 1_000_000)
        note = (f"database {_mb(size['database'])} (comment table with TOAST {_mb(size['comment_table'])});"
                f" indexes over 1 MB: {idx}; {how}, ready in {ready:.0f}s")
        ctx.rows.append(Row("11 size: 1,000,000 comments, 20,000 topics, 50,000 accounts", note=note))
        ctx.notes.append("scenario 11 index sizes: " + ", ".join(f"{n} ({t}) {b:,} B" for n, t, b in size["indexes"]))
    finally:
        if embedded is not None:
            embedded.stop()


def _measure(ctx: Context, srv: Server, dsn: str, big: bigseed.BigSeeded) -> None:
    mod_token = big.tokens[big.moderators[0]]
    # search: the probe checks a common word finds comments
    paths = [f"/api/search?q={quote(q)}&limit={SEARCH_LIMIT}" for q in QUERIES]
    r = httpx.get(srv.url + paths[0], timeout=60)
    items = r.json().get("items", []) if r.status_code == 200 else []
    # topics whose title holds the word rank first, so a page of them may come before any
    # comment: the probe follows the cursor until a comment is found (at most 200 hits)
    page, comment_page, pages = r, None, 1
    while page.status_code == 200 and comment_page is None and pages <= 200 // SEARCH_LIMIT + 1:
        if any(i.get("kind") == "comment" for i in page.json().get("items", [])):
            comment_page = pages
            break
        cursor = page.json().get("next_cursor")
        if not cursor:
            break
        # (httpx's `params` would replace the path's own query string, not add to it)
        page = httpx.get(f"{srv.url}{paths[0]}&cursor={quote(cursor)}", timeout=60)
        pages += 1
    probe = r.status_code == 200 and len(items) == SEARCH_LIMIT and comment_page is not None
    w = _load(srv, paths, ctx.duration)
    ctx.rows.append(_row(f"11 search, {len(QUERIES)} common 1-2 word queries, {SEARCH_LIMIT} hits, {CONNECTIONS} conn",
                         w, "p95",
                         f"p95<{TARGET_MS:.0f}ms, 0 err", probe,
                         f"probe: {len(items)} hits for {QUERIES[0]!r}, the first comment on page {comment_page};"
                         f" queries: {', '.join(QUERIES)}"))
    # profiles: the heavy accounts and ordinary readers
    ids = [big.users[h] for h in big.heavy + big.readers]
    r = httpx.get(f"{srv.url}/api/users/{ids[0]}", timeout=30)
    w = _load(srv, [f"/api/users/{i}" for i in ids], ctx.duration)
    ctx.rows.append(_row(f"11 profile GET /api/users/{{id}}, {CONNECTIONS} conn", w, "p99",
                         f"p99<{TARGET_MS:.0f}ms, 0 err", r.status_code == 200,
                         f"{len(big.heavy)} accounts with {bigseed.HEAVY_COMMENTS:,} comments and"
                         f" {len(big.readers)} readers"))
    # history: the moderators' view of a person (counts by status, flags, 20 latest comments)
    r = httpx.get(f"{srv.url}/api/moderation/users/{ids[0]}", headers={"Authorization": f"Bearer {mod_token}"},
                  timeout=30)
    recent = len(r.json().get("recent_comments", [])) if r.status_code == 200 else 0
    w = _load(srv, [f"/api/moderation/users/{i}" for i in ids], ctx.duration, token=mod_token,
              connections=STAFF_CONNECTIONS)
    ctx.rows.append(_row(f"11 history GET /api/moderation/users/{{id}}, {STAFF_CONNECTIONS} conn", w, "p99",
                         f"p99<{TARGET_MS:.0f}ms, 0 err", recent == 20,
                         f"counts and 20 latest comments; probe: {recent} recent comments of a heavy account"))
    # the queue: its first page (the oldest open items) and a page deep in it
    r = httpx.get(f"{srv.url}/api/moderation/queue?queue=pending&limit=20",
                  headers={"Authorization": f"Bearer {mod_token}"}, timeout=30)
    first = r.json().get("items", []) if r.status_code == 200 else []
    probe = len(first) == 20 and first[0].get("id") == big.base_item_ids[0]
    w = _load(srv, ["/api/moderation/queue?queue=pending&limit=20"], ctx.duration, token=mod_token,
              connections=STAFF_CONNECTIONS)
    ctx.rows.append(_row(f"11 queue page, {big.counts.get('pending', 0):,} pending, {STAFF_CONNECTIONS} conn", w,
                         "p99",
                         f"p99<{TARGET_MS:.0f}ms, 0 err", probe,
                         f"probe: 20 items, oldest first {probe}"))


async def _verify(dsn: str, since: datetime, ids: list[int]) -> tuple[bool, str]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE m.status = 'decided' AND m.decision = 'approve') AS decided,"
            "       count(*) FILTER (WHERE c.status = 'published') AS published"
            "  FROM moderation_item m JOIN comment c ON c.id = m.comment WHERE m.id = ANY($1::bigint[])", ids)
        dup = await moderators.audited_twice(conn, since)
    finally:
        await conn.close()
    ok = row["decided"] == len(ids) and row["published"] == len(ids) and dup == 0
    return ok, f"SQL: {row['decided']}/{len(ids)} decided, {row['published']} published, {dup} audited twice"

