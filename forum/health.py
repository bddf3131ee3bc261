"""GET /health, /health/live, /health/ready and GET /metrics."""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Any, Literal

import asyncpg
import msgspec
from litestar import Controller, MediaType, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from forum import db, metrics, sql
from forum.db import engine
from forum.errors import Forbidden, NotFound, Unauthorized


class Health(msgspec.Struct):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]


class Liveness(msgspec.Struct):
    status: Literal["ok"]


class Readiness(msgspec.Struct):
    status: Literal["ready", "not_ready"]
    database: Literal["ok", "unavailable"]
    migrations: Literal["current", "pending", "unknown"]  # unknown: the database is unavailable
    detail: str | None = None  # why not ready, in words


# Migrations, once seen current, are not asked about again for a while: the files cannot
# change under a running process, and an operator rolling back is rare.
_MIGRATIONS_TTL_S = 30.0
_migrations_seen_current_at = -_MIGRATIONS_TTL_S


# When the pool is busy, one probe on a connection of our own answers for everyone for a
# second: a flood of /health must not turn into a flood of PostgreSQL connections.
_PROBE_TTL_S = 1.0
_probe_lock = asyncio.Lock()
_probe: dict[str, float | bool] = {"at": -_PROBE_TTL_S, "ok": False}


async def _ask_database() -> None:
    pool = engine.pool
    if pool is None:
        raise ConnectionError("the connection pool is not open")
    if pool.get_idle_size() > 0 or pool.get_size() < pool.get_max_size():
        await sql.fetchval("SELECT 1")
        return
    # Every pooled connection is busy: that is load, not an outage. Ask the database on a
    # short-lived connection of our own instead of queueing behind the requests.
    async with _probe_lock:
        if time.monotonic() - float(_probe["at"]) >= _PROBE_TTL_S:
            _probe["ok"] = False
            try:
                conn = await asyncpg.connect(engine.config["dsn"], timeout=2)
                try:
                    await conn.fetchval("SELECT 1")
                    _probe["ok"] = True
                finally:
                    await conn.close()
            finally:
                _probe["at"] = time.monotonic()
        if not _probe["ok"]:
            raise ConnectionError("the database did not answer")


class HealthController(Controller):
    tags = ("operations",)

    @get("/health", operation_id="get_health", cache=False,
         responses={503: ResponseSpec(data_container=Health, description="Database unavailable")})
    async def get_health(self) -> Response[Health]:
        """Liveness and database reachability: 200 ok, 503 when the database does not answer."""
        try:
            async with asyncio.timeout(2):  # answers quickly whatever the database does
                await _ask_database()
            return Response(Health(status="ok", database="ok"))
        except Exception:  # any failure means the database is not usable
            return Response(Health(status="degraded", database="unavailable"), status_code=503,
                            headers={"Retry-After": "5"})

    @get("/health/live", operation_id="get_health_live", cache=False)
    async def get_health_live(self) -> Liveness:
        """The process is up and answering; the database is not asked (a restart would not fix it)."""
        return Liveness(status="ok")

    @get("/health/ready", operation_id="get_health_ready", cache=False,
         responses={503: ResponseSpec(data_container=Readiness, description="Not ready: database or migrations")})
    async def get_health_ready(self) -> Response[Readiness]:
        """Ready for traffic: the database answers and every migration this code ships is applied."""
        global _migrations_seen_current_at
        try:
            async with asyncio.timeout(2):
                await _ask_database()
        except Exception:  # any failure means the database is not usable
            return _not_ready("unavailable", "unknown", "The database does not answer.")
        if time.monotonic() - _migrations_seen_current_at < _MIGRATIONS_TTL_S:
            return Response(Readiness(status="ready", database="ok", migrations="current"))
        try:
            async with asyncio.timeout(2):
                pending = await db.pending_migrations()
        except Exception:  # the pool is saturated or the database went away meanwhile
            return _not_ready("ok", "unknown", "Could not read the applied migrations.")
        if pending:
            return _not_ready("ok", "pending", f"{len(pending)} migration(s) not applied; run `forum migrate`.")
        _migrations_seen_current_at = time.monotonic()
        return Response(Readiness(status="ready", database="ok", migrations="current"))

    @get("/metrics", operation_id="get_metrics", media_type=MediaType.TEXT, include_in_schema=True)
    async def get_metrics(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """Prometheus text format. Can be switched off (FORUM_METRICS=off) or put behind a token."""
        settings = request.app.state.settings
        if not settings.metrics_enabled:
            raise NotFound("Not found.")
        if settings.metrics_token:
            header = request.headers.get("authorization", "")
            if not header:
                raise Unauthorized("Metrics need a token.")
            if not hmac.compare_digest(header.encode(), f"Bearer {settings.metrics_token}".encode()):
                raise Forbidden("Wrong metrics token.")
        pool = engine.pool
        if pool is not None:
            metrics.POOL_SIZE.set(pool.get_size())
            metrics.POOL_IN_USE.set(pool.get_size() - pool.get_idle_size())
        body, content_type = await metrics.render()
        return Response(body, media_type=content_type)


def _not_ready(database: Literal["ok", "unavailable"], migrations: Literal["current", "pending", "unknown"],
               detail: str) -> Response[Readiness]:
    return Response(Readiness(status="not_ready", database=database, migrations=migrations, detail=detail),
                    status_code=503, headers={"Retry-After": "5"})
