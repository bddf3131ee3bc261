"""Scenario 10: live fan-out. 5,000 Server-Sent Event subscribers of one topic on a
two-worker server, held by one asyncio client (protocols, no task per connection).

Phases (each bounded in time; the whole runs in about a minute and a half):
1. warm-up: 100 subscribers connect and leave (first-use costs are not charged to them);
   the workers' RSS and the LISTEN connections (pg_stat_activity, application_name
   `forum listener <pid>`) are read;
2. 5,000 subscribers connect (in waves), idle 2 s: RSS again -> memory per idle subscriber;
   LISTEN connections again, and how the subscribers spread over the workers;
3. `EVENTS` comments are posted through the API, spaced; each (subscriber, comment)
   delivery is timed from just before the writer's POST (so the POST's own time counts
   against the target) to the moment the client's event loop reads the event's `id:`
   line; a subscriber that never gets a comment is a miss;
4. the 5,000 leave; `STALLED` subscribers that never read (receive buffer 4 KB) and
   `READERS` that do: large comments are posted until the stalled ones are closed by the
   server (their sockets see the reset, read with TCP_INFO without reading data) or
   `STALL_WAIT_S` passes; the readers must get every comment, the workers' RSS must not
   grow with what the stalled ones missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import asyncpg
import psutil

from bench.client import Client

SUBSCRIBERS = 5000
WAVE = 250  # connections opened at once
EVENTS = 5
EVENT_GAP_S = 1.5
DELIVERY_WAIT_S = 10.0  # after the last post, for late deliveries
STALLED = 50
READERS = 10
STALL_WAIT_S = 40.0
HARD_TIMEOUT_S = 170.0

P99_TARGET_MS = 1000.0
IDLE_KB_TARGET = 20.0
STALL_RSS_MB_LIMIT = 20.0  # growth of the workers' RSS while the stalled subscribers miss events

_ID = re.compile(rb"\nid: (\d+)\r\n")
_TCP_CLOSE, _TCP_CLOSE_WAIT = 7, 8


class Sub(asyncio.Protocol):
    """One subscriber: the status line, then the arrival time of each event id."""

    __slots__ = ("closed_at", "connected", "head", "request", "seen", "stall", "status", "tail", "transport")

    def __init__(self, request: bytes, stall: bool = False):
        self.request = request
        self.stall = stall
        self.status = 0
        self.head = b""
        self.tail = b""
        self.seen: dict[int, float] = {}
        self.connected: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.closed_at: float | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if not self.status:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            line = self.head[:self.head.find(b"\r\n")]
            self.status = int(line.split(b" ")[1])
            data, self.head = self.head[end:], b""
            if not self.connected.done():
                self.connected.set_result(self.status == 200)
        if self.stall and self.transport is not None:
            self.transport.pause_reading()  # never read again: the kernel's buffers fill up
        text = self.tail + data
        for m in _ID.finditer(text):
            self.seen.setdefault(int(m.group(1)), now)
        self.tail = text[-40:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed_at = time.perf_counter()
        if not self.connected.done():
            self.connected.set_result(False)

    def tcp_state(self) -> int:
        """The socket's TCP state, read without reading data (7 CLOSE after a reset)."""
        if self.transport is None:
            return _TCP_CLOSE
        sock = self.transport.get_extra_info("socket")
        if sock is None:
            return _TCP_CLOSE
        try:
            return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0])
        except OSError:
            return _TCP_CLOSE


@dataclass
class Result:
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profiles: list[Path] = field(default_factory=list)  # py-spy raw stacks of the delivery phase


def _raise_nofile(want: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def prepare() -> None:
    """Before the server starts (its workers inherit the limit)."""
    _raise_nofile(SUBSCRIBERS * 2 + 1000)


async def _connect(host: str, port: int, request: bytes, n: int, *, stall: bool = False,
                   rcvbuf: int | None = None) -> list[Sub]:
    loop = asyncio.get_running_loop()
    subs: list[Sub] = []

    async def one() -> Sub | None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, (host, port))
            _, sub = await loop.create_connection(lambda: Sub(request, stall), sock=sock)
        except OSError:
            sock.close()
            return None
        return sub

    for start in range(0, n, WAVE):
        batch = await asyncio.gather(*(one() for _ in range(min(WAVE, n - start))))
        got = [s for s in batch if s is not None]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await asyncio.gather(*(s.connected for s in got))
        subs.extend(got)
    return subs


def _close(subs: list[Sub]) -> None:
    for s in subs:
        if s.transport is not None:
            s.transport.abort()


def _rss_mb(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            total += psutil.Process(pid).memory_info().rss / 1e6
    return total


def _cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
    return total


def _streams_per_worker(pids: list[int], port: int) -> list[int]:
    counts = []
    for pid in pids:
        try:
            conns = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.Error:
            conns = []
        counts.append(sum(1 for c in conns if c.laddr and c.laddr.port == port and c.status == "ESTABLISHED"))
    return counts


async def _listeners(dsn: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT application_name, query FROM pg_stat_activity"
                                " WHERE application_name LIKE 'forum listener%' ORDER BY 1")
        return [(r["application_name"], r["query"]) for r in rows]
    finally:
        await conn.close()


def _per_worker(listeners: list[tuple[str, str]], pids: list[int]) -> dict[int, int]:
    count = {pid: 0 for pid in pids}
    for name, _ in listeners:
        pid = int(name.rsplit(" ", 1)[-1]) if name.rsplit(" ", 1)[-1].isdigit() else -1
        count[pid] = count.get(pid, 0) + 1
    return count


async def _post(writer: Client, slug: str, body: str) -> tuple[int, float, float]:
    """(comment id or -1, perf_counter just before the POST, POST seconds)."""
    t0 = time.perf_counter()
    reply = await writer.request("POST", f"/api/topics/{slug}/comments",
                                 json_body={"body": body + f"\n\nlive check {secrets.token_hex(4)}"})
    took = time.perf_counter() - t0
    if reply.status_code != 201 or reply.json().get("status") != "published":
        return -1, t0, took
    return int(reply.json()["id"]), t0, took


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _spy(pids: list[int], secs: float, out_dir: Path | None) -> list[tuple[subprocess.Popen[bytes], Path]]:
    """py-spy (raw collapsed stacks) on each worker for `secs`, when profiling was asked for."""
    exe = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if out_dir is None or exe is None:
        return []
    spies = []
    for pid in pids:
        out = out_dir / f"profile-10-{pid}.txt"
        spies.append((subprocess.Popen([exe, "record", "-p", str(pid), "-d", str(max(1, round(secs))), "-r", "250",
                                        "-f", "raw", "-o", str(out)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out))
    return spies


async def _scenario(url: str, dsn: str, pids: list[int], token: str, slug: str, body: str, big_body: str,
                    res: Result, profile_dir: Path | None) -> None:
    host, port = url.split("//", 1)[1].split(":")
    port_n = int(port)
    request = (f"GET /api/topics/{slug}/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode()
    async with Client(url, {"Authorization": f"Bearer {token}"}) as writer:
        # 1. warm-up, then the idle reference
        warm = await _connect(host, port_n, request, 100)
        await asyncio.sleep(0.5)
        _close(warm)
        await asyncio.sleep(1.5)
        rss0 = _rss_mb(pids)
        listen0 = await _listeners(dsn)

        # 2. 5,000 idle subscribers
        t = time.perf_counter()
        subs = await _connect(host, port_n, request, SUBSCRIBERS)
        opened = [s for s in subs if s.status == 200]
        connect_s = time.perf_counter() - t
        await asyncio.sleep(2.0)
        rss1 = _rss_mb(pids)
        listen1 = await _listeners(dsn)
        spread = _streams_per_worker(pids, port_n)
        per_kb = (rss1 - rss0) * 1000 / len(opened) if opened else float("nan")
        res.rows.append({
            "scenario": f"10b memory per idle subscriber ({len(opened):,} streams)",
            "target": f"<{IDLE_KB_TARGET:.0f} KB",
            "passed": len(opened) == SUBSCRIBERS and per_kb < IDLE_KB_TARGET,
            "note": f"{per_kb:.1f} KB: workers' RSS {rss0:.0f} -> {rss1:.0f} MB; streams per worker"
                    f" {' + '.join(f'{c:,}' for c in spread)}; {len(opened):,}/{SUBSCRIBERS:,} opened"
                    f" in {connect_s:.1f}s"})
        per0, per1 = _per_worker(listen0, pids), _per_worker(listen1, pids)
        one_each = all(per0.get(p) == 1 and per1.get(p) == 1 for p in pids) and len(listen1) == len(pids)
        res.rows.append({
            "scenario": "10c LISTEN connections per worker process",
            "target": "1 per process, any subscribers",
            "passed": one_each,
            "note": f"idle: {sorted(per0.values())}, with {len(opened):,} streams: {sorted(per1.values())}"
                    f" ({len(pids)} workers; pg_stat_activity by application_name)"})

        # 3. deliveries
        spies = _spy(pids, EVENTS * EVENT_GAP_S + 1, profile_dir)
        cpu0, own0 = _cpu_s(pids), time.process_time()
        posts: list[tuple[int, float, float]] = []
        for i in range(EVENTS):
            if i:
                await asyncio.sleep(EVENT_GAP_S)
            posts.append(await _post(writer, slug, body))
        ids = [cid for cid, _, _ in posts if cid > 0]
        deadline = time.perf_counter() + DELIVERY_WAIT_S
        while time.perf_counter() < deadline:
            if all(all(cid in s.seen for cid in ids) for s in opened):
                break
            await asyncio.sleep(0.2)
        lat: list[float] = []
        misses = 0
        for s in opened:
            for cid, t0, _ in posts:
                if cid <= 0:
                    continue
                at = s.seen.get(cid)
                if at is None:
                    misses += 1
                else:
                    lat.append((at - t0) * 1000)
        cpu_ms = (_cpu_s(pids) - cpu0) * 1000 / EVENTS
        client_ms = (time.process_time() - own0) * 1000 / EVENTS
        for proc, out in spies:
            await asyncio.to_thread(proc.wait, 60)
            res.profiles.append(out)
        p50, p99 = _pct(lat, 0.50), _pct(lat, 0.99)
        failed_posts = sum(1 for cid, _, _ in posts if cid <= 0)
        post_ms = statistics.median(took * 1000 for _, _, took in posts)
        res.rows.append({
            "scenario": f"10a delivery of a new comment to {len(opened):,} subscribers, 2 workers",
            "p50": p50, "p99": p99, "errors": misses + failed_posts,
            "target": f"p99<{P99_TARGET_MS:.0f}ms, 0 missed",
            "passed": bool(ids) and misses == 0 and failed_posts == 0 and len(opened) == SUBSCRIBERS
                      and p99 < P99_TARGET_MS,
            "note": f"{len(lat):,} deliveries of {len(ids)} comments ({EVENT_GAP_S}s apart), {misses} missed;"
                    f" from just before the POST (median POST {post_ms:.0f} ms) to the client reading"
                    f" the event; max {max(lat, default=float('nan')):.0f} ms; CPU per comment: workers"
                    f" {cpu_ms:.0f} ms (posting included), this client {client_ms:.0f} ms"})
        _close(subs)
        del subs, opened
        await asyncio.sleep(2.0)

        # 4. stalled subscribers
        readers = await _connect(host, port_n, request, READERS)
        stalled = await _connect(host, port_n, request, STALLED, stall=True, rcvbuf=4096)
        await asyncio.sleep(1.0)
        rss_s0 = _rss_mb(pids)
        t_stall = time.perf_counter()
        posted: list[int] = []
        rss_peak = rss_s0
        closed_at: dict[int, float] = {}
        while time.perf_counter() - t_stall < STALL_WAIT_S and len(closed_at) < len(stalled):
            cid, _, _ = await _post(writer, slug, big_body)
            if cid > 0:
                posted.append(cid)
            now = time.perf_counter()
            for i, s in enumerate(stalled):
                if i not in closed_at and s.tcp_state() in (_TCP_CLOSE, _TCP_CLOSE_WAIT):
                    closed_at[i] = now - t_stall
            rss_peak = max(rss_peak, _rss_mb(pids))
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        readers_ok = sum(1 for s in readers if all(cid in s.seen for cid in posted))
        dropped = len(closed_at)
        growth = rss_peak - rss_s0
        worst = max(closed_at.values(), default=float("nan"))
        res.rows.append({
            "scenario": f"10d stalled subscribers dropped ({STALLED} never read, {READERS} read)",
            "target": f"all closed by the server, RSS +<{STALL_RSS_MB_LIMIT:.0f} MB, readers get all",
            "passed": dropped == len(stalled) == STALLED and growth < STALL_RSS_MB_LIMIT
                      and readers_ok == len(readers) == READERS and bool(posted),
            "note": f"{dropped}/{len(stalled)} closed (reset) within {worst:.1f}s of the first of"
                    f" {len(posted)} comments of {len(big_body) / 1000:.0f} KB; workers' RSS {rss_s0:.0f}"
                    f" -> peak {rss_peak:.0f} MB; {readers_ok}/{len(readers)} readers got all"})
        _close(readers)
        _close(stalled)


def run(url: str, dsn: str, pids: list[int], token: str, slug: str, body: str,
        profile_dir: Path | None = None) -> Result:
    """The scenario against a running two-worker server; rows as keyword arguments of bench.run.Row."""
    res = Result()
    big_body = (body + "\n\n") * 4  # ~8 KB of Markdown: the stalled sockets fill in a few dozen comments
    _raise_nofile(SUBSCRIBERS + 1000)

    async def bounded() -> None:
        try:
            async with asyncio.timeout(HARD_TIMEOUT_S):
                await _scenario(url, dsn, pids, token, slug, body, big_body, res, profile_dir)
        except TimeoutError:
            res.notes.append(f"scenario 10 stopped by its {HARD_TIMEOUT_S:.0f}s bound")
            res.rows.append({"scenario": "10 live fan-out (timed out)", "passed": False,
                             "note": f"did not finish within {HARD_TIMEOUT_S:.0f}s"})

    try:
        import uvloop
    except ImportError:
        asyncio.run(bounded())
    else:  # cheaper per connection than the default loop: less of the client in the figures
        uvloop.run(bounded())
    return res
