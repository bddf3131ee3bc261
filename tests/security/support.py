"""Helpers for the security and reliability tests.

Most tests use the shared session `app` / `client` fixtures (tests/conftest.py). Some need
an app of their own (other timeouts, a test-only slow route, an embedded PostgreSQL they
can stop): `own_app()` builds one with `create_app`, runs its lifespan in a task, and
swaps the process-wide Piccolo engine's pool and config while it runs, restoring the
session app's pool afterwards (tests run one at a time on one loop, so this is safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from forum import db
from forum.app import create_app
from forum.settings import Settings


@asynccontextmanager
async def swapped_engine() -> AsyncIterator[None]:
    """Let another app open its own pool on the shared engine; restore the old one after."""
    saved_config, saved_pool = dict(db.engine.config), db.engine.pool
    db.engine.pool = None
    try:
        yield
    finally:
        pool = db.engine.pool
        if pool is not None and pool is not saved_pool:
            pool.terminate()
        db.engine.config, db.engine.pool = saved_config, saved_pool


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[Any]:
    """Run `app`'s lifespan in its own task (see notes/stack.md) while the block runs."""
    started, stop = asyncio.Event(), asyncio.Event()
    failure: list[BaseException] = []

    async def run_lifespan() -> None:
        try:
            async with app.lifespan():
                started.set()
                await stop.wait()
        except BaseException as exc:  # reported to the waiting test
            failure.append(exc)
            started.set()
            raise

    task = asyncio.create_task(run_lifespan())
    await asyncio.wait_for(started.wait(), 30)
    if failure:
        raise failure[0]
    try:
        yield app
    finally:
        stop.set()
        with contextlib.suppress(Exception):  # a failing shutdown must not hide the test's result
            await asyncio.wait_for(task, 30)


@asynccontextmanager
async def own_app(base: Settings, dsn: str, extra_routes: Iterable[Any] = (),
                  **overrides: Any) -> AsyncIterator[Any]:
    """An app of its own on `dsn`, with settings overrides and test-only routes."""
    settings = base.with_overrides(database_url=dsn, **overrides)
    async with swapped_engine():
        app = create_app(settings, dsn=dsn)
        for handler in extra_routes:
            app.register(handler)
        async with running(app):
            yield app


def client_for(app: Any, timeout: float = 30) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=timeout)


def strip_types(path: str) -> str:
    """'/api/comments/{id:int}' -> '/api/comments/{id}'."""
    return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path)


def route_exists(app: Any, method: str, path_template: str) -> bool:
    """Whether the app serves `method path_template` (path params as in the route table)."""
    for route in app.routes:
        if strip_types(route.path) == path_template and method.upper() in getattr(route, "methods", set()):
            return True
    return False


async def asgi_request(app: Any, method: str, path: str, query: bytes = b"",
                       headers: list[tuple[bytes, bytes]] | None = None,
                       body: bytes = b"") -> tuple[int, dict[bytes, bytes], bytes]:
    """One raw ASGI request: for what httpx refuses to send (a 100 KB query string,
    non-ASCII header bytes). Returns (status, headers, body)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
        "root_path": "", "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 40000), "server": ("testserver", 80),
    }
    sent = False
    out: dict[str, Any] = {"status": None, "headers": {}, "body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.lower(): v for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out["status"], out["headers"], out["body"]


async def stream_start(app: Any, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The `http.response.start` message of a streaming response (SSE), then disconnect."""
    start: dict[str, Any] = {}
    got = asyncio.Event()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver"),
                         *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items())],
             "client": ("127.0.0.1", 40000), "server": ("testserver", 80)}

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            got.set()

    task = asyncio.create_task(app(scope, receive, send))
    try:
        await asyncio.wait_for(got.wait(), 5)
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):  # cancelled, or failed: the start message is what counts
            await task
    return start
