"""One fan-out for every live stream of this process (a topic's comments, a person's
notifications): subscribers keyed by what they watch, each with a bounded queue that is
offered items without waiting. A subscriber whose queue is full (a slow or vanished
client) is dropped and its stream ends, so nobody blocks writers or other readers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from typing import Any

import msgspec
from litestar.response.sse import ServerSentEventMessage

HEARTBEAT_S = 15.0  # a `: ping` comment when nothing else was sent for this long


class Subscriber:
    __slots__ = ("dropped", "key", "queue")

    def __init__(self, key: Hashable, queue_size: int):
        self.key = key
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(queue_size)
        self.dropped = asyncio.Event()


class Fanout:
    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self.subscribers: dict[Hashable, set[Subscriber]] = {}

    def subscribe(self, key: Hashable) -> Subscriber:
        sub = Subscriber(key, self.queue_size)
        self.subscribers.setdefault(key, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self.subscribers.get(sub.key)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self.subscribers[sub.key]

    def watched(self, key: Hashable) -> bool:
        return key in self.subscribers

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self.subscribers.values())

    def deliver(self, key: Hashable, item: dict[str, Any]) -> None:
        for sub in list(self.subscribers.get(key, ())):
            try:
                sub.queue.put_nowait(item)
            except asyncio.QueueFull:
                sub.dropped.set()
                self.unsubscribe(sub)

    def close_all(self) -> None:
        for subs in list(self.subscribers.values()):
            for sub in list(subs):
                sub.dropped.set()
                self.unsubscribe(sub)


async def stream(fanout: Fanout, key: Hashable, event: str) -> AsyncIterator[ServerSentEventMessage]:
    """The Server-Sent Events of one subscriber: `event` messages (the item as JSON, `id:` its
    id) and heartbeats, until the client goes or the subscriber is dropped."""
    sub = fanout.subscribe(key)
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
            yield ServerSentEventMessage(event=event, id=item["id"], data=msgspec.json.encode(item).decode())
    finally:  # a disconnect cancels the response (Litestar listens for http.disconnect): leave no task
        dropped.cancel()
        if getter is not None:
            getter.cancel()
        fanout.unsubscribe(sub)
