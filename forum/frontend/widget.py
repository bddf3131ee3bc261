"""The comment widget's page, `/embed/thread`: the document `embed.js` puts in an iframe on
the blog. It is a shell (base.html) for the widget's ES module; the widget reads the thread
through the JSON API of its own origin. Only the blogs on FORUM_EMBED_ORIGINS may frame it
(CSP frame-ancestors), and the widget talks by postMessage only to the parent origin it was
given, and only when that origin is on the list."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import QueryParameter
from litestar.response import Template

from forum.frontend import hostvars, i18n
from forum.frontend.pages import page

Text = Annotated[str | None, QueryParameter(max_length=300)]
Address = Annotated[str | None, QueryParameter(max_length=2000)]
Theme = Annotated[str | None, QueryParameter(max_length=5)]
CommentId = Annotated[int | None, QueryParameter(ge=1, le=2**62)]


@get("/embed/thread", operation_id="get_embed_thread_page", include_in_schema=False, cache=False)
async def embed_thread(request: Request[Any, Any, Any], topic: Text = None, url: Address = None,
                       title: Text = None, theme: Theme = None, lang: Text = None, parent: Address = None,
                       comment: CommentId = None, vars: Text = None) -> Template:
    """The comment widget (HTML shell; the thread itself is read through the JSON API)."""
    settings = request.app.state.settings
    language = i18n.pick_language(lang)
    parent_origin = (parent or "").rstrip("/").lower()
    config = {
        "topic": topic or None, "url": url or None, "title": title or None,
        "parent": parent_origin if parent_origin in settings.embed_origins else None,
        "comment": comment, "guest_challenge": settings.guest_challenge,
        "vars": hostvars.parse(vars),  # the blog's colours, font and radius (checked)
    }
    return page("embed.html", title=i18n.t("widget.frame_title", language), lang=language,
                module="js/widget/main.js", i18n_prefixes=("widget.",), config=config,
                frame_ancestors=settings.embed_origins, worker_src=settings.guest_challenge,
                theme=theme or "auto", stylesheets=["css/widget.css"])


ROUTES: list[Any] = [embed_thread]
