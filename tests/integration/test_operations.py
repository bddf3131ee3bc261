"""Operations: /health/live and /health/ready, forwarded client addresses (uvicorn's
proxy-header middleware, trusted proxies only), the one access line per request."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from forum import health, logs, ratelimit, sql
from forum.app import create_app
from forum.db import engine
from forum.settings import Settings

# ---------------------------------------------------------------- health


async def test_live_answers_without_the_database(client: httpx.AsyncClient) -> None:
    pool, engine.pool = engine.pool, None
    try:
        r = await client.get("/health/live")
    finally:
        engine.pool = pool
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_ready_when_the_database_answers_and_migrations_are_current(client: httpx.AsyncClient) -> None:
    health._migrations_seen_current_at = -health._MIGRATIONS_TTL_S
    r = await client.get("/health/ready")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "database": "ok", "migrations": "current", "detail": None}


async def test_not_ready_without_the_database(client: httpx.AsyncClient) -> None:
    pool, engine.pool = engine.pool, None
    try:
        r = await client.get("/health/ready")
    finally:
        engine.pool = pool
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "not_ready" and body["database"] == "unavailable" and body["detail"]
    assert r.headers["retry-after"]


@pytest.fixture
async def one_migration_unapplied(client: httpx.AsyncClient) -> AsyncIterator[dict[str, Any]]:
    row = await sql.fetchrow("SELECT * FROM migration ORDER BY id DESC LIMIT 1")
    assert row is not None
    await sql.execute("DELETE FROM migration WHERE id = $1", row["id"])
    health._migrations_seen_current_at = -health._MIGRATIONS_TTL_S
    try:
        yield dict(row)
    finally:
        await sql.execute("INSERT INTO migration (id, name, app_name, ran_on) VALUES ($1, $2, $3, $4)",
                          row["id"], row["name"], row["app_name"], row["ran_on"])
        health._migrations_seen_current_at = -health._MIGRATIONS_TTL_S


async def test_not_ready_while_a_migration_is_pending(client: httpx.AsyncClient,
                                                      one_migration_unapplied: dict[str, Any]) -> None:
    r = await client.get("/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["database"] == "ok" and body["migrations"] == "pending"
    assert "forum migrate" in body["detail"]
    # /health keeps answering as before: it is about the database only
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/health/live")).status_code == 200


async def test_health_routes_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert paths["/health/live"]["get"]["operationId"] == "get_health_live"
    assert "503" in paths["/health/ready"]["get"]["responses"]


# ---------------------------------------------------------------- forwarded addresses


@pytest.fixture
async def behind_proxy(client: httpx.AsyncClient, settings: Settings, rate_limits_on: None) -> Any:
    """The app as configured behind proxies in 10.0.0.0/8 (and ::1); it shares the pool the
    session's app opened."""
    app = create_app(settings.with_overrides(trusted_proxies=("10.0.0.0/8", "::1"), rate_limit_factor=1.0))

    def client_from(peer: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 40000)),
                                 base_url="http://testserver")
    return client_from


async def _seen_addresses() -> list[str]:
    """The client addresses the app keyed its reset limit by (stored as keyed hashes)."""
    rows = await sql.fetch("SELECT key FROM rate_limit_bucket WHERE key LIKE 'pwreset:%' ORDER BY key")
    per_login = ratelimit.stored_key("pwreset:login:nobody")  # the other limit a reset request counts
    return [r["key"] for r in rows if r["key"] != per_login]


def _keys(*addresses: str) -> list[str]:
    return sorted(ratelimit.stored_key(f"pwreset:ip:{a}") for a in addresses)


async def _ask_reset(c: httpx.AsyncClient, forwarded_for: str | None) -> None:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    async with c:
        r = await c.post("/api/auth/password-reset", json={"login": "nobody"}, headers=headers)
    assert r.status_code in (202, 204), r.text


async def test_a_trusted_proxy_names_the_client(behind_proxy: Any) -> None:
    await _ask_reset(behind_proxy("10.1.2.3"), "203.0.113.7")
    assert await _seen_addresses() == _keys("203.0.113.7")


async def test_the_right_most_untrusted_hop_is_the_client(behind_proxy: Any) -> None:
    # a client can put anything first; the proxies append: the last untrusted hop is real
    await _ask_reset(behind_proxy("10.1.2.3"), "1.1.1.1, 198.51.100.20, 10.9.9.9")
    assert await _seen_addresses() == _keys("198.51.100.20")


async def test_an_untrusted_peer_cannot_forward(behind_proxy: Any) -> None:
    await _ask_reset(behind_proxy("192.0.2.50"), "203.0.113.7")
    assert await _seen_addresses() == _keys("192.0.2.50")


async def test_ipv6_proxy(behind_proxy: Any) -> None:
    await _ask_reset(behind_proxy("::1"), "2001:db8::5")
    assert await _seen_addresses() == _keys("2001:db8::5")


async def test_without_trusted_proxies_the_header_is_ignored(client: httpx.AsyncClient,
                                                             rate_limits_on: None) -> None:
    r = await client.post("/api/auth/password-reset", json={"login": "nobody"},
                          headers={"X-Forwarded-For": "203.0.113.7"})
    assert r.status_code in (202, 204)
    assert await _seen_addresses() == _keys("127.0.0.1")  # the client fixture's socket address


def test_trusted_proxies_setting_is_checked_and_canonical() -> None:
    from forum.settings import SettingsError

    s = Settings.from_env({"FORUM_TRUSTED_PROXIES": " 10.0.0.7/8, 192.168.1.1 ,fd00::/8"})
    assert s.trusted_proxies == ("10.0.0.0/8", "192.168.1.1", "fd00::/8")
    with pytest.raises(SettingsError, match="FORUM_TRUSTED_PROXIES"):
        Settings.from_env({"FORUM_TRUSTED_PROXIES": "proxy.example.org"})


# ---------------------------------------------------------------- the access line


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    """The forum.access lines, formatted as in production (JSON)."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(logs.JSONFormatter())
    handler.addFilter(logs._RequestIdFilter())
    access = logging.getLogger("forum.access")
    before = access.level
    access.setLevel(logging.INFO)
    access.addHandler(handler)
    try:
        yield lines
    finally:
        access.removeHandler(handler)
        access.setLevel(before)


async def test_one_json_access_line_per_request(client: httpx.AsyncClient, access_lines: list[str]) -> None:
    r = await client.get("/api/topics/no-such-topic", headers={"X-Request-ID": "probe-42"})
    assert r.status_code == 404
    assert len(access_lines) == 1
    line = json.loads(access_lines[0])
    assert line["level"] == "INFO" and line["logger"] == "forum.access"
    assert line["request_id"] == "probe-42"
    assert line["method"] == "GET" and line["route"] == "/api/topics/{slug}" and line["status"] == 404
    assert isinstance(line["ms"], float | int) and line["ms"] >= 0
    assert line["time"].endswith("Z")
    assert "no-such-topic" not in access_lines[0]  # the template, never the path a reader asked for


def test_uvicorn_writes_no_access_line_of_its_own() -> None:
    """uvicorn formats its access line for every answer whenever its logger has a handler
    anywhere up the tree; once the process's logging is set up (as `forum serve`'s app does
    after uvicorn's own set-up), it has none. In a process of its own: the test runner
    hangs capture handlers on every logger."""
    code = ("import logging; from forum import logs; logs.configure(); get = logging.getLogger;"
            " print(get('uvicorn.access').hasHandlers(), get('uvicorn.error').hasHandlers())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "True"]  # uvicorn's errors still reach the one handler


def test_log_format_setting() -> None:
    from forum.settings import SettingsError

    assert Settings.from_env({}).log_format == "auto"
    assert Settings.from_env({"FORUM_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(SettingsError, match="FORUM_LOG_FORMAT"):
        Settings.from_env({"FORUM_LOG_FORMAT": "xml"})
