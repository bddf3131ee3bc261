"""Health, OpenAPI, JSON errors, body limit, request ids, security headers, metrics."""

from __future__ import annotations

import gc

import httpx

from forum import sql
from forum.app import YOUNG_GC_THRESHOLD
from forum.db import engine


async def test_health_checks_the_database(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


async def test_pooled_connections_plan_each_statement_once(client: httpx.AsyncClient) -> None:
    """FORUM_DB_PLAN_CACHE_MODE (forum/db.py): generic plans, on every connection of the pool."""
    pool = engine.pool
    assert pool is not None
    connections = [await pool.acquire() for _ in range(2)]
    try:
        for connection in connections:
            assert await connection.fetchval("SHOW plan_cache_mode") == "force_generic_plan"
    finally:
        for connection in connections:
            await pool.release(connection)
    assert await sql.fetchval("SHOW plan_cache_mode") == "force_generic_plan"


async def test_a_serving_process_collects_young_objects_rarely(client: httpx.AsyncClient) -> None:
    """Set at start-up (forum/app.py): a page build's few thousand objects, freed once it is
    encoded, no longer set off collections; older generations keep their thresholds."""
    assert gc.get_threshold()[0] == YOUNG_GC_THRESHOLD
    assert gc.isenabled()
    r = await client.get("/health")
    assert r.status_code == 200


async def test_health_is_503_when_the_pool_is_gone(client: httpx.AsyncClient) -> None:
    pool, engine.pool = engine.pool, None
    try:
        r = await client.get("/health")
    finally:
        engine.pool = pool
    assert r.status_code == 503
    assert r.json()["database"] == "unavailable"
    assert r.headers["retry-after"]


async def test_openapi_document_and_ui(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/schema/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    # a body the handler can do without is not marked required; the others are
    paths = doc["paths"]
    assert paths["/api/moderation/users/{user_id}/unsuspend"]["post"]["requestBody"]["required"] is False
    assert paths["/api/moderation/users/{user_id}/suspend"]["post"]["requestBody"]["required"] is True
    assert "/health" in doc["paths"]
    ui = await client.get("/schema", follow_redirects=True)
    assert ui.status_code == 200 and "html" in ui.headers["content-type"]


async def test_unknown_route_is_json_404_with_request_id(client: httpx.AsyncClient) -> None:
    r = await client.get("/nope", headers={"X-Request-ID": "abc-123"})
    assert r.status_code == 404
    assert r.json() == {"status_code": 404, "detail": "Not found."}
    assert r.headers["x-request-id"] == "abc-123"


async def test_wrong_method_is_json_405(client: httpx.AsyncClient) -> None:
    r = await client.delete("/health")
    assert r.status_code == 405
    assert r.json()["status_code"] == 405 and "DELETE" in r.json()["detail"]


async def test_request_id_generated_and_unsafe_ones_replaced(client: httpx.AsyncClient) -> None:
    a, b = await client.get("/health"), await client.get("/health")
    assert a.headers["x-request-id"] != b.headers["x-request-id"]
    r = await client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert r.headers["x-request-id"] != "bad id\twith spaces"


async def test_security_headers_on_json_and_errors(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/nope"):
        r = await client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert "server" not in r.headers


async def test_body_over_limit_is_413(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/auth/register", content=b"{" + b" " * (70 * 1024) + b"}",
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["status_code"] == 413


async def test_chunked_body_over_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield b"z" * 1024

    r = await client.post("/api/auth/register", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


async def test_metrics_are_prometheus_text(client: httpx.AsyncClient) -> None:
    await client.get("/health")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert "forum_http_requests_total" in r.text
    assert 'route="/health"' in r.text
    assert "forum_db_pool_connections" in r.text
