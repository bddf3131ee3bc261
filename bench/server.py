"""The real server as a subprocess (`forum serve`), and the load generator (wrk)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

BENCH_DIR = Path(__file__).resolve().parent
LUA_DIR = BENCH_DIR / "wrk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """`forum serve --port P [--workers N]` against `dsn`, with production settings except
    FORUM_RATE_LIMITS=off (the load comes from one address)."""

    dsn: str
    data_dir: Path
    secret_key: str
    workers: int = 1
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> Server:
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": self.dsn,
            "FORUM_DATA_DIR": str(self.data_dir),
            "FORUM_SECRET_KEY": self.secret_key,
            "FORUM_RATE_LIMITS": "off",
            "FORUM_GUEST_CHALLENGE": "off",
            "FORUM_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / f"server-{self.port}.log"
        with open(self.log_path, "wb") as log:  # the server process keeps its own copy of the handle
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "forum", "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(BENCH_DIR.parent))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                r = httpx.get(self.url + "/health", timeout=2)
                if r.status_code == 200:
                    if self.workers > 1:
                        self._wait_workers(deadline)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer /health within {timeout:.0f}s:\n{self.log_tail()}")

    def _wait_workers(self, deadline: float) -> None:
        # /health answered through one worker; give the others time to finish their start-up.
        while time.monotonic() < deadline and len(self.worker_pids()) < self.workers:
            time.sleep(0.2)
        ok = 0
        while time.monotonic() < deadline and ok < 10 * self.workers:
            try:
                ok += httpx.get(self.url + "/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.1)

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the server itself with one worker, else its workers."""
        if self.proc is None:
            return []
        try:
            me = psutil.Process(self.proc.pid)
            if self.workers == 1:
                return [me.pid]
            return [c.pid for c in me.children() if "python" in (c.name() or "").lower()
                    and not _is_multiprocessing_helper(c)]
        except psutil.Error:
            return []

    def rss_mb(self) -> float:
        """The largest resident size among the serving processes, in MB."""
        sizes = []
        for pid in self.worker_pids():
            with contextlib.suppress(psutil.Error):
                sizes.append(psutil.Process(pid).memory_info().rss / 1e6)
        return max(sizes) if sizes else 0.0

    def stop(self, timeout: float = 20.0) -> list[str]:
        """SIGTERM, wait; returns descriptions of processes left behind (then killed)."""
        if self.proc is None:
            return []
        leftovers: list[str] = []
        try:
            family = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.Error:
            family = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                leftovers.append(f"server pid {self.proc.pid} ignored SIGTERM for {timeout:.0f}s")
                self.proc.kill()
                self.proc.wait(5)
        _gone, alive = psutil.wait_procs(family, timeout=5)
        for p in alive:
            try:
                leftovers.append(f"pid {p.pid} {' '.join(p.cmdline())[:80]}")
                p.kill()
            except psutil.Error:
                pass
        self.proc = None
        return leftovers


def _is_multiprocessing_helper(p: psutil.Process) -> bool:
    try:
        cmd = " ".join(p.cmdline())
    except psutil.Error:
        return True
    return "multiprocessing.resource_tracker" in cmd or "multiprocessing.semaphore_tracker" in cmd


# ---------------------------------------------------------------- wrk

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"unparseable wrk duration {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    """requests/s, p50/p99 (ms) from `--latency`, and errors (non-2xx/3xx + socket errors)."""
    out: dict[str, Any] = {"rps": 0.0, "p50_ms": None, "p99_ms": None, "errors": 0, "requests": 0,
                           "non2xx": 0, "socket_errors": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if m:
        out["rps"] = float(m.group(1))
    in_dist = False
    for line in output.splitlines():
        if "Latency Distribution" in line:
            in_dist = True
            continue
        if in_dist:
            dm = re.match(r"\s+(\d+(?:\.\d+)?)%\s+(\S+)", line)
            if not dm:
                in_dist = False
                continue
            pct = float(dm.group(1))
            if pct == 50:
                out["p50_ms"] = _ms(dm.group(2))
            elif pct == 99:
                out["p99_ms"] = _ms(dm.group(2))
    m = re.search(r"(\d+) requests in", output)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if m:
        out["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if m:
        out["socket_errors"] = sum(int(g) for g in m.groups())
    out["errors"] = out["non2xx"] + out["socket_errors"]
    return out


def run_wrk(url: str, *, duration: float, connections: int = 50, threads: int = 2,
            script: str = "get.lua", env: dict[str, str] | None = None, timeout_s: int = 5) -> dict[str, Any]:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", f"--timeout={timeout_s}s",
           "--latency", "-s", str(LUA_DIR / script), url]
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=duration + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    result = parse_wrk(proc.stdout)
    result["raw"] = proc.stdout
    return result
