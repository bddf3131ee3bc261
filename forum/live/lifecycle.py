"""Live updates fan-out: one handler on this process's EventListener feeds every open
event stream of this process.

An event `comment` (a comment became visible to the public) for a topic somebody watches
is turned into the public comment JSON once per process, then offered to each
subscriber's bounded queue without waiting: a subscriber whose queue is full (a slow or
vanished client) is dropped and its stream ends, so nobody blocks writers or other readers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from forum.events import COMMENT, EventListener, TopicEvent

log = logging.getLogger("forum.live")

QUEUE_SIZE = 100


class Subscriber:
    __slots__ = ("dropped", "queue", "topic_id")

    def __init__(self, topic_id: int):
        self.topic_id = topic_id
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.dropped = asyncio.Event()


class Broker:
    def __init__(self) -> None:
        self.topics: dict[int, set[Subscriber]] = {}

    def subscribe(self, topic_id: int) -> Subscriber:
        sub = Subscriber(topic_id)
        self.topics.setdefault(topic_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self.topics.get(sub.topic_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self.topics[sub.topic_id]

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self.topics.values())

    def on_event(self, event: TopicEvent) -> Any:
        """EventListener handler: cheap and synchronous unless someone watches the topic."""
        if event.kind != COMMENT or event.comment_id is None or event.topic_id not in self.topics:
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
        self.deliver(topic_id, comment)

    def deliver(self, topic_id: int, comment: dict[str, Any]) -> None:
        for sub in list(self.topics.get(topic_id, ())):
            try:
                sub.queue.put_nowait(comment)
            except asyncio.QueueFull:
                sub.dropped.set()
                self.unsubscribe(sub)


async def on_startup(app: Any, settings: Any, listener: EventListener) -> None:
    broker = Broker()  # one per app: the app's listener feeds only the app's streams
    app.state.live_broker = broker
    listener.add_handler(broker.on_event)


async def on_shutdown(app: Any) -> None:
    broker: Broker | None = getattr(app.state, "live_broker", None)
    if broker is None:
        return
    for subs in list(broker.topics.values()):
        for sub in list(subs):
            sub.dropped.set()
            broker.unsubscribe(sub)
