"""Topic change events: one per write that changes what a topic shows.

`topic_changed()` runs inside the writer's transaction: when it commits, `topic.version`
(the thread ETag and cache key) is bumped and a PostgreSQL NOTIFY sent, both by a
deferred trigger; an aborted transaction changes and sends nothing. Every process runs one `EventListener` (a
dedicated LISTEN connection) that hands each event to in-process handlers: live
updates (SSE) and cache invalidation. So a write through one process is seen by all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from forum import sql
from forum.tasks import cancel_and_wait

log = logging.getLogger("forum.events")
LISTENER_NAME = "forum listener"  # application_name of the LISTEN connection, then the pid
CHANNEL = "forum_events"  # also in the topic_change_apply() trigger (migration 2026-11-26T20:10)

# Event kinds: `comment` = a comment became visible to the public (live updates stream it);
# `change` = anything else that changes what the topic shows.
COMMENT = "comment"
CHANGE = "change"


@dataclass(frozen=True, slots=True)
class TopicEvent:
    topic_id: int
    version: int
    kind: str
    comment_id: int | None


async def topic_changed(topic_id: int, *, kind: str = CHANGE, comment_id: int | None = None,
                        count_delta: int = 0) -> None:
    """Bump the topic's version (adding `count_delta` to `topic.comment_count` in the same
    UPDATE) and notify every process, when the writer's transaction commits.

    The change is queued in `topic_change` and applied by a deferred trigger at commit
    (migration 2026-11-26T20:10): the topic row is locked only while the transaction
    commits, so writers in one topic do not wait for each other's round trips. Inside
    the transaction, the topic row still shows the old version and count."""
    await sql.execute("INSERT INTO topic_change (topic, kind, comment, count_delta) VALUES ($1, $2, $3, $4)",
                      topic_id, kind, comment_id, count_delta)


Handler = Callable[[TopicEvent], Awaitable[None] | None]
ChannelHandler = Callable[[str], Awaitable[None] | None]  # the raw payload of another channel


class EventListener:
    """One LISTEN connection per process; reconnects with backoff when the database goes away."""

    def __init__(self, dsn: str):
        self.dsn = dsn
        self.handlers: list[Handler] = []
        self.channels: dict[str, list[ChannelHandler]] = {}  # other channels on the same connection
        self._pending: set[asyncio.Future[None]] = set()  # keeps running handler tasks referenced
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self.connected = asyncio.Event()

    def add_handler(self, handler: Handler) -> None:
        self.handlers.append(handler)

    def add_channel_handler(self, channel: str, handler: ChannelHandler) -> None:
        """Also LISTEN on `channel` (e.g. `forum_notifications`); `handler` gets each payload."""
        first = channel not in self.channels
        self.channels.setdefault(channel, []).append(handler)
        conn = self._conn
        if first and conn is not None and not conn.is_closed():  # connected already: listen now
            self._keep(asyncio.ensure_future(conn.add_listener(channel, self._on_channel)))

    def _keep(self, task: asyncio.Future[None]) -> None:
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _on_channel(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        for handler in self.channels.get(channel, ()):
            try:
                result = handler(payload)
                if asyncio.iscoroutine(result):
                    self._keep(asyncio.ensure_future(result))
            except Exception:  # one handler must not break the others
                log.exception("channel handler failed")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="forum-event-listener")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self._close()

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        self.connected.clear()
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), 2)
            except Exception:  # a dead connection cannot close politely
                conn.terminate()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            data = json.loads(payload)
            event = TopicEvent(int(data["t"]), int(data["v"]), str(data["e"]),
                               int(data["c"]) if data.get("c") is not None else None)
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring malformed event payload %r", payload[:200])
            return
        self.dispatch(event)

    def dispatch(self, event: TopicEvent) -> None:
        for handler in self.handlers:
            try:
                result = handler(event)
                if asyncio.iscoroutine(result):
                    task = asyncio.ensure_future(result)
                    self._pending.add(task)
                    task.add_done_callback(self._pending.discard)
            except Exception:  # one handler must not break the others
                log.exception("event handler failed")

    async def _run(self) -> None:
        delay = 0.2
        while True:
            try:
                # named per process, so pg_stat_activity shows one listener per process
                self._conn = await asyncpg.connect(self.dsn, timeout=5, server_settings={
                    "application_name": f"{LISTENER_NAME} {os.getpid()}"})
                await self._conn.add_listener(CHANNEL, self._on_notify)
                for channel in list(self.channels):
                    await self._conn.add_listener(channel, self._on_channel)
                self.connected.set()
                delay = 0.2
                log.info("listening for topic events")
                while not self._conn.is_closed():
                    await asyncio.sleep(1.0)
                    try:
                        await asyncio.wait_for(self._conn.execute("SELECT 1"), 5)
                    except Exception:
                        break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("event listener disconnected (%s); retrying in %.1fs", exc, delay)
            await self._close()
            # Events may have been missed while disconnected: tell handlers to drop caches.
            self.dispatch(TopicEvent(0, 0, "reset", None))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
