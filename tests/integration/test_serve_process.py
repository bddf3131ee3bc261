"""`forum serve` as a real process on the embedded database: it migrates, serves, and
leaves no process behind after SIGTERM or Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


def _wait_healthy(proc: subprocess.Popen[Any], port: int, seconds: float = 90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            if r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    return False


def _postgres_processes(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "postgres" in (proc.info["name"] or "") and str(data_dir) in cmdline:
            found.append(proc)
    return found


def _assert_postgres_gone(pg_data: Path, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while _postgres_processes(pg_data) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_processes(pg_data), "PostgreSQL left running after the server stopped"


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_serve_migrates_serves_and_stops_cleanly(stop_signal: signal.Signals) -> None:
    data_dir = ROOT / ".forum-test" / f"serve-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PGHOST")}
    env.update(FORUM_DATA_DIR=str(data_dir), FORUM_PORT=str(port), FORUM_LOG_LEVEL="INFO")
    proc = subprocess.Popen([sys.executable, "-m", "forum", "serve"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        healthy = _wait_healthy(proc, port)
        assert healthy, f"server did not become healthy: {proc.poll()=}"
        pg_data = (data_dir / "pgdata").resolve()
        assert _postgres_processes(pg_data), "embedded PostgreSQL is not running"

        proc.send_signal(stop_signal)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode is not None
        assert "migrations up to date" in out, out[-2000:]
        _assert_postgres_gone(pg_data)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_cli_command_beside_a_running_server_leaves_its_database_up() -> None:
    """README: `forum serve`, then `forum users create` in another terminal. The short
    command shares the embedded PostgreSQL and must not stop it when it ends."""
    data_dir = ROOT / ".forum-test" / f"serve-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PGHOST")}
    env.update(FORUM_DATA_DIR=str(data_dir), FORUM_PORT=str(port))
    proc = subprocess.Popen([sys.executable, "-m", "forum", "serve"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_healthy(proc, port), "server did not become healthy"
        created = subprocess.run(
            [sys.executable, "-m", "forum", "users", "create", "--handle", "first_admin", "--role", "admin",
             "--password", "a-Strong-pass-2026"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert created.returncode == 0, created.stderr[-2000:]
        r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert r.status_code == 200, r.text
        login = httpx.post(f"http://127.0.0.1:{port}/api/auth/login", timeout=10,
                           json={"login": "first_admin", "password": "a-Strong-pass-2026"})
        assert login.status_code == 200 and login.json()["user"]["role"] == "admin", login.text

        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        pg_data = (data_dir / "pgdata").resolve()
        _assert_postgres_gone(pg_data)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
