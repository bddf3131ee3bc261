"""Console sessions: the API's own sessions (forum/auth.py `viewer_for_token`: the same
expiry, revocation and per-request role), carried in a cookie instead of a header.

The cookie is HttpOnly, SameSite=Strict, limited to /console, and Secure when the request
came over HTTPS. Every unsafe request under /console carries a CSRF token (Litestar's
CSRFMiddleware, mounted on the console's router only, so the bearer-token API never sees it).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from forum import auth, keyed
from forum.auth import Viewer

COOKIE = "forum_console"
PATH = "/console"
CSRF_COOKIE = "forum_console_csrf"
_STATE_KEY = "console_viewer"


def _secure(request: Request[Any, Any, Any]) -> bool:
    return request.url.scheme == "https"


def set_session(response: Response[Any], request: Request[Any, Any, Any], token: str) -> None:
    days, _ = auth.session_lifetimes()
    response.set_cookie(Cookie(key=COOKIE, value=token, path=PATH, httponly=True, samesite="strict",
                               secure=_secure(request), max_age=days * 86400))


def clear_session(response: Response[Any], request: Request[Any, Any, Any]) -> None:
    response.delete_cookie(COOKIE, path=PATH)


async def console_viewer(request: Request[Any, Any, Any]) -> Viewer | None:
    """The signed-in person of this console request, or None."""
    state = request.scope.setdefault("state", {})
    if _STATE_KEY in state:
        return state[_STATE_KEY]  # type: ignore[no-any-return]
    token = request.cookies.get(COOKIE)
    viewer = await auth.viewer_for_token(token, getattr(request.app.state, "shared_reads", None)) if token else None
    state[_STATE_KEY] = viewer
    return viewer


def session_token(request: Request[Any, Any, Any]) -> str | None:
    return request.cookies.get(COOKIE)


class ConsoleCSRF:
    """Litestar's CSRFMiddleware for the console's router, its secret derived from
    FORUM_SECRET_KEY (built on first use, once create_app has set the key)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._inner: CSRFMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._inner is None:
            https = scope.get("scheme") == "https"
            self._inner = CSRFMiddleware(self.app, CSRFConfig(
                secret=keyed.digest("console-csrf", "v1"), cookie_name=CSRF_COOKIE, cookie_path=PATH,
                cookie_samesite="strict", cookie_httponly=True, cookie_secure=https,
                header_name="x-csrftoken"))
        await self._inner(scope, receive, send)
