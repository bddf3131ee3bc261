"""GET /api/topics/{slug}/events: Server-Sent Events of the comments the public sees."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from forum import sql
from forum.errors import NotFound
from forum.live.lifecycle import Broker

HEARTBEAT_S = 15.0


async def _stream(broker: Broker, topic_id: int) -> AsyncIterator[ServerSentEventMessage]:
    sub = broker.subscribe(topic_id)
    dropped = asyncio.ensure_future(sub.dropped.wait())
    try:
        yield ServerSentEventMessage(comment="connected", retry=3000)
        while not sub.dropped.is_set():
            getter = asyncio.ensure_future(sub.queue.get())
            done, _ = await asyncio.wait({getter, dropped}, timeout=HEARTBEAT_S,
                                         return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                if not done:
                    yield ServerSentEventMessage(comment="ping")
                continue
            comment = getter.result()
            yield ServerSentEventMessage(event="comment", id=comment["id"],
                                         data=msgspec.json.encode(comment).decode())
    finally:
        # A disconnect cancels the response (Litestar listens for http.disconnect): leave.
        dropped.cancel()
        broker.unsubscribe(sub)


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
        return ServerSentEvent(_stream(broker, topic_id), headers={"Cache-Control": "no-cache",
                                                                   "X-Accel-Buffering": "no"})


ROUTES: list[Any] = [LiveController]
