"""The live notification stream: `GET /api/me/notifications/events` (Server-Sent Events).

Every notification sends a NOTIFY on `forum_notifications` when its transaction commits
(forum.notifications.services.notify); each process's EventListener hands the payload to
this broker, which offers the notification to the streams of its recipient open in this
process. So a coach is told of an urgent item at once, whichever process they are
connected to. Bounded queues: a slow client is dropped, never waited for.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar.response.sse import ServerSentEventMessage

log = logging.getLogger("forum.notifications")

QUEUE_SIZE = 50
HEARTBEAT_S = 15.0


class Subscriber:
    __slots__ = ("dropped", "queue", "user_id")

    def __init__(self, user_id: int):
        self.user_id = user_id
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.dropped = asyncio.Event()


class NotificationBroker:
    def __init__(self) -> None:
        self.users: dict[int, set[Subscriber]] = {}

    def subscribe(self, user_id: int) -> Subscriber:
        sub = Subscriber(user_id)
        self.users.setdefault(user_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self.users.get(sub.user_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self.users[sub.user_id]

    def on_payload(self, payload: str) -> Any:
        """EventListener channel handler: cheap unless the recipient has a stream here."""
        try:
            data = json.loads(payload)
            user_id, notification_id = int(data["u"]), int(data["n"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring malformed notification payload")
            return None
        if user_id not in self.users:
            return None
        return self._publish(user_id, notification_id)

    async def _publish(self, user_id: int, notification_id: int) -> None:
        from forum.notifications.services import one_for

        try:
            item = await one_for(user_id, notification_id)
        except Exception:  # the database hiccuped: the list still has it
            log.warning("could not load notification %s for its live stream", notification_id)
            return
        if item is not None:
            self.deliver(user_id, item)

    def deliver(self, user_id: int, item: dict[str, Any]) -> None:
        for sub in list(self.users.get(user_id, ())):
            try:
                sub.queue.put_nowait(item)
            except asyncio.QueueFull:
                sub.dropped.set()
                self.unsubscribe(sub)

    def close_all(self) -> None:
        for subs in list(self.users.values()):
            for sub in list(subs):
                sub.dropped.set()
                self.unsubscribe(sub)


async def stream(broker: NotificationBroker, user_id: int) -> AsyncIterator[ServerSentEventMessage]:
    sub = broker.subscribe(user_id)
    dropped = asyncio.ensure_future(sub.dropped.wait())
    getter: asyncio.Future[dict[str, Any]] | None = None
    try:
        yield ServerSentEventMessage(comment="connected", retry=3000)
        while not sub.dropped.is_set():
            getter = asyncio.ensure_future(sub.queue.get())
            done, _ = await asyncio.wait({getter, dropped}, timeout=HEARTBEAT_S, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                if not done:
                    yield ServerSentEventMessage(comment="ping")
                continue
            item = getter.result()
            yield ServerSentEventMessage(event="notification", id=item["id"],
                                         data=msgspec.json.encode(item).decode())
    finally:  # a disconnect cancels the response: leave no task behind
        dropped.cancel()
        if getter is not None:
            getter.cancel()
        broker.unsubscribe(sub)
