"""One fan-out for every live stream of this process (a topic's comments, a person's
notifications): subscribers keyed by what they watch.

An item is encoded once per process into the bytes of its Server-Sent Event, and the same
bytes object is handed to every subscriber of its key (5,000 subscribers cost one encode,
not 5,000). Each subscriber is one small object, and its stream runs in the task the
server already runs for the connection; a second, small task only waits for the client
to hang up (`receive`), since ASGI gives no other way to hear it.

Slow or stalled clients are dropped, never buffered without bound: a subscriber more
than `queue_size` events behind, or whose write has not completed within
`SEND_TIMEOUT_S` (the client stopped reading and the socket's buffers are full), is
dropped and its connection closed at once (a reset, when the server lets us reach the
connection: uvicorn does). Events find such subscribers as they are delivered, and a
timer (not a task) every SEND_TIMEOUT_S / 2 finds those no event came for. What a
stalled client may hold meanwhile is bounded: a small kernel send buffer
(`SEND_BUFFER_BYTES`), the server's write buffer, and at most `queue_size` references to
event bytes that every other subscriber shares."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import struct
from collections.abc import Hashable
from typing import Any

import msgspec
from litestar.enums import MediaType
from litestar.response import ServerSentEvent
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse
from litestar.types import Receive, Send
from litestar.utils.helpers import get_enum_string_value

log = logging.getLogger("forum.live")

HEARTBEAT_S = 15.0  # a `: ping` comment when nothing else was sent for this long
SEND_TIMEOUT_S = 10.0  # a write that waits longer than this (client not reading): drop
SEND_BUFFER_BYTES = 32 * 1024  # kernel send buffer of an event stream (Linux doubles it)
WRITE_BUFFER_HIGH = 16 * 1024  # the transport's own buffer before the server waits (flow control)

# The wire format Litestar's ServerSentEventMessage gave these streams (docs/api.md), byte
# for byte (tests/unit/test_live_frames.py), built once. Its empty `data:` line is kept.
CONNECTED = b": connected\r\ndata: \r\nretry: 3000\r\n\r\n"
PING = b": ping\r\ndata: \r\n\r\n"
_encoder = msgspec.json.Encoder()
_seq = itertools.count()


def encode_event(event: str, item: dict[str, Any]) -> bytes:
    """`id: <item id>`, `event: <event>`, `data: <item as JSON>` (one line: JSON escapes
    line breaks), then a blank line."""
    return b"id: %s\r\nevent: %s\r\ndata: %s\r\n\r\n" % (
        str(item["id"]).encode(), event.encode(), _encoder.encode(item))


class Subscriber:
    """One open stream: the frames waiting to be written, and the future its stream waits on."""

    __slots__ = ("closed", "frames", "key", "sending_since", "seq", "transport", "waiter")

    def __init__(self, key: Hashable, transport: asyncio.Transport | None):
        self.key = key
        self.seq = next(_seq)  # its key in the fan-out's dict: subscribers kept in arrival order
        self.frames: list[bytes] = []
        self.waiter: asyncio.Future[None] | None = None
        self.closed = False
        self.sending_since = 0.0  # loop time a write began, while it waits (0: not writing)
        self.transport = transport

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close(self, *, reset: bool) -> None:
        """End the stream; `reset`: abort the connection (a stalled client gets an RST, and
        the unsent bytes are freed at once, in this process and in the kernel)."""
        self.closed = True
        self.wake()
        if reset and self.transport is not None and not self.transport.is_closing():
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()


class Fanout:
    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self.subscribers: dict[Hashable, dict[int, Subscriber]] = {}
        self.encodes = 0  # events encoded (once each, whatever the number of subscribers)
        self.dropped = 0  # subscribers dropped for being too slow
        self._sweep_timer: asyncio.TimerHandle | None = None

    def subscribe(self, key: Hashable, transport: asyncio.Transport | None = None) -> Subscriber:
        sub = Subscriber(key, transport)
        self.subscribers.setdefault(key, {})[sub.seq] = sub
        if self._sweep_timer is None:
            self._sweep_timer = asyncio.get_running_loop().call_later(SEND_TIMEOUT_S / 2, self._sweep)
        return sub

    def stalled(self, sub: Subscriber, now: float) -> bool:
        """Too far behind, or its current write has waited longer than SEND_TIMEOUT_S."""
        return len(sub.frames) >= self.queue_size or (0.0 < sub.sending_since < now - SEND_TIMEOUT_S)

    def _sweep(self) -> None:
        """Drop the stalled subscribers that no event came to find (a timer, not a task)."""
        self._sweep_timer = None
        now = asyncio.get_running_loop().time()
        for subs in list(self.subscribers.values()):
            for sub in list(subs.values()):
                if self.stalled(sub, now):
                    self.drop(sub)
        if self.subscribers:
            self._sweep_timer = asyncio.get_running_loop().call_later(SEND_TIMEOUT_S / 2, self._sweep)

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self.subscribers.get(sub.key)
        if subs is not None:
            subs.pop(sub.seq, None)
            if not subs:
                del self.subscribers[sub.key]

    def watched(self, key: Hashable) -> bool:
        return key in self.subscribers

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self.subscribers.values())

    def deliver(self, key: Hashable, event: str, item: dict[str, Any]) -> None:
        """Encode `item` once and offer its bytes to every subscriber of `key`, without waiting."""
        subs = self.subscribers.get(key)
        if not subs:
            return
        frame = encode_event(event, item)
        self.encodes += 1
        now = asyncio.get_running_loop().time()
        for sub in list(subs.values()):
            if self.stalled(sub, now):  # a slow or vanished client
                self.drop(sub)
                continue
            sub.frames.append(frame)
            sub.wake()

    def drop(self, sub: Subscriber) -> None:
        self.dropped += 1
        self.unsubscribe(sub)
        sub.close(reset=True)

    def close_all(self) -> None:
        if self._sweep_timer is not None:
            self._sweep_timer.cancel()
            self._sweep_timer = None
        for subs in list(self.subscribers.values()):
            for sub in list(subs.values()):
                self.unsubscribe(sub)
                sub.close(reset=False)

    async def run(self, sub: Subscriber, send: Send, receive: Receive) -> None:
        """The body of one event stream, in the connection's own task: frames as they come,
        a ping when idle, until the client hangs up or the subscriber is dropped."""
        loop = asyncio.get_running_loop()
        # Kept on purpose: without it (tried: 1.3 KB less per idle stream) a hang-up is only
        # seen at the next event or heartbeat, and until then the server's graceful
        # shutdown waits for the stream of a client that has gone.
        hangup = loop.create_task(_wait_disconnect(receive, sub))
        try:
            chunk = CONNECTED
            while not sub.closed:
                # No timeout around the write (one timer per write was a fifth of a fan-out's
                # CPU): deliver() and the sweep drop a subscriber whose write waits too long.
                sub.sending_since = loop.time()
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                sub.sending_since = 0.0
                if not sub.frames and not sub.closed:
                    sub.waiter = waiter = loop.create_future()
                    timer = loop.call_later(HEARTBEAT_S, _resolve, waiter)
                    try:
                        await waiter
                    finally:
                        timer.cancel()
                        sub.waiter = None
                frames, sub.frames = sub.frames, []
                chunk = frames[0] if len(frames) == 1 else b"".join(frames) if frames else PING
        finally:
            hangup.cancel()
            self.unsubscribe(sub)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def _wait_disconnect(receive: Receive, sub: Subscriber) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            sub.closed = True
            sub.wake()
            return


def _transport(receive: Receive) -> asyncio.Transport | None:
    """The connection's transport, when the server lets us reach it: uvicorn's `receive` is
    a method of its request cycle, which holds it. ASGI itself has no way to abort a
    connection or size its buffers."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    # duck-typed: uvloop's transports do not derive from asyncio's classes
    return transport if all(hasattr(transport, a) for a in ("abort", "get_extra_info", "is_closing")) else None


class _FanoutBody(ASGIStreamingResponse):
    __slots__ = ("fanout", "key")

    def __init__(self, fanout: Fanout, key: Hashable, **kwargs: Any) -> None:
        super().__init__(iterator=(), **kwargs)
        self.fanout, self.key = fanout, key

    async def send_body(self, send: Send, receive: Receive) -> None:
        transport = _transport(receive)
        body_send = send
        if transport is not None:
            _small_buffers(transport)
            # The body's chunks go straight to the server's own send: the layers between
            # (Litestar's exception middleware, forum.web's outer layer) only look at the
            # response's start, and passing each chunk through them was a third of a
            # fan-out's CPU.
            body_send = receive.__self__.send  # type: ignore[attr-defined]
        sub = self.fanout.subscribe(self.key, transport)
        await self.fanout.run(sub, body_send, receive)
        with contextlib.suppress(Exception):  # the client may be gone already (uvicorn: a no-op)
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await send({"type": "http.response.body", "body": b"", "more_body": False})


def _small_buffers(transport: asyncio.Transport) -> None:
    """An event stream needs little bandwidth: small buffers bound what a stalled client
    holds (the kernel's default on loopback is ~4 MB) and let flow control notice it soon."""
    with contextlib.suppress(Exception):
        transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH)
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)


class EventStream(ServerSentEvent):
    """A `text/event-stream` response (headers as Litestar's ServerSentEvent) whose body is a
    subscription to `fanout` under `key`."""

    def __init__(self, fanout: Fanout, key: Hashable) -> None:
        super().__init__(b"", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._fanout, self._key = fanout, key

    def to_asgi_response(self, app: Any, request: Any, *, background: Any = None, cookies: Any = None,
                         encoded_headers: Any = None, headers: dict[str, str] | None = None,
                         is_head_response: bool = False, media_type: Any = None, status_code: int | None = None,
                         type_encoders: Any = None) -> ASGIResponse:
        # as Stream.to_asgi_response, with our body instead of an iterator
        return _FanoutBody(
            self._fanout, self._key,
            background=self.background or background,
            content_length=0,
            cookies=self.cookies if cookies is None else itertools.chain(self.cookies, cookies),
            encoded_headers=encoded_headers,
            encoding=self.encoding,
            headers={**headers, **self.headers} if headers is not None else self.headers,
            is_head_response=is_head_response,
            media_type=get_enum_string_value(media_type or self.media_type or MediaType.JSON),
            status_code=self.status_code or status_code,
        )


def stream(fanout: Fanout, key: Hashable) -> EventStream:
    """The response of one subscriber's event stream."""
    return EventStream(fanout, key)
