"""Security headers on every response, across a sample of routes and status codes:
nosniff, Referrer-Policy no-referrer, CSP `default-src 'none'; frame-ancestors 'none'` on
everything that is not HTML (the OpenAPI UI keeps frame-ancestors 'none'), a request id,
and no server version banner. The live server (uvicorn) is checked in test_schemathesis.py.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from forum import ratelimit
from tests.security.conftest import World
from tests.security.support import asgi_request, stream_start

JSON_CSP = "default-src 'none'; frame-ancestors 'none'"


def check(r_status: int, headers: dict[str, str], what: str) -> list[str]:
    h = {k.lower(): v for k, v in headers.items()}
    out = []
    ctype = h.get("content-type", "")
    if h.get("x-content-type-options", "").lower() != "nosniff":
        out.append("no nosniff")
    if h.get("referrer-policy", "").lower() != "no-referrer":
        out.append("no Referrer-Policy")
    csp = h.get("content-security-policy", "")
    if ctype.startswith("text/html"):
        if not re.search(r"frame-ancestors\s+'none'", csp):
            out.append(f"HTML without frame-ancestors: {csp!r}")
    elif csp != JSON_CSP:
        out.append(f"CSP {csp!r}")
    if re.search(r"\d", h.get("server", "")):
        out.append(f"Server banner {h['server']!r}")
    if "x-powered-by" in h:
        out.append("X-Powered-By")
    if not h.get("x-request-id"):
        out.append("no X-Request-ID")
    return [f"{what} -> {r_status}: {o}" for o in out]


async def test_headers_on_a_sample_of_routes_and_statuses(world: World, app: Any) -> None:
    c, w = world.client, world
    seen: dict[int, str] = {}
    failures: list[str] = []

    async def hit(method: str, path: str, expect: int, **kw: Any) -> httpx.Response:
        r = await c.request(method, path, **kw)
        assert r.status_code == expect, f"{method} {path}: expected {expect}, got {r.status_code} {r.text[:200]}"
        seen[r.status_code] = f"{method} {path}"
        failures.extend(check(r.status_code, dict(r.headers), f"{method} {path}"))
        return r

    await hit("GET", "/health", 200)
    await hit("GET", "/metrics", 200)
    await hit("GET", "/schema/openapi.json", 200)
    await hit("GET", "/schema", 200)
    await hit("GET", "/api/topics", 200)
    thread = await hit("GET", f"/api/topics/{w.slug}/comments", 200)
    await hit("GET", f"/api/topics/{w.slug}/comments", 304, headers={"If-None-Match": thread.headers["etag"]})
    await hit("POST", f"/api/topics/{w.slug}/comments", 201, headers=w.h(w.coach), json={"body": "hello"})
    await hit("POST", "/api/me/notifications/read", 204, headers=w.h(w.reader), json={"all": True})
    await hit("GET", f"/api/topics/{w.slug}/comments", 400, params={"limit": "-1"})
    await hit("GET", "/api/me", 401)
    await hit("GET", "/api/moderation/queues", 403, headers=w.h(w.reader))
    await hit("GET", "/api/no-such-route", 404)
    await hit("GET", "/api/comments/999999", 404)
    await hit("DELETE", "/api/topics", 405)
    await hit("POST", "/api/auth/register", 413, content=b"x" * (70 * 1024),
              headers={"Content-Type": "application/json"})
    await hit("POST", f"/api/comments/{w.comment_id}/flags", 409, headers=w.h(w.reader2),
              json={"reason": "spam"})
    await hit("POST", f"/api/topics/{w.slug}/comments", 403, headers=w.h(w.suspended), json={"body": "x"})
    await hit("GET", "/api/topics", 200, headers={"Origin": "https://evil.example"})
    ratelimit.set_factor(1.0)
    try:
        for _ in range(30):
            r = await c.post("/api/auth/login", json={"login": "nobody_here", "password": "wrong-password"})
            if r.status_code == 429:
                seen[429] = "POST /api/auth/login"
                failures.extend(check(429, dict(r.headers), "POST /api/auth/login (rate limited)"))
                assert r.headers.get("retry-after")
                break
    finally:
        ratelimit.set_factor(0.0)
    assert 429 in seen, "login was never rate limited"
    assert not failures, "\n".join(failures)
    assert {200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 413, 429} <= set(seen)


async def test_headers_on_a_stream_and_on_a_request_timeout(world: World, app: Any) -> None:
    """The SSE stream's first message, and the 503 the outer layer writes itself."""
    start = await stream_start(app, f"/api/topics/{world.slug}/events", {"accept": "text/event-stream"})
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    failures = check(start["status"], headers, "GET events")
    assert not failures, failures

    # the outer layer's own 503 (request timeout) carries the same headers
    old = app.request_timeout_s
    app.request_timeout_s = 0.000001
    try:
        status, raw, _ = await asgi_request(app, "GET", "/api/topics")
    finally:
        app.request_timeout_s = old
    assert status == 503
    failures = check(status, {k.decode(): v.decode() for k, v in raw.items()}, "timeout 503")
    assert not failures, failures
