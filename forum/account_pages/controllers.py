"""The reader's pages, served by the app: `/signin`, `/register`, `/reset`, `/confirm-email`,
`/notifications`, `/account`, `/unsubscribe`.

Each is the same HTML shell (forum/frontend/templates/account/page.html on base.html, the
strict CSP of forum/frontend/csp.py) with one Preact+htm module that draws the page and
talks to the JSON API with the reader's bearer token, kept in this origin's localStorage
(as the widget's frame keeps it). The server reads no token and no cookie here: the pages
are the same for everyone, and tokens in links (`?token=`) are read by the page's script
and sent to the API, never logged by a page route. Behind a reverse proxy under a path
prefix, every URL a page names carries the prefix of FORUM_PUBLIC_URL (forum.frontend.assets).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from forum.frontend import assets, i18n
from forum.frontend.pages import page

PAGES = {  # path -> (page name for the script, title msgid)
    "/signin": ("signin", "account.signin.title"),
    "/register": ("register", "account.register.title"),
    "/reset": ("reset", "account.reset.title"),
    "/confirm-email": ("confirm", "account.confirm.title"),
    "/notifications": ("notifications", "account.notifications.title"),
    "/account": ("account", "account.settings.title"),
    "/unsubscribe": ("unsubscribe", "account.unsubscribe.title"),
}


def _render(request: Request[Any, Any, Any], path: str) -> Template:
    name, title_id = PAGES[path]
    settings = request.app.state.settings
    return page("account/page.html", title=f"{i18n.t(title_id)} – {settings.site_name}",
                module="js/account/main.js", i18n_prefixes=("account.",), stylesheets=("css/account.css",),
                config={"page": name, "base": assets.public_path(), "site": settings.site_name},
                context={"site": settings.site_name, "base": assets.public_path(), "heading": i18n.t(title_id)})


@get("/signin", operation_id="page_signin", include_in_schema=False, cache=False)
async def signin_page(request: Request[Any, Any, Any]) -> Template:
    """Sign in (signing in here signs nobody out anywhere else)."""
    return _render(request, "/signin")


@get("/register", operation_id="page_register", include_in_schema=False, cache=False)
async def register_page(request: Request[Any, Any, Any]) -> Template:
    """Create an account."""
    return _render(request, "/register")


@get("/reset", operation_id="page_reset", include_in_schema=False, cache=False)
async def reset_page(request: Request[Any, Any, Any]) -> Template:
    """Choose a new password with an emailed link (`?token=`), or ask for a link."""
    return _render(request, "/reset")


@get("/confirm-email", operation_id="page_confirm_email", include_in_schema=False, cache=False)
async def confirm_email_page(request: Request[Any, Any, Any]) -> Template:
    """Confirm an email address with the emailed link (`?token=`)."""
    return _render(request, "/confirm-email")


@get("/notifications", operation_id="page_notifications", include_in_schema=False, cache=False)
async def notifications_page(request: Request[Any, Any, Any]) -> Template:
    """The reader's notifications, newest first."""
    return _render(request, "/notifications")


@get("/account", operation_id="page_account", include_in_schema=False, cache=False)
async def account_page(request: Request[Any, Any, Any]) -> Template:
    """The reader's account settings."""
    return _render(request, "/account")


# In the OpenAPI document (unlike the other pages): the path is also the RFC 8058 POST route's,
# and the document must name every method the server answers there.
@get("/unsubscribe", operation_id="page_unsubscribe", cache=False, media_type="text/html", tags=["notifications"])
async def unsubscribe_page(request: Request[Any, Any, Any]) -> Template:
    """The HTML page the `List-Unsubscribe` link opens: asks, then turns notification emails
    off with `POST /api/unsubscribe` (the GET itself changes nothing)."""
    return _render(request, "/unsubscribe")


ROUTES: list[Any] = [signin_page, register_page, reset_page, confirm_email_page, notifications_page,
                     account_page, unsubscribe_page]
