"""The outermost request layer: request ids, client address (uvicorn's proxy-header
middleware, trusted proxies only), security headers, request timeout, the access line
(one per request, forum.access) and metrics. It wraps every request, also those no route matches
(Litestar's app-level middleware only wraps routed handlers).

Shortcuts (`Shortcut`) may answer a request before Litestar routes it, for the few hot
answers whose cost would otherwise be mostly the framework's (the thread read, 200 and
304: forum/comments/shortcut.py). Their answers go through this layer like any other (same
headers, metrics under the route's name). A cross-origin request on an app with CORS
settings is never taken by a shortcut: its CORS headers are Litestar's to give."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, cast

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from forum import logs, metrics, openapi

if TYPE_CHECKING:
    from uvicorn._types import ASGI3Application

access_log = logging.getLogger("forum.access")

_JSON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]
_HTML_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
]
_REQUEST_ID_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


class _RequestIds:
    """Request ids unique across processes: a random part per process (new in a forked
    child) and a counter; as unique as a uuid4 per request, without a urandom call each."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._prefix = uuid.uuid4().hex[:20]
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):012x}"


_request_ids = _RequestIds()


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")[:128]
            if text and all(c in _REQUEST_ID_OK for c in text):
                return text
            break
    return _request_ids.next()


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer given before routing."""
    status: int
    headers: list[tuple[bytes, bytes]]  # all of them, Content-Type and Content-Length included
    route: str  # the route template it answers for (the metrics label)
    body: bytes = b""


class Shortcut(Protocol):
    async def answer(self, scope: HTTPScope) -> Answer | None:
        """The answer the route's handler would give, or None to let the handler answer.
        Runs under the request timeout, as the handler does."""


class ForumApp(Litestar):
    """Litestar with the outer layer described in the module docstring."""

    _proxy_headers: ASGIApp | None = None
    # immutable until configure_outer() replaces them (class-level defaults are shared)
    _allow: Mapping[str, bytes] = MappingProxyType({})
    _big_bodies: Sequence[tuple[re.Pattern[str], int]] = ()
    request_timeout_s: float = 15.0
    metrics_enabled: bool = True
    shortcuts: tuple[Shortcut, ...] = ()

    def configure_outer(self, *, trusted_proxies: tuple[str, ...], request_timeout_s: float,
                        metrics_enabled: bool, shortcuts: tuple[Shortcut, ...] = ()) -> None:
        # The client address behind trusted proxies is uvicorn's to decide (X-Forwarded-For,
        # right-most untrusted hop; X-Forwarded-Proto), applied here rather than by the server
        # so that every server and the in-process tests go through the same code.
        self._proxy_headers = cast("ASGIApp", ProxyHeadersMiddleware(
            cast("ASGI3Application", self._serve), trusted_hosts=list(trusted_proxies),
        )) if trusted_proxies else None
        self.request_timeout_s = request_timeout_s
        self.metrics_enabled = metrics_enabled
        self.shortcuts = shortcuts
        openapi.finish(self)
        self._allow = {route.path_format: ", ".join(sorted(route.methods)).encode()
                       for route in self.routes if hasattr(route, "methods")}
        # Paths whose handlers allow bigger bodies than the app-wide limit (the rules document).
        app_limit = getattr(self, "request_max_body_size", None) or 0
        big_bodies: list[tuple[re.Pattern[str], int]] = []
        for route in self.routes:
            limits = [h.resolve_request_max_body_size() or 0 for h in getattr(route, "route_handlers", ())
                      if hasattr(h, "resolve_request_max_body_size")]
            if limits and max(limits) > app_limit:
                pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(route.path_format))
                big_bodies.append((re.compile(f"^{pattern}$"), max(limits)))
        self._big_bodies = big_bodies


    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] != ScopeType.HTTP:  # a str enum: equal to the server's plain "http"
            await super().__call__(scope, receive, send)
        elif self._proxy_headers is not None:
            await self._proxy_headers(scope, receive, send)  # then self._serve, with the client rewritten
        else:
            await self._serve(cast("HTTPScope", scope), receive, send)

    async def _serve(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = _incoming_request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        rid_token = logs.request_id.set(request_id)
        status_holder = {"status": 500, "started": False}
        rid_header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                if scope["method"] == "OPTIONS" and message["status"] == 204:
                    # Litestar's automatic OPTIONS answer lists only the methods of the first
                    # handler registered at a path; list every method the path serves.
                    allow = self._allow.get(scope.get("path_template", ""))
                    if allow:
                        headers = [(k, v) for k, v in headers if k.lower() != b"allow"] + [(b"allow", allow)]
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                given = {k.lower() for k, _ in headers}
                # a response that set its own policy (forum/frontend/csp.py pages) keeps it
                headers.extend(h for h in (_HTML_HEADERS if ctype.startswith(b"text/html") else _JSON_HEADERS)
                               if h[0] not in given)
                headers.append(rid_header)
                message = {**message, "headers": headers}
            await send(message)

        streaming = scope["path"].endswith("/events")
        try:
            too_large = _declared_too_large(scope, getattr(self, "request_max_body_size", None), self._big_bodies)
            if too_large is not None:
                # Refused before routing, also on routes that never read their body (which
                # Litestar's own limit, applied when a handler reads the body, does not cover).
                await _send_json(send_wrapper, too_large, {
                    "status_code": too_large, "detail": "The request body is too large." if too_large == 413
                    else "The Content-Length header is not a valid number.",
                })
            elif streaming or self.request_timeout_s <= 0:
                await self._route(scope, receive, send_wrapper)
            else:
                try:
                    async with asyncio.timeout(self.request_timeout_s):
                        await self._route(scope, receive, send_wrapper)
                except TimeoutError:
                    if status_holder["started"]:
                        raise
                    await _send_json(send_wrapper, 503, {
                        "status_code": 503, "detail": "The request took too long; try again shortly.",
                    }, extra_headers=[(b"retry-after", b"2")])
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            status = int(status_holder["status"])
            if self.metrics_enabled:
                metrics.observe(scope["method"], str(route), status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                ms = round(elapsed * 1000, 2)
                # no client address and no query string: the request line is not a record of readers
                access_log.info("%s %s %d %.2fms", scope["method"], route, status, ms, extra={
                    "method": scope["method"], "route": route, "status": status, "ms": ms})
            logs.request_id.reset(rid_token)

    async def _route(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        """A shortcut's answer when one gives it, else Litestar's."""
        if self.shortcuts and not (self.cors_config is not None and any(k == b"origin" for k, _ in scope["headers"])):
            for shortcut in self.shortcuts:
                answer = await shortcut.answer(scope)
                if answer is not None:
                    scope["path_template"] = answer.route
                    await send({"type": "http.response.start", "status": answer.status,
                                "headers": list(answer.headers)})
                    await send({"type": "http.response.body", "body": answer.body, "more_body": False})
                    return
        await super().__call__(scope, receive, send)


def _declared_too_large(scope: Scope, limit: int | None,
                        bigger: Sequence[tuple[re.Pattern[str], int]]) -> int | None:
    """413 when the declared Content-Length exceeds the path's limit (`limit`, or a bigger
    one a handler declares), 400 when it is not a number."""
    if not limit:
        return None
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            if not value.isdigit() or len(value) > 18:
                return 400 if not value.isdigit() else 413
            declared = int(value)
            if declared <= limit:
                return None
            allowed = max((n for rx, n in bigger if rx.match(scope["path"])), default=limit)
            return 413 if declared > allowed else None
    return None


async def _send_json(send: Send, status: int, body: dict[str, Any],
                     extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    headers.extend(extra_headers or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload, "more_body": False})
