"""GET /api/topics/{slug}/events: Server-Sent Events of the comments the public sees."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import ServerSentEvent

from forum import sql
from forum.errors import NotFound
from forum.live import fanout
from forum.live.lifecycle import Broker


class LiveController(Controller):
    path = "/api/topics"
    tags = ("live updates",)

    @get("/{slug:str}/events", operation_id="stream_topic_events", media_type="text/event-stream")
    async def stream_topic_events(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> ServerSentEvent:
        """`comment` events (the comment JSON) as comments become visible to the public, and
        `: ping` heartbeats every 15 s. Works across server processes (PostgreSQL NOTIFY)."""
        topic_id = await sql.fetchval(
            "SELECT id FROM topic WHERE slug = $1 AND status = 'published'", slug)
        if topic_id is None:
            raise NotFound("No such topic.")
        broker: Broker = request.app.state.live_broker
        return fanout.stream(broker, topic_id)


ROUTES: list[Any] = [LiveController]
