"""Live updates fan-out: one handler on this process's EventListener feeds every open
event stream of this process.

An event `comment` (a comment became visible to the public) for a topic somebody watches
is turned into the public comment JSON and encoded as one Server-Sent Event once per
process, then the same bytes are offered to each subscriber without waiting: a subscriber
too far behind or whose writes stall (a slow or vanished client) is dropped and its
connection closed, so nobody blocks writers or other readers (forum.live.fanout).
"""

from __future__ import annotations

import logging
from typing import Any

from forum.events import COMMENT, EventListener, TopicEvent
from forum.live.fanout import Fanout

log = logging.getLogger("forum.live")

QUEUE_SIZE = 100


class Broker(Fanout):
    """Keyed by topic id."""

    def __init__(self) -> None:
        super().__init__(QUEUE_SIZE)

    def on_event(self, event: TopicEvent) -> Any:
        """EventListener handler: cheap and synchronous unless someone watches the topic."""
        if event.kind != COMMENT or event.comment_id is None or not self.watched(event.topic_id):
            return None
        return self._publish(event.topic_id, event.comment_id)

    async def _publish(self, topic_id: int, comment_id: int) -> None:
        from forum.comments.services import public_comment

        try:
            comment = await public_comment(comment_id)
        except Exception:  # the database hiccuped: this event is lost, streams live on
            log.warning("could not load comment %s for live updates", comment_id)
            return
        # Only what the public may see: published, not private (public_comment already says so).
        if comment is None or comment.get("private") or comment.get("status") != "published":
            return
        self.deliver(topic_id, "comment", comment)


async def on_startup(app: Any, settings: Any, listener: EventListener) -> None:
    broker = Broker()  # one per app: the app's listener feeds only the app's streams
    app.state.live_broker = broker
    listener.add_handler(broker.on_event)


async def on_shutdown(app: Any) -> None:
    broker: Broker | None = getattr(app.state, "live_broker", None)
    if broker is None:
        return
    broker.close_all()
