"""Timeouts: one slow query or one slow handler cannot hold a request (or a pool slot)
forever, and /health answers quickly while the pool is exhausted.

An app of its own (1 s statement timeout, 1.5 s request timeout, a pool of 2) with
test-only routes that sleep in PostgreSQL or in Python.
"""

from __future__ import annotations

import asyncio
import importlib
import time
import uuid
from typing import Any

import asyncpg
import pytest
from litestar import get
from litestar.params import FromPath

from forum import db, sql
from forum.settings import Settings
from tests.security.support import client_for, own_app

STATEMENT_TIMEOUT_MS = 1000
REQUEST_TIMEOUT_S = 1.5
POOL_MAX = 2
MARK = f"h7timeout{uuid.uuid4().hex[:8]}"


@get("/_test/sleep-sql/{seconds:float}", operation_id="test_sleep_sql", include_in_schema=False)
async def sleep_sql(seconds: FromPath[float]) -> dict[str, Any]:
    await sql.fetchval(f"SELECT pg_sleep($1) /* {MARK} */", seconds)
    return {"slept": seconds}


@get("/_test/sleep-py/{seconds:float}", operation_id="test_sleep_py", include_in_schema=False)
async def sleep_py(seconds: FromPath[float]) -> dict[str, Any]:
    await asyncio.sleep(seconds)
    return {"slept": seconds}


@get("/_test/hold/{seconds:float}", operation_id="test_hold", include_in_schema=False)
async def hold(seconds: FromPath[float]) -> dict[str, Any]:
    """Holds a pool connection (inside a transaction) while the handler is slow."""
    async with sql.transaction():
        await sql.fetchval("SELECT 1")
        await asyncio.sleep(seconds)
    return {"held": seconds}


@get("/_test/sleep-sql-unbounded/{seconds:float}", operation_id="test_sleep_sql_unbounded",
     include_in_schema=False)
async def sleep_sql_unbounded(seconds: FromPath[float]) -> dict[str, Any]:
    """A query the statement timeout does not cover: only the request timeout can stop it."""
    async with sql.transaction():
        await sql.execute("SET LOCAL statement_timeout = 0")
        await sql.fetchval(f"SELECT pg_sleep($1) /* {MARK} */", seconds)
    return {"slept": seconds}


ROUTES = [sleep_sql, sleep_py, hold, sleep_sql_unbounded]


@pytest.fixture
async def slow_app(migrated: str, settings: Settings) -> Any:
    async with own_app(settings, migrated, ROUTES, db_statement_timeout_ms=STATEMENT_TIMEOUT_MS,
                       request_timeout_s=REQUEST_TIMEOUT_S, db_pool_min=1, db_pool_max=POOL_MAX) as app:
        yield app


async def _timed(call: Any) -> tuple[Any, float]:
    t0 = time.monotonic()
    r = await call
    return r, time.monotonic() - t0


def _assert_503(r: Any) -> None:
    assert r.status_code == 503, r.text
    assert r.headers.get("retry-after"), r.headers
    body = r.json()
    assert body["status_code"] == 503 and body["detail"].strip()
    assert r.headers.get("content-security-policy") == "default-src 'none'; frame-ancestors 'none'"


async def _pool_fully_usable() -> None:
    pool = db.engine.pool
    assert pool is not None
    held = []
    try:
        for _ in range(POOL_MAX):
            held.append(await asyncio.wait_for(pool.acquire(), 3))
    finally:
        for conn in held:
            await pool.release(conn)
    assert len(held) == POOL_MAX


async def test_slow_query_is_cut_by_the_statement_timeout(slow_app: Any) -> None:
    async with client_for(slow_app) as c:
        # 1.2 s of SQL: past the 1 s statement timeout, within the 1.5 s request timeout
        r, elapsed = await _timed(c.get("/_test/sleep-sql/1.2"))
    _assert_503(r)
    assert "too long" in r.json()["detail"]
    assert elapsed < STATEMENT_TIMEOUT_MS / 1000 + 0.4, elapsed
    await _pool_fully_usable()


async def test_slow_query_is_cut_by_the_request_timeout_and_cancelled(slow_app: Any, migrated: str) -> None:
    async with client_for(slow_app) as c:
        r, elapsed = await _timed(c.get("/_test/sleep-sql-unbounded/30"))
    _assert_503(r)
    assert REQUEST_TIMEOUT_S - 0.1 < elapsed < REQUEST_TIMEOUT_S + 0.5, elapsed
    # the query does not keep running in PostgreSQL after the request was answered
    conn = await asyncpg.connect(migrated)
    try:
        deadline = time.monotonic() + 3
        while True:
            running = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1",
                f"%{MARK}%pg_sleep%")
            # our own query text contains MARK as a parameter, not as text: it is not counted
            if running == 0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    assert running == 0, "the slow query kept running after its request timed out"
    await _pool_fully_usable()


async def test_slow_handler_is_cut_by_the_request_timeout(slow_app: Any) -> None:
    async with client_for(slow_app) as c:
        r, elapsed = await _timed(c.get("/_test/sleep-py/60"))
    _assert_503(r)
    assert elapsed < REQUEST_TIMEOUT_S + 0.5, elapsed


async def test_health_answers_quickly_while_the_pool_is_exhausted(slow_app: Any) -> None:
    async with client_for(slow_app) as c:
        holders = [asyncio.create_task(c.get("/_test/hold/1.4")) for _ in range(POOL_MAX * 2)]
        await asyncio.sleep(0.2)
        assert db.engine.pool is not None and db.engine.pool.get_idle_size() == 0
        r, elapsed = await _timed(c.get("/health"))
        results = await asyncio.gather(*holders)
        # after the holders are done (or timed out), health is fine again
        r2 = await c.get("/health")
    print(f"\n/health with the pool exhausted: {r.status_code} in {elapsed:.2f}s")
    assert elapsed < 2.5, f"/health took {elapsed:.2f}s with the pool exhausted"
    # a busy pool is load, not an outage: the database itself still answers
    assert r.status_code == 200 and r.json()["database"] == "ok", r.text
    assert r2.status_code == 200, r2.text
    assert all(x.status_code in (200, 503) for x in results), [x.status_code for x in results]
    await _pool_fully_usable()


async def test_request_timeout_inside_a_transaction_frees_the_slot(slow_app: Any) -> None:
    async with client_for(slow_app) as c:
        rs = await asyncio.gather(*[c.get("/_test/hold/30") for _ in range(POOL_MAX)])
        for r in rs:
            _assert_503(r)
        ok = await c.get("/health")
    assert ok.status_code == 200, ok.text
    await _pool_fully_usable()


async def test_health_flood_with_a_busy_pool_opens_one_probe_connection(slow_app: Any) -> None:
    """Many /health requests while the pool is exhausted share one probe connection."""
    opened: list[int] = []
    real_connect = asyncpg.connect

    async def counting_connect(*args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        return await real_connect(*args, **kwargs)

    async with client_for(slow_app) as c:
        holders = [asyncio.create_task(c.get("/_test/hold/1.4")) for _ in range(POOL_MAX * 2)]
        await asyncio.sleep(0.2)
        assert db.engine.pool is not None and db.engine.pool.get_idle_size() == 0
        health_module = importlib.import_module("forum.health")
        health_module._probe["at"] = -10.0  # no earlier probe result
        original = health_module.asyncpg.connect
        health_module.asyncpg.connect = counting_connect
        try:
            results = await asyncio.gather(*(c.get("/health") for _ in range(30)))
        finally:
            health_module.asyncpg.connect = original
        await asyncio.gather(*holders)
    assert all(r.status_code == 200 for r in results), [r.status_code for r in results]
    assert len(opened) == 1, f"{len(opened)} probe connections for 30 health checks"
    await _pool_fully_usable()
