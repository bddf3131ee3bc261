"""API fuzzing (bounded, CI-sized) and HTTP-level checks against a real server process.

Starts `forum serve` on a free port (rate limits off) on the test database, makes a
reader and a moderator in SQL, and runs schemathesis v4 (every check, the config in
tests/slow/schemathesis.toml, fixed seed, few examples) as anonymous, reader and
moderator: zero server errors, zero responses that break the schema. The long run is
tests/slow/run_schemathesis.sh. Skip with FORUM_SKIP_FUZZ=1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "tests" / "slow" / "schemathesis.toml"
EXAMPLES = os.environ.get("FORUM_FUZZ_EXAMPLES", "5")
SEED = os.environ.get("FORUM_FUZZ_SEED", "20261126")

pytestmark = [
    pytest.mark.skipif(os.environ.get("FORUM_SKIP_FUZZ") == "1", reason="FORUM_SKIP_FUZZ=1"),
    pytest.mark.skipif(
        shutil.which("schemathesis") is None and not (Path(sys.executable).parent / "schemathesis").exists(),
        reason="schemathesis not installed (pip install -e '.[test]')"),
]


@pytest.fixture(scope="module")
def server(migrated: str) -> Iterator[dict[str, Any]]:
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="forum-fuzz-")
    env = {**os.environ, "DATABASE_URL": migrated, "FORUM_RATE_LIMITS": "off", "FORUM_LOG_LEVEL": "WARNING",
           "FORUM_DATA_DIR": data_dir, "FORUM_SECRET_KEY": "fuzz-secret-key"}
    # the child keeps its own copy of the descriptor: ours can close once it has started
    with open(Path(data_dir) / "server.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "forum", "serve", "--port", str(port)], env=env, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {(Path(data_dir) / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
        out = subprocess.run([sys.executable, str(ROOT / "tests" / "slow" / "fuzz_accounts.py")], env=env,
                             capture_output=True, text=True, check=True).stdout
        tokens = dict(line.split("=", 1) for line in out.split())
        yield {"base": base, "port": port, "env": env, "log": Path(data_dir) / "server.log", **tokens}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


def _schemathesis(server: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    cmd = [exe, "--config-file", str(CONFIG), "run", f"{server['base']}/schema/openapi.json",
           "--exclude-path-regex", "/events$", "--max-examples", EXAMPLES, "--seed", SEED,
           "--workers", "1", "--request-timeout", "20", "--no-color", *args]
    return subprocess.run(cmd, env=server["env"], capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("who", ["anonymous", "reader", "moderator"])
def test_schemathesis_finds_nothing(server: dict[str, Any], who: str) -> None:
    args: list[str] = []
    if who != "anonymous":
        token = server["READER_TOKEN" if who == "reader" else "MODERATOR_TOKEN"]
        args = ["-H", f"Authorization: Bearer {token}",
                "--exclude-operation-id", "logout_user", "--exclude-operation-id", "logout_everywhere",
                "--exclude-operation-id", "delete_me"]
    result = _schemathesis(server, *args)
    summary = result.stdout[result.stdout.find("SUMMARY"):] if "SUMMARY" in result.stdout else result.stdout[-3000:]
    print(f"\nschemathesis as {who}:\n{summary}")
    assert result.returncode == 0, (
        f"schemathesis as {who} found failures:\n{result.stdout[-12000:]}\n{result.stderr[-2000:]}")
    assert "Traceback" not in server["log"].read_text(), "the server logged a traceback during fuzzing"


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
                if b"\r\n\r\n" in data and len(data) > 200:
                    break
        except (TimeoutError, ConnectionResetError):
            pass
    return data


def test_live_server_headers_and_http_level_floods(server: dict[str, Any]) -> None:
    base, port = server["base"], server["port"]
    r = httpx.get(f"{base}/health")
    assert "server" not in {k.lower() for k in r.headers}, r.headers
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert r.headers["referrer-policy"] == "no-referrer"
    # a 100,000-character query line, a header flood and a huge header: an HTTP answer below 500
    for name, request in {
        "100k-query": b"GET /api/search?q=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "300-headers": b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-Flood-%d: %s\r\n" % (i, b"v" * 50) for i in range(300)) + b"Connection: close\r\n\r\n",
        "64k-header": b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 65_000 + b"\r\nConnection: close\r\n\r\n",
        "bad-content-length": b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n"
                              b"Connection: close\r\n\r\n",
        "chunked-over-limit": b"POST /api/auth/register HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                              b"Content-Type: application/json\r\nConnection: close\r\n\r\n"
                              + b"".join(b"1000\r\n" + b"a" * 4096 + b"\r\n" for _ in range(20)) + b"0\r\n\r\n",
    }.items():
        data = _raw(port, request)
        assert data.startswith(b"HTTP/1.1 "), f"{name}: no HTTP answer ({data[:100]!r})"
        status = int(data[9:12])
        assert status < 500, f"{name}: {data[:300]!r}"
    # the server is still fine afterwards
    assert httpx.get(f"{base}/health").status_code == 200
