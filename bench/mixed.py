"""Scenario 9 (issue 19): a busy article, mixed, on two server processes.

On one topic (`bench-busy`, seeded with 200 comments), all at once and for
`duration()` seconds, through two `forum serve` processes on one database:

- **Readers**: 200 of them over 100 connections, half on each server (`bench/wrk/busy.lua`,
  one wrk process per server): 80% anonymous, 20% signed in with their own token; every
  third reader sends back the last ETag it was sent (`If-None-Match`), as a browser does;
  every fourth reads the newest comments first (`?sort=newest`), the others the default
  order. Every reader sends `Accept-Encoding: gzip, deflate, br, zstd`, as browsers do: the
  anonymous ones get the public page gzip-compressed (made once per page version), the
  signed-in ones their page as it is. wrk runs as fast as the servers answer (closed
  loop): the reader rate is what is left of two cores once everything else has had its
  share.
- **Writers**: 50 posts a second on a fixed schedule (open loop: post k is sent at
  t0 + k/50 s whether or not earlier ones were answered; its latency counts from that
  moment, so a late generator or a slow server both show). Even posts go to server A, odd
  ones to B. Half are replies (to one of the 20 newest published roots), half new roots.
  Nine posts in ten are by 20 trusted writers (published at once); one in ten by a new
  reader (no published comment yet: the policy holds it, `new_author`), each new reader
  posting once.
- **The next read**: after each acknowledged POST its writer reads, through the OTHER
  server, page 1 of the thread in newest order (a new root is its first item; a reply's
  root is one of the 20 newest) and looks for the comment: as themselves for a held post
  (only they see it), and for every other published post, anonymously for the rest (the
  shared page). Not there: a context read (`GET /api/comments/{id}/context?sort=newest`, the
  same viewer, same server) says where it is; if that is a later page (more than 50 roots
  came in between), that page is read and the comment counts as seen there (a page that
  does not carry even the comment's root moved meanwhile: asked again, up to 3 times);
  page 1 by the context read, or its root's page without it, is a miss.
- **Moderators**: 4 (two per server) loop: read the pending queue, claim a free item of
  this topic, approve it (a 409 is another moderator's claim, as documented, not an error).
  Each approval publishes a comment, which changes the thread for everyone.

Targets: read p99 < 100 ms (the worse of the two servers' p99), no errors (any answer but
2xx/304, except the moderators' documented 409s), every acknowledged post in the next read
from the other server, posting p99 < 250 ms.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx

from bench import client, moderators
from bench.server import Server, run_wrk

if TYPE_CHECKING:
    from bench.run import Context

SLUG = "bench-busy"
READERS = 200
READER_CONNECTIONS = 100
SIGNED_IN = 40  # 20% of the readers
COND_EVERY = 3  # every third reader keeps and sends back its ETag
NEWEST_EVERY = 4  # every fourth reader reads ?sort=newest
POSTS_PER_S = 50.0
HELD_EVERY = 10  # one post in ten is by a new reader: held for a moderator
RECENT_ROOTS = 20
MODERATORS = 4
READ_P99_MS = 100.0
POST_P99_MS = 250.0

THREAD_PATH = f"/api/topics/{SLUG}/comments"


def duration(ctx: Context) -> float:
    """~20 s of mixed load by default (ctx.duration 10), 10 s with --quick."""
    return max(10.0, 2 * ctx.duration)


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))] * 1000


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class Pool:
    """Idle keep-alive connections per (server, token): an open-loop writer whose previous
    request is still out takes another connection instead of waiting for it."""

    def __init__(self) -> None:
        self.idle: dict[tuple[str, str | None], list[client.Client]] = {}
        self.opened = 0

    async def request(self, base: str, token: str | None, method: str, path: str, **kw: Any) -> client.Reply:
        free = self.idle.setdefault((base, token), [])
        if free:
            c = free.pop()
        else:
            c = client.Client(base, _auth(token))
            self.opened += 1
        try:
            r = await c.request(method, path, **kw)
        except BaseException:
            await c.__aexit__()
            raise
        free.append(c)
        return r

    async def close(self) -> None:
        for conns in self.idle.values():
            for c in conns:
                await c.__aexit__()
        self.idle.clear()


@dataclass
class Tally:
    post_latency: list[float] = field(default_factory=list)  # from the scheduled moment
    lag: list[float] = field(default_factory=list)  # how late the generator sent each post
    verify_latency: list[float] = field(default_factory=list)
    acked: int = 0
    held: int = 0
    seen: int = 0
    seen_later_page: int = 0
    misses: list[str] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    desk: moderators.Desk = field(default_factory=moderators.Desk)  # the 4 moderators

    def error(self, what: str, into: dict[str, int] | None = None) -> None:
        d = self.errors if into is None else into
        d[what] = d.get(what, 0) + 1


def _body(k: int, run: str) -> str:
    lines = [
        "Thank you for this article. We tried the *calm voice* idea at dinner and it helped.",
        "Our daughter finally talked about her week; I mostly **listened**.",
        "One thing I would add: take care of yourself too, see [the support page](https://example.org/support).",
        "> Progress, not perfection.",
        "It is hard some days, and reading the others here helps more than I can say.",
    ]
    rnd = random.Random(k)
    picked = rnd.sample(lines, 3)
    return "\n\n".join(picked) + f"\n\npost {run}-{k}"


def _marker(comment_id: int) -> bytes:
    return b'{"id":%d,"topic_slug"' % comment_id


async def _drive(ctx: Context, a: Server, b: Server, length: float, tally: Tally) -> None:
    seeded = ctx.seeded
    servers = (a.url, b.url)
    pool = Pool()
    run_id = secrets.token_hex(3)
    recent: deque[int] = deque(maxlen=RECENT_ROOTS)
    new_readers = iter(seeded.busy_new)
    rnd = random.Random(9)
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.2
    n_posts = int(length * POSTS_PER_S)
    deadline = t0 + length

    async def verify(k: int, other: str, token: str | None, cid: int) -> None:
        t = time.perf_counter()
        r = await pool.request(other, token, "GET", THREAD_PATH, params={"sort": "newest"})
        tally.verify_latency.append(time.perf_counter() - t)
        if r.status_code != 200:
            tally.error(f"next read {r.status_code}")
            tally.misses.append(f"post {k} (comment {cid}): next read answered {r.status_code}")
            return
        if _marker(cid) in r.body:
            tally.seen += 1
            return
        # Not on page 1: where is it? Roots are ordered by their transaction's start time, so a
        # post that commits late can land behind newer ones and move a page between the context
        # read and the page read: a page that does not even carry the comment's root is asked
        # again (up to 3 times). A page that carries the root but not the reply is a miss.
        for _attempt in range(3):
            c = await pool.request(other, token, "GET", f"/api/comments/{cid}/context", params={"sort": "newest"})
            if c.status_code != 200:
                if c.status_code != 404:
                    tally.error(f"context read {c.status_code}")
                tally.misses.append(f"post {k} (comment {cid}): not in page 1; context {c.status_code}")
                return
            where = c.json()
            if not where.get("cursor"):
                tally.misses.append(f"post {k} (comment {cid}): not in page 1, where the context read puts it")
                return
            p = await pool.request(other, token, "GET", THREAD_PATH,
                                   params={"sort": "newest", "cursor": where["cursor"]})
            if p.status_code != 200:
                tally.error(f"next read {p.status_code}")
                tally.misses.append(f"post {k} (comment {cid}): page {where.get('page')} answered {p.status_code}")
                return
            if _marker(cid) in p.body:
                tally.seen += 1
                tally.seen_later_page += 1
                return
            root = where.get("root_id")
            if root is not None and _marker(root) in p.body:
                break  # its root is there, the comment is not
        tally.misses.append(f"post {k} (comment {cid}, root {where.get('root_id')}): not on page"
                            f" {where.get('page')} where the context read puts it")

    async def post(k: int) -> None:
        when = t0 + k / POSTS_PER_S
        await asyncio.sleep(max(0.0, when - loop.time()))
        tally.lag.append(max(0.0, loop.time() - when))
        here, other = servers[k % 2], servers[1 - k % 2]
        held = k % HELD_EVERY == HELD_EVERY // 2
        handle = next(new_readers, None) if held else seeded.busy_writers[k % len(seeded.busy_writers)]
        if handle is None:
            tally.error("ran out of new readers (seed more)")
            return
        token = seeded.tokens[handle]
        doc: dict[str, Any] = {"body": _body(k, run_id)}
        if k % 2 == 1 and recent:
            doc["parent_id"] = rnd.choice(list(recent))
        try:
            r = await pool.request(here, token, "POST", THREAD_PATH, json_body=doc)
        except (OSError, asyncio.IncompleteReadError) as exc:
            tally.error(f"post {type(exc).__name__}")
            return
        tally.post_latency.append(loop.time() - when)
        if r.status_code != 201:
            tally.error(f"post {r.status_code}")
            return
        data = r.json()
        cid = data["id"]
        tally.acked += 1
        pending = data.get("status") == "pending"
        tally.held += pending
        if "parent_id" not in doc and not pending:
            recent.append(cid)
        # held posts only their writer sees; published ones alternately as the writer and anonymously
        as_writer = pending or (k // 2) % 2 == 0
        try:
            await verify(k, other, token if as_writer else None, cid)
        except (OSError, asyncio.IncompleteReadError) as exc:
            tally.error(f"next read {type(exc).__name__}")
            tally.misses.append(f"post {k} (comment {cid}): {type(exc).__name__}")

    def moderator(handle: str, base: str) -> Any:
        return moderators.work(tally.desk, base, seeded.tokens[handle], seeded.users[handle],
                               until=lambda: loop.time() >= deadline,
                               wanted=lambda i: (i.get("comment") or {}).get("topic_slug") == SLUG,
                               idle_s=0.25, stop_when_empty=False)

    mods = [moderator(h, servers[i % 2]) for i, h in enumerate(seeded.moderators[:MODERATORS])]
    try:
        await asyncio.gather(*(post(k) for k in range(n_posts)), *mods)
    finally:
        await pool.close()


async def _queue_first(dsn: str) -> int:
    """Open pending items elsewhere (scenario 5's, when it did not run first) go behind this
    topic's: the queue is oldest first, and its moderators look only at this topic."""
    conn = await asyncpg.connect(dsn)
    try:
        status = await conn.execute(
            "UPDATE moderation_item m SET created_at = now() + interval '1 day' FROM comment c"
            " WHERE m.comment = c.id AND m.status = 'open' AND m.queue = 'pending'"
            "   AND c.topic <> (SELECT id FROM topic WHERE slug = $1)", SLUG)
        return int(status.split()[-1])
    finally:
        await conn.close()


def _readers(ctx: Context, srv: Server, tokens: list[str], anon: int, length: float) -> dict[str, Any]:
    env = {"BENCH_TOKENS": ",".join(tokens), "BENCH_ANON": str(anon), "BENCH_COND_EVERY": str(COND_EVERY),
           "BENCH_NEWEST_EVERY": str(NEWEST_EVERY)}
    w = run_wrk(srv.url + THREAD_PATH, duration=length, connections=READER_CONNECTIONS // 2, threads=1,
                script="busy.lua", env=env)
    m = re.search(r"busy: 200 (\d+), 304 (\d+), other (\d+), gzip (\d+), bytes (\d+)", w["raw"])
    w["n200"], w["n304"], w["nother"], w["gzip200"], w["bytes200"] = \
        (int(g) for g in m.groups()) if m else (0, 0, 0, 0, 0)
    return w


def scenario_9(ctx: Context) -> None:
    from bench.run import CLAIM, DECIDE, POST, QUEUE, THREAD, Row, _stopped, py_spy

    names = ("9 busy article: reads, 200 readers / 100 conn, 2 servers",
             "9 busy article: posts, 50/s scheduled, 2 servers",
             "9 busy article: moderation, 4 moderators",
             "9 busy article: acknowledged post in the next read, other server")
    missing = [f"{m} {p}" for m, p in (THREAD, POST, QUEUE, CLAIM, DECIDE) if not ctx.has((m, p))]
    if not ctx.has(("GET", "/api/comments/{}/context")):
        missing.append("GET /api/comments/{id}/context")
    if missing or not ctx.seeded.busy_writers:
        why = "missing " + ", ".join(missing) if missing else "the seed has no bench-busy writers"
        ctx.rows.extend(Row.unavailable(n, why) for n in names)
        return
    length = duration(ctx)
    moved = asyncio.run(_queue_first(ctx.dsn))
    if moved:
        ctx.notes.append(f"scenario 9: {moved} open pending items of other topics put behind bench-busy's")
    tokens = [ctx.seeded.tokens[h] for h in ctx.seeded.viewers[:SIGNED_IN]]
    half_tokens = (tokens[::2], tokens[1::2])
    anon_each = (READERS - SIGNED_IN) // 2
    a, b = ctx.server().start(), None
    try:
        b = ctx.server().start()
        for srv in (a, b):  # a first page in each process, and a short warm-up of the readers
            httpx.get(srv.url + THREAD_PATH, timeout=10).raise_for_status()

        async def warm() -> None:
            await asyncio.gather(*(asyncio.to_thread(_readers, ctx, srv, half_tokens[i], anon_each, 1)
                                   for i, srv in enumerate((a, b))))

        asyncio.run(warm())
        tally = Tally()

        async def everything() -> list[dict[str, Any]]:
            readers = [asyncio.to_thread(_readers, ctx, srv, half_tokens[i], anon_each, length)
                       for i, srv in enumerate((a, b))]
            results = await asyncio.gather(*readers, _drive(ctx, a, b, length, tally))
            return [r for r in results if isinstance(r, dict)]

        load_before = _loadavg()
        if "9" in ctx.args.profile:
            with py_spy(ctx, "9", a):
                reads = asyncio.run(everything())
        else:
            reads = asyncio.run(everything())
        load_after = _loadavg()
    finally:
        _stopped(ctx, a)
        if b is not None:
            _stopped(ctx, b)
    _rows(ctx, Row, names, reads, tally, length, (load_before, load_after))


def _loadavg() -> float:
    return os.getloadavg()[0]


def _rows(ctx: Context, Row: Any, names: tuple[str, ...], reads: list[dict[str, Any]], tally: Tally,
          length: float, load: tuple[float, float]) -> None:
    rps = sum(w["rps"] for w in reads)
    p50s = [w["p50_ms"] for w in reads if w["p50_ms"] is not None]
    p99s = [w["p99_ms"] for w in reads if w["p99_ms"] is not None]
    p50 = sum(p50s) / len(p50s) if p50s else None
    p99 = max(p99s) if p99s else None
    read_errors = sum(w["errors"] for w in reads)
    n200, n304 = sum(w["n200"] for w in reads), sum(w["n304"] for w in reads)
    gzip200, bytes200 = sum(w["gzip200"] for w in reads), sum(w["bytes200"] for w in reads)
    sent = f" ({gzip200:,} gzip-compressed; {bytes200 / n200 / 1024:.1f} KB per 200 as sent)" if n200 else ""
    per = ", ".join(f"server {'AB'[i]} {w['rps']:,.0f}/s p99 {w['p99_ms'] or 0:.0f} ms" for i, w in enumerate(reads))
    ctx.rows.append(Row(names[0], rps, p50, p99, read_errors, target=f"p99<{READ_P99_MS:.0f}ms, 0 err",
                        passed=p99 is not None and p99 < READ_P99_MS and read_errors == 0 and len(reads) == 2,
                        note=f"{per}; {n200:,} 200s{sent}, {n304:,} 304s; {length:.0f} s;"
                             f" load average {load[0]:.2f} before, {load[1]:.2f} after"))
    scheduled = int(length * POSTS_PER_S)
    post_rate = tally.acked / length
    post_p99 = _pct(tally.post_latency, 99)
    post_errors = sum(v for k, v in tally.errors.items() if k.startswith("post") or k.startswith("ran out"))
    lag99 = _pct(tally.lag, 99)
    ctx.rows.append(Row(names[1], post_rate, _pct(tally.post_latency, 50), post_p99, post_errors,
                        ratio=f"{tally.acked}/{scheduled} scheduled",
                        target=f"p99<{POST_P99_MS:.0f}ms, 0 err",
                        passed=(post_p99 is not None and post_p99 < POST_P99_MS and post_errors == 0
                                and tally.acked == scheduled),
                        note=f"{tally.held} held for moderation (new readers); latency from the scheduled moment;"
                             f" generator lag p99 {lag99 or 0:.1f} ms"))
    desk = tally.desk
    decisions = len(desk.decided)
    twice = sum(1 for n in desk.decided.values() if n > 1)
    mod_errors = sum(desk.unexpected.values())
    ctx.rows.append(Row(names[2], decisions / length, _pct(desk.latencies, 50), _pct(desk.latencies, 99),
                        mod_errors, target="0 err (409s of competing moderators allowed), none twice",
                        passed=mod_errors == 0 and twice == 0 and decisions > 0,
                        note=f"{decisions} approved of {tally.held} held, {twice} twice, {desk.conflicts} 409s,"
                             f" {desk.reads} queue reads"
                             + (f"; unexpected {desk.unexpected}" if desk.unexpected else "")))
    verify_errors = sum(v for k, v in tally.errors.items() if not (k.startswith("post") or k.startswith("ran out")))
    note = (f"newest page 1 read from the other server (as the writer for held posts and every other published"
            f" one, else anonymously); {tally.seen_later_page} found through a context read on a later page;"
            f" read p99 {_pct(tally.verify_latency, 99) or 0:.0f} ms")
    if tally.misses:
        note += "; misses: " + "; ".join(tally.misses[:3])
    ctx.rows.append(Row(names[3], ratio=f"{tally.seen}/{tally.acked}", errors=verify_errors,
                        target="all seen, 0 err",
                        passed=tally.acked > 0 and tally.seen == tally.acked and not tally.misses
                        and verify_errors == 0, note=note))
