"""`python -m bench`: seed, serve, load, compare with the baseline, print one table.

See bench/README.md. Scenarios whose endpoints are missing from the server's OpenAPI
document are reported as "not available" instead of failing the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import baseline, bigseed, cost, live, mixed, moderators, render, scale, seed, transfer
from bench.server import BENCH_DIR, Server, run_wrk

ALL = ("health", "1", "2", "3", "4", "5", "6", "7", "8", "13", "workers2", "two-servers", "9", "10", "11", "12",
       "render")
RENDER_RUNS = 15
CONNECTIONS = 50
POST_CONNECTIONS = 16
# Scenarios 4 and 5 are judged against raw asyncpg loops measured in the same run (issue 19:
# absolute rates failed on a slower machine where nothing had regressed). Each target is at or
# above the ratio a quiet run reached (see bench/README.md).
POST_RATIO = 0.48
DECIDE_RATIO = 0.35

THREAD = ("GET", "/api/topics/{}/comments")
POST = ("POST", "/api/topics/{}/comments")
QUEUE = ("GET", "/api/moderation/queue")
CLAIM = ("POST", "/api/moderation/items/{}/claim")
DECIDE = ("POST", "/api/moderation/items/{}/decision")
RULES_GET = ("GET", "/api/moderation/rules")
RULES_PUT = ("PUT", "/api/moderation/rules")


@dataclass
class Row:
    scenario: str
    rps: float | None = None
    p50: float | None = None
    p99: float | None = None
    errors: int | None = None
    ratio: str = ""
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @classmethod
    def unavailable(cls, scenario: str, why: str, target: str = "") -> Row:
        return cls(scenario, target=target, note=f"not available: {why}")

    @classmethod
    def from_wrk(cls, scenario: str, w: dict[str, Any], **kw: Any) -> Row:
        return cls(scenario, w["rps"], w["p50_ms"], w["p99_ms"], w["errors"], **kw)


@dataclass
class Context:
    args: argparse.Namespace
    dsn: str
    data_dir: Path
    secret: str
    seeded: seed.Seeded
    duration: float
    rows: list[Row] = field(default_factory=list)
    base: dict[str, Any] | None = None
    routes: set[tuple[str, str]] = field(default_factory=set)
    s1_rps: float | None = None
    notes: list[str] = field(default_factory=list)

    def wanted(self, name: str) -> bool:
        return name in self.args.only

    def server(self, workers: int = 1) -> Server:
        return Server(self.dsn, self.data_dir, self.secret, workers=workers)

    def has(self, route: tuple[str, str]) -> bool:
        return route in self.routes


# ---------------------------------------------------------------- helpers


def _norm(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def fetch_routes(url: str) -> set[tuple[str, str]]:
    try:
        doc = httpx.get(url + "/schema/openapi.json", timeout=10).json()
    except (httpx.HTTPError, ValueError):
        return set()
    return {(m.upper(), _norm(p)) for p, ops in doc.get("paths", {}).items() for m in ops
            if m.lower() in ("get", "post", "put", "patch", "delete")}


def two_kb_markdown() -> str:
    para = ("When my son came home late again I tried the *pause and name it* approach from the "
            "article: I said what I saw, not what I feared, and waited. It was **hard** to stay quiet. ")
    parts = ["## What worked for us this week", "", para * 2, "",
             "Three things I want to remember:", "",
             "1. Ask one open question, then *listen*.",
             "2. Keep the boundary about the car keys, calmly.",
             "3. Take care of myself too; see [the support page](https://example.org/support).", "",
             "> Progress, not perfection, as our coach keeps saying.", "",
             "A snippet from our family plan: `check in at 9pm`.", "", para * 3, "",
             "More in [part two](https://example.org/part-two) of the series.", ""]
    text = "\n".join(parts)
    filler = "We are learning together, one conversation at a time. "
    while len(text.encode()) < 2000:
        text += filler
    return text[:2048]


def _find_id(node: Any, wanted: int) -> bool:
    if isinstance(node, dict):
        if node.get("id") == wanted:
            return True
        return any(_find_id(v, wanted) for v in node.values())
    if isinstance(node, list):
        return any(_find_id(v, wanted) for v in node)
    return False


def thread_url(srv: Server, slug: str) -> str:
    return f"{srv.url}/api/topics/{slug}/comments"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wrk(ctx: Context, url: str, *, profile: tuple[str, Server] | None = None, **kw: Any) -> dict[str, Any]:
    warm = min(1.0, ctx.duration / 4)
    if warm >= 0.5 and kw.get("script", "get.lua") == "get.lua":
        run_wrk(url, duration=1, **kw)  # warm-up (connections, caches); not counted
    if profile is not None and profile[0] in ctx.args.profile:
        with py_spy(ctx, profile[0], profile[1]):
            return run_wrk(url, duration=ctx.duration, **kw)
    return run_wrk(url, duration=ctx.duration, **kw)


@contextmanager
def py_spy(ctx: Context, name: str, srv: Server) -> Iterator[None]:
    """Sample the serving process with py-spy while the load runs: a flame graph (SVG) and a
    text summary (own time and total time per function) in the data folder."""
    exe = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    pids = srv.worker_pids()
    if exe is None or not pids:
        ctx.notes.append(f"profile {name}: py-spy not installed or no worker found")
        yield
        return
    raw = ctx.data_dir / f"profile-{name}.txt"
    svg = ctx.data_dir / f"profile-{name}.svg"
    secs = str(max(1, int(ctx.duration)))
    procs = [subprocess.Popen([exe, "record", "-p", str(pids[0]), "-d", secs, "-r", "250", "-f", fmt, "-o", str(out)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for fmt, out in (("raw", raw), ("flamegraph", svg))]
    try:
        yield
    finally:
        for p in procs:
            try:
                p.wait(ctx.duration + 30)
            except subprocess.TimeoutExpired:
                p.kill()
    if raw.exists():
        summary = summarize_profile(raw)
        (ctx.data_dir / f"profile-{name}-summary.txt").write_text(summary)
        ctx.notes.append(f"profile {name}: {svg} and {raw} (summary: profile-{name}-summary.txt)")
        print(f"--- profile of scenario {name}\n{summary}", file=sys.stderr)


def summarize_profile(raw: Path, top: int = 25) -> str:
    """From py-spy's collapsed stacks: the functions with the most own and total samples."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    n = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        c = int(count)
        n += c
        frames = stack.split(";")
        seen = set()
        for f in frames:
            key = re.sub(r":\d+\)", ")", f)  # one row per function, not per line
            if key not in seen:
                total[key] = total.get(key, 0) + c
                seen.add(key)
        leaf = re.sub(r":\d+\)", ")", frames[-1])
        own[leaf] = own.get(leaf, 0) + c
    if not n:
        return "no samples"
    lines = [f"{n} samples", "", "own time:"]
    lines += [f"  {v / n * 100:5.1f}%  {k}" for k, v in sorted(own.items(), key=lambda kv: -kv[1])[:top]]
    lines += ["", "total time (self + callees):"]
    lines += [f"  {v / n * 100:5.1f}%  {k}" for k, v in sorted(total.items(), key=lambda kv: -kv[1])[:top * 2]]
    return "\n".join(lines)


# ---------------------------------------------------------------- scenarios


def scenario_health(ctx: Context, srv: Server) -> None:
    w = wrk(ctx, srv.url + "/health", connections=CONNECTIONS, profile=("health", srv))
    ctx.rows.append(Row.from_wrk("0 GET /health (framework + SELECT 1)", w, note="reference, no target"))


def scenario_1(ctx: Context, srv: Server) -> None:
    name = "1 hot thread read, 200 comments, anon, 50 conn"
    target = ">=1.0x baseline, p99<50ms, 0 err"
    if not ctx.has(THREAD):
        ctx.rows.append(Row.unavailable(name, "GET /api/topics/{slug}/comments missing", target))
        return
    r = httpx.get(thread_url(srv, "bench-hot"), timeout=10)
    if r.status_code != 200:
        ctx.rows.append(Row.unavailable(name, f"probe answered {r.status_code}", target))
        return
    w = wrk(ctx, thread_url(srv, "bench-hot"), connections=CONNECTIONS, profile=("1", srv))
    ctx.s1_rps = w["rps"]
    ratio = w["rps"] / ctx.base["rps"] if ctx.base else None
    ok = ratio is not None and ratio >= 1.0 and (w["p99_ms"] or 1e9) < 50 and w["errors"] == 0
    ctx.rows.append(Row.from_wrk(name, w, ratio=f"{ratio:.2f}x baseline" if ratio else "", target=target,
                                 passed=ok if ratio is not None else None,
                                 note=f"{len(r.content) / 1024:.0f} KB JSON"))


def scenario_8(ctx: Context, srv: Server) -> None:
    name = "8 hot thread read, signed in, 50 readers, 50 conn"
    target = ">=1.0x baseline, p99<50ms, 0 err"
    if not ctx.has(THREAD):
        ctx.rows.append(Row.unavailable(name, "GET /api/topics/{slug}/comments missing", target))
        return
    tokens = [ctx.seeded.tokens[h] for h in ctx.seeded.viewers]
    # the probe: a reader with a pending reply sees it and their votes; anonymous readers do not
    url = thread_url(srv, "bench-hot")
    mine = httpx.get(url, headers=auth(tokens[0]), timeout=10)
    anon = httpx.get(url, timeout=10)
    if mine.status_code != 200:
        ctx.rows.append(Row.unavailable(name, f"probe answered {mine.status_code}", target))
        return
    text = mine.text
    pending_seen = '"status":"pending"' in text and '"status":"pending"' not in anon.text
    votes_seen = text.count('"my_vote":1') == 5
    w = wrk(ctx, url, connections=CONNECTIONS, script="get_tokens.lua", env={"BENCH_TOKENS": ",".join(tokens)},
            profile=("8", srv))
    ratio = w["rps"] / ctx.base["rps"] if ctx.base else None
    ok = (ratio is not None and ratio >= 1.0 and (w["p99_ms"] or 1e9) < 50 and w["errors"] == 0
          and pending_seen and votes_seen)
    ctx.rows.append(Row.from_wrk(name, w, ratio=f"{ratio:.2f}x baseline" if ratio else "", target=target,
                                 passed=ok if ratio is not None else None,
                                 note=f"probe: own pending reply shown {pending_seen}, 5 own votes shown {votes_seen};"
                                      f" {len(ctx.seeded.viewers) // 5} of the readers have a pending reply"))


def scenario_7(ctx: Context, srv: Server) -> None:
    name = "7 worker RSS after scenario 1"
    if ctx.s1_rps is None:
        ctx.rows.append(Row.unavailable(name, "scenario 1 did not run", "<200 MB"))
        return
    rss = srv.rss_mb()
    ctx.rows.append(Row(name, target="<200 MB", passed=rss < 200, note=f"RSS {rss:.0f} MB"))


def scenario_render(ctx: Context, srv: Server) -> None:
    """The widget's render of a 200-comment thread in headless Chromium (bench/render.py)."""
    runs = 5 if ctx.args.quick else RENDER_RUNS
    name = f"render: widget, 200 comments, median of {runs}"
    target = f"<{render.TARGET_MS:.0f} ms data->render"
    why = render.unavailable()
    if why:
        ctx.rows.append(Row.unavailable(name, why, target))
        return
    r = render.measure(srv.url, "bench-render", runs)
    ctx.rows.append(Row(name, p50=r["render_ms"], target=target, passed=r["render_ms"] < render.TARGET_MS,
                        note=f"max {r['render_max_ms']:.0f} ms; raw fetch of the data {r['fetch_ms']:.1f} ms"))


# Scenario 2's target, as a ratio to the raw baseline like 1 and 8 (issue 19). It was ">= 3x
# scenario 1" while a full read went through Litestar's routing and a 304 did not; since
# the full read is answered before routing too (forum/comments/shortcut.py), the two differ
# only by the 112 KB write, and their ratio (1.2-2.0x on one machine) says nothing about
# what a 304 saves. The raw baseline reads and encodes the page; a 304 reads one row.
# Set at 20x when the lowest full-run ratio seen here was 21x; a later full run, with the
# machine in a fast phase, read 19.1x (bench/README.md, fifth pass).
CONDITIONAL_RATIO = 20.0


def scenario_2(ctx: Context, srv: Server) -> None:
    name = "2 conditional read, If-None-Match"
    target = f">={CONDITIONAL_RATIO:.0f}x baseline, 0 err"
    if not ctx.has(THREAD):
        ctx.rows.append(Row.unavailable(name, "thread read missing", target))
        return
    r = httpx.get(thread_url(srv, "bench-hot"), timeout=10)
    etag = r.headers.get("etag")
    if r.status_code != 200 or not etag:
        ctx.rows.append(Row.unavailable(name, f"no ETag (status {r.status_code})", target))
        return
    r2 = httpx.get(thread_url(srv, "bench-hot"), headers={"If-None-Match": etag}, timeout=10)
    if r2.status_code != 304:
        ctx.rows.append(Row(name, target=target, passed=False,
                            note=f"If-None-Match answered {r2.status_code}, not 304"))
        return
    w = wrk(ctx, thread_url(srv, "bench-hot"), connections=CONNECTIONS, env={"BENCH_IF_NONE_MATCH": etag},
            profile=("2", srv))
    ratio = w["rps"] / ctx.base["rps"] if ctx.base else None
    to_s1 = f"; {w['rps'] / ctx.s1_rps:.2f}x scenario 1" if ctx.s1_rps else ""
    ctx.rows.append(Row.from_wrk(name, w, ratio=f"{ratio:.2f}x baseline" if ratio else "", target=target,
                                 passed=(ratio >= CONDITIONAL_RATIO and w["errors"] == 0) if ratio else None,
                                 note=f"304 checked by probe{to_s1}"))


def scenario_3(ctx: Context, srv: Server) -> None:
    name_small = "3a page 1, 100-comment thread"
    name_huge = "3b page 1, 20,000-comment thread"
    target = "huge <=1.5x slower"
    if not ctx.has(THREAD):
        ctx.rows.append(Row.unavailable("3 page 1: 20,000 vs 100 comments", "thread read missing", target))
        return
    for slug in ("bench-small", "bench-huge"):
        r = httpx.get(thread_url(srv, slug), timeout=30)
        if r.status_code != 200:
            ctx.rows.append(Row.unavailable("3 page 1: 20,000 vs 100 comments", f"{slug} answered {r.status_code}",
                                            target))
            return
    small = wrk(ctx, thread_url(srv, "bench-small"), connections=CONNECTIONS)
    huge = wrk(ctx, thread_url(srv, "bench-huge"), connections=CONNECTIONS)
    ctx.rows.append(Row.from_wrk(name_small, small, note="50 roots x 2"))
    slower = small["rps"] / huge["rps"] if huge["rps"] else float("inf")
    ctx.rows.append(Row.from_wrk(name_huge, huge, ratio=f"{slower:.2f}x slower", target=target,
                                 passed=slower <= 1.5 and huge["errors"] == 0 and small["errors"] == 0,
                                 note="10,000 roots x 2; page 1 = 50 roots x 2"))


def _probe_post(srv: Server, token: str, slug: str, body: str) -> tuple[int, dict[str, Any]]:
    r = httpx.post(thread_url(srv, slug), json={"body": body + f"\n\nprobe {secrets.token_hex(4)}"},
                   headers=auth(token), timeout=30)
    try:
        data = r.json()
    except ValueError:
        data = {}
    return r.status_code, data


def _post_load(ctx: Context, srv: Server, body_file: Path, profile: str | None = None,
               duration: float | None = None) -> dict[str, Any]:
    url = thread_url(srv, "bench-post")
    kw: dict[str, Any] = {"connections": POST_CONNECTIONS, "script": "post.lua",
                          "env": {"BENCH_AUTH": ctx.seeded.tokens["bench_poster"], "BENCH_BODY_FILE": str(body_file)}}
    if duration is not None:
        return run_wrk(url, duration=duration, **kw)
    return wrk(ctx, url, profile=(profile, srv) if profile else None, **kw)


def _merge_loads(*loads: dict[str, Any]) -> dict[str, Any]:
    """Equal-length loads as one: mean rate and median, worst p99, errors summed."""
    p50 = [w["p50_ms"] for w in loads if w["p50_ms"] is not None]
    p99 = [w["p99_ms"] for w in loads if w["p99_ms"] is not None]
    return {"rps": sum(w["rps"] for w in loads) / len(loads), "p50_ms": sum(p50) / len(p50) if p50 else None,
            "p99_ms": max(p99) if p99 else None, "errors": sum(w["errors"] for w in loads)}


def _render_ms(body: str) -> tuple[float, float] | None:
    """(render_markdown, bleach alone) in ms for `body`, timed in this process."""
    try:
        from forum.markup import _md, render_markdown, sanitize_html  # type: ignore[import-not-found]
    except ImportError:
        return None
    html = _md.render(body)

    def per_call(fn: Callable[[str], str], arg: str, n: int = 200) -> float:
        fn(arg)
        t0 = time.perf_counter()
        for _ in range(n):
            fn(arg)
        return (time.perf_counter() - t0) / n * 1000

    return per_call(render_markdown, body), per_call(sanitize_html, html)


def scenario_4(ctx: Context, srv: Server, body: str, body_file: Path) -> None:
    name = "4 post 2 KB Markdown, trusted user, 16 conn"
    target = f">={POST_RATIO:.2f}x baseline 4, 0 err"
    if not ctx.has(POST):
        ctx.rows.append(Row.unavailable(name, "POST /api/topics/{slug}/comments missing", target))
        return
    code, data = _probe_post(srv, ctx.seeded.tokens["bench_poster"], "bench-post", body)
    if code != 201:
        ctx.rows.append(Row.unavailable(name, f"probe POST answered {code}: {str(data)[:80]}", target))
        return
    status = data.get("status")
    base = asyncio.run(baseline.run_post_baseline(ctx.dsn, "bench-post-base", ctx.seeded.users["bench_poster"], body,
                                                  POST_CONNECTIONS, ctx.duration))
    ctx.rows.append(Row("baseline 4: render + sanitize + INSERT, raw asyncpg, 16 tasks", base["rps"], base["p50_ms"],
                        base["p99_ms"], 0, ratio="1.00x", note="same 2 KB Markdown, render_markdown in-process"))
    w = _post_load(ctx, srv, body_file, profile="4")
    render = _render_ms(body)
    share = ""
    if render is not None and w["rps"]:
        # one worker, CPU-bound: the server spends about 1/rps seconds of CPU per request
        total, bleach = render
        share = (f"render_markdown {total:.2f} ms = {total * w['rps'] / 10:.0f}% of 1/rps,"
                 f" of which bleach {bleach:.2f} ms = {bleach * w['rps'] / 10:.0f}%")
    elif render is None:
        share = "forum.markup.render_markdown missing: bleach share n/a"
    ratio = w["rps"] / base["rps"] if base["rps"] else 0.0
    note = f"{w['rps']:,.0f} posts/s vs baseline {base['rps']:,.0f}/s; probe status {status}; {share}"
    ctx.rows.append(Row.from_wrk(name, w, ratio=f"{ratio:.2f}x baseline 4", target=target,
                                 passed=ratio >= POST_RATIO and w["errors"] == 0 and status == "published",
                                 note=note))


async def _set_rules(ctx: Context, srv: Server, banned: list[str], suspect: list[str]) -> str:
    admin = ctx.seeded.tokens["bench_admin"]
    if ctx.has(RULES_GET) and ctx.has(RULES_PUT):
        async with httpx.AsyncClient(base_url=srv.url, headers=auth(admin), timeout=60) as c:
            r = await c.get("/api/moderation/rules")
            if r.status_code == 200:
                rules = r.json()
                rules["banned_words"], rules["suspect_words"] = banned, suspect
                p = await c.put("/api/moderation/rules", json=rules)
                if p.status_code in (200, 204):
                    return "rules PUT through the API"
                ctx.notes.append(f"rules PUT answered {p.status_code}: {p.text[:120]}; used SQL")
    conn = await asyncpg.connect(ctx.dsn)
    try:
        await conn.execute("UPDATE moderation_rules SET banned_words = $1, suspect_words = $2, updated_at = now()",
                           banned, suspect)
    finally:
        await conn.close()
    return "rules set by SQL UPDATE"


def scenario_6(ctx: Context, srv: Server, body: str, body_file: Path) -> None:
    name = "6 post with 5,000+5,000 word rules"
    target = "<=10% slower than empty"
    if not ctx.has(POST):
        ctx.rows.append(Row.unavailable(name, "POST comments missing", target))
        return
    banned = [f"zqban{i:05d}" for i in range(5000)]
    suspect = [f"zqsus{i:05d}" for i in range(5000)]
    how = asyncio.run(_set_rules(ctx, srv, [], []))
    code, _ = _probe_post(srv, ctx.seeded.tokens["bench_poster"], "bench-post", body)
    if code != 201:
        ctx.rows.append(Row.unavailable(name, f"probe POST answered {code}", target))
        return
    # A-B-B-A, half a duration each: posting slows as the topic and the tables grow during the
    # run, and the order cancels that drift out of the comparison (A then B would charge it to B).
    half = max(1.0, ctx.duration / 2)
    empty_1 = _post_load(ctx, srv, body_file, duration=half)
    how = asyncio.run(_set_rules(ctx, srv, banned, suspect))
    code, data = _probe_post(srv, ctx.seeded.tokens["bench_poster"], "bench-post", body)  # compiles lists
    full = _merge_loads(_post_load(ctx, srv, body_file, duration=half), _post_load(ctx, srv, body_file, duration=half))
    asyncio.run(_set_rules(ctx, srv, [], []))
    _probe_post(srv, ctx.seeded.tokens["bench_poster"], "bench-post", body)
    empty = _merge_loads(empty_1, _post_load(ctx, srv, body_file, duration=half))
    ctx.rows.append(Row.from_wrk("6a post, empty word lists", empty, note="reference for 6b; runs A-B-B-A"))
    slowdown = 1 - full["rps"] / empty["rps"] if empty["rps"] else 1.0
    ctx.rows.append(Row.from_wrk("6b post, 5,000 banned + 5,000 suspect", full,
                                 ratio=f"{slowdown * 100:+.1f}% slower", target=target,
                                 passed=slowdown <= 0.10 and full["errors"] == 0 and code == 201,
                                 note=f"{how}; probe {code} {data.get('status', '')}"))


def scenario_13(ctx: Context, srv: Server) -> None:
    name = "13 cost per 1 KB comment: disk and PostgreSQL time"
    target = "<=3 KB on disk per 1 KB comment"
    if not ctx.has(POST):
        ctx.rows.append(Row.unavailable(name, "POST comments missing", target))
        return
    pgdata = None if ctx.args.database_url else ctx.data_dir / "pgdata"
    r = cost.measure(ctx.dsn, pgdata, srv.url, ctx.seeded.tokens["bench_poster"], "bench-cost")
    per = r["bytes_per_comment"]
    if per is None:
        ctx.rows.append(Row(name, target=target, passed=False, note="no comment was created"))
        return
    kb_per_kb = per / r["body_bytes"]
    parts = sorted(r["growth"].items(), key=lambda kv: -kv[1])
    layout = ", ".join(f"{k.removeprefix('index ')} {v / r['created']:,.0f}" for k, v in parts if v)
    cpu = r["pg_cpu_ms_per_post"]
    stmts = list(r["statements"].items())
    total_logged = sum(v for _, v in stmts) or 1.0
    top = "; ".join(f"{v:.2f} ms ({v / total_logged * 100:.0f}%) {k[:90]}" for k, v in stmts[:5])
    note = (f"{per:,.0f} bytes per comment of {r['body_bytes']} bytes of Markdown ({layout});"
            f" {r['created']} posts at {r['created'] / r['elapsed']:.0f}/s;"
            + (f" PostgreSQL CPU {cpu:.2f} ms per post (all its processes);" if cpu is not None else "")
            + (f" logged statement time per post {total_logged:.2f} ms, top: {top}" if stmts
               else " statement breakdown needs the embedded server's log"))
    ctx.rows.append(Row(name, r["created"] / r["elapsed"], ratio=f"{kb_per_kb:.2f} KB per KB", target=target,
                        passed=kb_per_kb <= 3.0 and r["created"] > 0, note=note))


async def _moderate(ctx: Context, srv: Server, stop_after: int | None = None) -> dict[str, Any]:
    """8 moderators deciding until the queue is empty, or until `stop_after` decisions (scenario
    11: a queue of 100,000)."""
    desk = moderators.Desk()
    deadline = time.monotonic() + max(120.0, ctx.duration * 20)

    def until() -> bool:
        return time.monotonic() >= deadline or (stop_after is not None and len(desk.decided) >= stop_after)

    t0 = time.perf_counter()
    await asyncio.gather(*(moderators.work(desk, srv.url, ctx.seeded.tokens[h], ctx.seeded.users[h], until=until)
                           for h in ctx.seeded.moderators))
    elapsed = time.perf_counter() - t0
    latencies = sorted(desk.latencies)
    pct = (lambda p: latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000) if latencies \
        else (lambda p: None)
    return {"decided": desk.decided, "elapsed": elapsed, "p50": pct(50), "p99": pct(99),
            "unexpected": desk.unexpected, "conflicts": desk.conflicts, "reads": desk.reads,
            "requests": len(latencies)}


async def _verify_moderation(ctx: Context, since: datetime) -> tuple[bool, str]:
    ids = ctx.seeded.item_ids
    conn = await asyncpg.connect(ctx.dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'decided') AS decided,"
            "       count(*) FILTER (WHERE status = 'open') AS open,"
            "       count(*) FILTER (WHERE decision = 'approve') AS approved,"
            "       count(*) FILTER (WHERE decided_by IS NULL AND status = 'decided') AS no_decider,"
            "       count(*) AS total"
            "  FROM moderation_item WHERE id = ANY($1::bigint[])", ids)
        published = await conn.fetchval(
            "SELECT count(*) FROM moderation_item m JOIN comment c ON c.id = m.comment"
            " WHERE m.id = ANY($1::bigint[]) AND c.status = 'published'", ids)
        dup_audit = await moderators.audited_twice(conn, since)
    finally:
        await conn.close()
    ok = (row["decided"] == len(ids) and row["open"] == 0 and row["approved"] == len(ids)
          and published == len(ids) and dup_audit == 0 and row["total"] == len(ids))
    return ok, (f"SQL: {row['decided']}/{len(ids)} decided, {row['open']} open, {published} published,"
                f" {dup_audit} targets audited twice")


def scenario_5(ctx: Context, srv: Server) -> None:
    name = "5 8 moderators x 2,000 pending items"
    target = f">={DECIDE_RATIO:.2f}x baseline 5, none twice/lost"
    missing = [f"{m} {p}" for m, p in (QUEUE, CLAIM, DECIDE) if not ctx.has((m, p))]
    if missing:
        ctx.rows.append(Row.unavailable(name, "missing " + ", ".join(missing), target))
        return
    mods = [ctx.seeded.users[h] for h in ctx.seeded.moderators]
    base = asyncio.run(baseline.run_decide_baseline(ctx.dsn, mods, ctx.seeded.base_item_ids))
    ctx.rows.append(Row("baseline 5: queue read + claim + decide, raw asyncpg, 8 tasks", base["rps"],
                        base["p50_ms"], base["p99_ms"], 0 if base["complete"] else 1, ratio="1.00x",
                        note=f"{base['requests']} items decided, {base['conflicts']} lost claims"))
    since = datetime.now(UTC)
    if "5" in ctx.args.profile:  # samples the first `duration` seconds of the run
        with py_spy(ctx, "5", srv):
            res = asyncio.run(_moderate(ctx, srv))
    else:
        res = asyncio.run(_moderate(ctx, srv))
    decided = res["decided"]
    twice = sum(1 for n in decided.values() if n > 1)
    ok_sql, sql_note = asyncio.run(_verify_moderation(ctx, since))
    rate = len(decided) / res["elapsed"] if res["elapsed"] else 0.0
    errors = sum(res["unexpected"].values())
    ratio = rate / base["rps"] if base["rps"] else 0.0
    ok = (ok_sql and twice == 0 and len(decided) == len(ctx.seeded.item_ids) and ratio >= DECIDE_RATIO
          and errors == 0)
    note = (f"{rate:,.0f} decisions/s vs baseline {base['rps']:,.0f}/s; {len(decided)} decided by the driver,"
            f" {twice} twice, {res['conflicts']} 409s,"
            f" {res['reads']} queue reads, {res['requests']} requests in {res['elapsed']:.1f}s; {sql_note}")
    if res["unexpected"]:
        note += f"; unexpected {res['unexpected']}"
    ctx.rows.append(Row(name, rate, res["p50"], res["p99"], errors, ratio=f"{ratio:.2f}x baseline 5", target=target,
                        passed=ok, note=note))


def scenario_workers2(ctx: Context) -> None:
    name = "1' hot thread read, --workers 2"
    if not ctx.has(THREAD):
        ctx.rows.append(Row.unavailable(name, "thread read missing"))
        return
    srv = ctx.server(workers=2).start()
    try:
        w = wrk(ctx, thread_url(srv, "bench-hot"), connections=CONNECTIONS)
        rss = srv.rss_mb()
    finally:
        _stopped(ctx, srv)
    ratio = w["rps"] / ctx.base["rps"] if ctx.base else None
    ctx.rows.append(Row.from_wrk(name, w, ratio=f"{ratio:.2f}x baseline" if ratio else "",
                                 note=f"largest worker RSS {rss:.0f} MB"))


def scenario_two_servers(ctx: Context, body: str) -> None:
    name = "two servers, one PostgreSQL: write via one, read via other"
    if not (ctx.has(THREAD) and ctx.has(POST)):
        ctx.rows.append(Row.unavailable(name, "thread read or POST comments missing", "seen at once"))
        return
    a, b = ctx.server().start(), None
    try:
        b = ctx.server().start()
        token = ctx.seeded.tokens["bench_poster"]
        parent = ctx.seeded.first_root["bench-scale"]
        failures: list[str] = []
        rounds = 4
        for i in range(rounds):
            writer, reader = (a, b) if i % 2 == 0 else (b, a)
            before = httpx.get(thread_url(reader, "bench-scale"), timeout=10)  # warm any cache in the reader
            httpx.get(thread_url(writer, "bench-scale"), timeout=10)
            etag0 = before.headers.get("etag")
            p = httpx.post(thread_url(writer, "bench-scale"), headers=auth(token), timeout=10,
                           json={"body": body[:300] + f"\n\nscale-out check {i} {secrets.token_hex(4)}",
                                 "parent_id": parent})
            if p.status_code != 201:
                failures.append(f"round {i}: POST {p.status_code}")
                continue
            new_id = p.json().get("id")
            after = httpx.get(thread_url(reader, "bench-scale"), timeout=10)
            seen = after.status_code == 200 and _find_id(after.json(), new_id)
            etag1 = after.headers.get("etag")
            cond = httpx.get(thread_url(reader, "bench-scale"), headers={"If-None-Match": etag0 or '"x"'},
                             timeout=10)
            if not seen:
                failures.append(f"round {i}: comment {new_id} not in the other server's thread")
            if etag0 is not None and etag1 == etag0:
                failures.append(f"round {i}: ETag unchanged")
            if etag0 is not None and cond.status_code == 304:
                failures.append(f"round {i}: old ETag still answered 304")
        note = "; ".join(failures) if failures else f"{rounds}/{rounds} writes seen at once, ETag changed"
        ctx.rows.append(Row(name, target="seen at once", passed=not failures, note=note))
    finally:
        _stopped(ctx, a)
        if b is not None:
            _stopped(ctx, b)


def scenario_12(ctx: Context) -> None:
    """Moving in (bench/transfer.py): the WordPress import, its re-run, the 1M export."""
    for row in transfer.scenario(ctx.dsn, ctx.data_dir, ctx.secret,
                                 lambda: bigseed.running(ctx.data_dir, BENCH_DIR.parent, ctx.args)):
        ctx.rows.append(Row(**row))
def scenario_10(ctx: Context, body: str) -> None:
    """Live fan-out: 5,000 event streams on a two-worker server (bench/live.py)."""
    live.prepare()  # the workers inherit the raised open-files limit
    srv = ctx.server(workers=2).start()
    try:
        res = live.run(srv.url, ctx.dsn, srv.worker_pids(), ctx.seeded.tokens["bench_poster"], "bench-post", body,
                       profile_dir=ctx.data_dir if "10" in ctx.args.profile else None)
    finally:
        _stopped(ctx, srv)
    ctx.rows.extend(Row(**r) for r in res.rows)
    ctx.notes.extend(res.notes)
    for raw in res.profiles:  # the delivery phase, one file per worker
        if raw.exists():
            print(f"--- profile of scenario 10, {raw.name}\n{summarize_profile(raw)}", file=sys.stderr)


def _stopped(ctx: Context, srv: Server) -> None:
    left = srv.stop()
    if left:
        ctx.notes.append(f"processes left after SIGTERM of server on port {srv.port}: {left}")


# ---------------------------------------------------------------- database


def prepare_database(args: argparse.Namespace, data_dir: Path, keep: bool = False) -> tuple[str, Any]:
    """The DSN to use and the embedded server to stop afterwards (None with --database-url);
    `keep`: start the embedded server on the data folder in place (a restored seed)."""
    if args.database_url:
        dsn = args.database_url

        async def check() -> None:
            conn = await asyncpg.connect(dsn)
            try:
                if await seed.has_forum_data(conn) and not args.reset:
                    raise SystemExit("the database already holds forum data: pass --reset to wipe schema public")
                await seed.reset_schema(conn)
            finally:
                await conn.close()

        asyncio.run(check())
        return dsn, None
    from forum.db import EmbeddedPostgres

    if not keep:
        shutil.rmtree(data_dir / "pgdata", ignore_errors=True)
    embedded = EmbeddedPostgres(data_dir)
    return embedded.start(), embedded


def migrate(dsn: str, data_dir: Path, secret: str) -> None:
    env = dict(os.environ, DATABASE_URL=dsn, FORUM_DATA_DIR=str(data_dir), FORUM_SECRET_KEY=secret,
               FORUM_LOG_LEVEL="WARNING")
    proc = subprocess.run([sys.executable, "-m", "forum", "migrate"], env=env, capture_output=True, text=True,
                          cwd=str(BENCH_DIR.parent))
    if proc.returncode != 0:
        raise SystemExit(f"forum migrate failed:\n{proc.stdout}\n{proc.stderr}")


# ---------------------------------------------------------------- output


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": str(os.cpu_count()), "cpu": model, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


def _f(x: float | None, fmt: str) -> str:
    return "" if x is None else format(x, fmt)


def table(rows: list[Row]) -> str:
    head = ["scenario", "req/s", "p50 ms", "p99 ms", "errors", "ratio", "target", "pass", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        verdict = "" if r.passed is None else ("PASS" if r.passed else "FAIL")
        cells = [r.scenario, _f(r.rps, ",.0f"), _f(r.p50, ".1f"), _f(r.p99, ".1f"),
                 "" if r.errors is None else str(r.errors), r.ratio, r.target, verdict, r.note]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def write_results(ctx: Context, text: str, started: datetime, load: tuple[float, float]) -> None:
    m = machine()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=str(BENCH_DIR.parent)).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench"],
                               capture_output=True, text=True, cwd=str(BENCH_DIR.parent)).stdout.strip()
        if dirty:
            commit += " plus uncommitted changes in the working tree"
    except OSError:
        commit = "?"
    db = "given --database-url" if ctx.args.database_url else "embedded (pgserver)"
    out = [
        "# Benchmark results",
        "",
        "Generated by `python -m bench --write-results`; do not edit by hand.",
        "",
        f"- date: {started.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {m['cores']} cores, {m['cpu']}, {m['system']}, Python {m['python']}",
        f"- commit: {commit}; database: {db}; {ctx.duration:g} s per scenario; "
        f"load average before/after: {load[0]:.2f} / {load[1]:.2f}",
        f"- baseline (raw asyncpg + msgspec, {CONNECTIONS} tasks, bench-hot page 1):"
        + (f" {ctx.base['rps']:,.0f} threads/s, p50 {ctx.base['p50_ms']:.1f} ms,"
           f" p99 {ctx.base['p99_ms']:.1f} ms, {ctx.base['bytes'] / 1024:.0f} KB" if ctx.base else " not run"),
        "",
        text,
        "",
    ]
    if ctx.notes:
        out += ["Notes:", ""] + [f"- {n}" for n in ctx.notes] + [""]
    (BENCH_DIR / "RESULTS.md").write_text("\n".join(out))


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--only", default=None,
                   help=f"comma-separated scenarios (default all): {','.join(ALL)}")
    p.add_argument("--scenario", action="append", default=[], metavar="N",
                   help="run this scenario alone (repeatable; same names as --only)")
    p.add_argument("--fresh-seed", action="store_true",
                   help="migrate and seed even when a saved seed with the same content hash exists")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured load (default 10)")
    p.add_argument("--quick", action="store_true", help="2 s per scenario")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                   help="PostgreSQL to use (its schema public is wiped); default: an embedded one")
    p.add_argument("--reset", action="store_true", help="allow wiping a --database-url that holds data")
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("BENCH_DATA_DIR", "/tmp/forum-bench")),
                   help="embedded PostgreSQL and server logs (default /tmp/forum-bench)")
    p.add_argument("--write-results", action="store_true", help="write bench/RESULTS.md")
    p.add_argument("--profile", default="", help="comma-separated scenarios (health,1,4) to sample with py-spy")
    args = p.parse_args(argv)
    chosen = [x for part in ([args.only] if args.only else []) + args.scenario for x in part.split(",")]
    args.only = {x.strip() for x in chosen if x.strip()} or set(ALL)
    unknown = args.only - set(ALL)
    if unknown:
        p.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    args.profile = {s.strip() for s in args.profile.split(",") if s.strip()}
    if args.quick:
        args.duration = 2.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.only - {"render", "12"} and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: see bench/README.md (apt-get install -y wrk)")
    started = datetime.now(UTC)
    load0 = os.getloadavg()[0]
    data_dir = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    t0 = time.perf_counter()
    saved = None if (args.database_url or args.fresh_seed) else seed.SavedSeed.find(data_dir, BENCH_DIR.parent)
    if saved is not None:
        saved.restore(data_dir / "pgdata")
    dsn, embedded = prepare_database(args, data_dir, keep=saved is not None)
    try:
        if saved is not None:
            seeded = saved.seeded
            asyncio.run(saved.refresh(dsn))
            how = f"seed {saved.key[:12]} reused"
        else:
            migrate(dsn, data_dir, secret)
            seeded = asyncio.run(seed.seed_all(dsn))
            how = "seeded"
            if embedded is not None:  # a stopped cluster's files, saved by the seed's content hash
                embedded.stop()
                seed.SavedSeed.save(data_dir, BENCH_DIR.parent, seeded)
                dsn = embedded.start()
        print(f"{how} in {time.perf_counter() - t0:.1f}s: " + ", ".join(f"{k} {v}" for k, v in seeded.counts.items()),
              file=sys.stderr)
        ctx = Context(args, dsn, data_dir, secret, seeded, args.duration)
        body = two_kb_markdown()
        body_file = data_dir / "body.md"
        body_file.write_text(body)
        if ctx.wanted("1") or ctx.wanted("2") or ctx.wanted("8") or ctx.wanted("workers2"):
            ctx.base = asyncio.run(baseline.run_baseline(dsn, "bench-hot", CONNECTIONS, ctx.duration))
            ctx.rows.append(Row("baseline: raw asyncpg + msgspec, 50 tasks", ctx.base["rps"], ctx.base["p50_ms"],
                                ctx.base["p99_ms"], 0, ratio="1.00x",
                                note=f"bench-hot page 1, {ctx.base['bytes'] / 1024:.0f} KB"))
        srv = ctx.server().start()
        try:
            ctx.routes = fetch_routes(srv.url)
            steps: list[tuple[str, Callable[[], None]]] = [
                ("health", lambda: scenario_health(ctx, srv)),
                ("1", lambda: scenario_1(ctx, srv)),
                ("7", lambda: scenario_7(ctx, srv)),
                ("2", lambda: scenario_2(ctx, srv)),
                ("8", lambda: scenario_8(ctx, srv)),
                ("3", lambda: scenario_3(ctx, srv)),
                ("5", lambda: scenario_5(ctx, srv)),
                ("4", lambda: scenario_4(ctx, srv, body, body_file)),
                ("6", lambda: scenario_6(ctx, srv, body, body_file)),
                ("13", lambda: scenario_13(ctx, srv)),
                ("render", lambda: scenario_render(ctx, srv)),
            ]
            for name, step in steps:
                if ctx.wanted(name) and (name != "7" or ctx.wanted("1")):
                    _guarded(ctx, name, step)
        finally:
            _stopped(ctx, srv)
        if ctx.wanted("workers2"):
            _guarded(ctx, "workers2", lambda: scenario_workers2(ctx))
        if ctx.wanted("two-servers"):
            _guarded(ctx, "two-servers", lambda: scenario_two_servers(ctx, body))
        if ctx.wanted("9"):  # two servers of its own (bench/mixed.py)
            _guarded(ctx, "9", lambda: mixed.scenario_9(ctx))
        if ctx.wanted("10"):
            _guarded(ctx, "10", lambda: scenario_10(ctx, body))
        if ctx.wanted("11"):  # its own database (bench/bigseed.py) and server, after the others
            _guarded(ctx, "11", lambda: scale.scenario_11(ctx))
        if ctx.wanted("12"):
            _guarded(ctx, "12", lambda: scenario_12(ctx))
    finally:
        if embedded is not None:
            embedded.stop()
    text = table(ctx.rows)
    print(text)
    for n in ctx.notes:
        print(f"note: {n}")
    if args.write_results:
        write_results(ctx, text, started, (load0, os.getloadavg()[0]))
        print(f"wrote {BENCH_DIR / 'RESULTS.md'}", file=sys.stderr)
    return 0


def _guarded(ctx: Context, name: str, step: Callable[[], None]) -> None:
    """A scenario that breaks is a row saying so, never the end of the run."""
    try:
        step()
    except Exception as exc:
        ctx.rows.append(Row(f"{name} (crashed)", passed=False, note=f"{type(exc).__name__}: {str(exc)[:200]}"))
