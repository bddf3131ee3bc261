"""GET /api/topics/{slug}/feed.atom: the thread's published comments as an Atom feed."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from forum.feeds import services

FEED_MAX_AGE_S = 60


@get("/api/topics/{slug:str}/feed.atom", operation_id="get_topic_feed", tags=["topics"], cache=False,
     media_type="application/atom+xml; charset=utf-8")
async def topic_feed(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[bytes]:
    """The newest 50 published, public comments of a published topic as an Atom 1.0 feed."""
    body = await services.thread_feed(slug, request.app.state.settings.public_url)
    return Response(body, media_type="application/atom+xml; charset=utf-8",
                    headers={"Cache-Control": f"public, max-age={FEED_MAX_AGE_S}"})


ROUTES: list[Any] = [topic_feed]
