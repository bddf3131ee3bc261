"""GET /api/topics/{slug}/events: Server-Sent Events, fanned out through PostgreSQL NOTIFY.

Two apps built by create_app() share the database, each with its own EventListener and
its own broker, each served by a real HTTP server (uvicorn) so streams really stream.
Comments are published in test code the way the comments domain publishes them, so an
event reaches the streams only through PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from forum import live, sql
from forum.app import create_app
from forum.events import LISTENER_NAME
from forum.live import fanout
from forum.live.lifecycle import Broker
from forum.live.lifecycle import on_shutdown as live_shutdown
from forum.live.lifecycle import on_startup as live_startup
from forum.settings import Settings
from tests.helpers import free_port, make_user
from tests.integration.test_qa_support import approve, make_topic, publish_comment

assert live  # the package under test


async def _serve(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(100):
        if server.started:
            break
        await asyncio.sleep(0.05)
    return server, task, f"http://127.0.0.1:{port}"


@pytest.fixture
async def servers(app: Any, settings: Settings, client: httpx.AsyncClient) -> AsyncIterator[list[str]]:
    """The session app, plus a second app with its own listener and broker (the pool is shared)."""
    second = create_app(settings)
    listener = second.state.listener
    listener.start()
    await live_startup(second, settings, listener)
    await asyncio.wait_for(listener.connected.wait(), 10)
    await asyncio.wait_for(app.state.listener.connected.wait(), 10)
    running = [await _serve(app), await _serve(second)]
    try:
        yield [url for _, _, url in running]
    finally:
        for server, _task, _ in running:
            server.should_exit = True
        for _server, task, _ in running:
            await asyncio.wait_for(task, 10)
        await live_shutdown(second)
        await listener.stop()


class Stream:
    """Reads one event stream into a list of (event, data) and comment lines."""

    def __init__(self, base_url: str, slug: str):
        self.url = f"{base_url}/api/topics/{slug}/events"
        self.events: list[tuple[str, str]] = []
        self.comments: list[str] = []
        self.status: int | None = None
        self.content_type = ""
        self.opened = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Stream:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.opened.wait(), 10)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=60)) as c, c.stream("GET", self.url) as r:
            self.status, self.content_type = r.status_code, r.headers.get("content-type", "")
            event, data = "message", []
            async for line in r.aiter_lines():
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    self.opened.set()
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "":
                    if data:
                        self.events.append((event, "\n".join(data)))
                    event, data = "message", []

    def comment_ids(self) -> list[int]:
        return [json.loads(d)["id"] for e, d in self.events if e == "comment"]

    async def wait_for_comment(self, cid: int, within_s: float = 5.0) -> bool:
        for _ in range(int(within_s / 0.05)):
            if cid in self.comment_ids():
                return True
            await asyncio.sleep(0.05)
        return False


async def test_unknown_topic_is_a_json_404(servers: list[str]) -> None:
    async with httpx.AsyncClient() as c:
        r = await c.get(f"{servers[0]}/api/topics/no-such-topic/events")
    assert r.status_code == 404 and r.json()["status_code"] == 404


async def test_comment_reaches_streams_on_both_apps_and_private_pending_never(servers: list[str]) -> None:
    author, coach = await make_user(), await make_user("coach")
    topic = await make_topic()
    async with Stream(servers[0], topic["slug"]) as s1, Stream(servers[1], topic["slug"]) as s2:
        assert s1.status == 200 and s1.content_type.startswith("text/event-stream")
        private_q = await publish_comment(topic, author, kind="question", private=True, body="private worry")
        await publish_comment(topic, coach, parent=private_q, body="private answer")
        pending = await publish_comment(topic, None, status="pending", body="held back")
        public = await publish_comment(topic, author, body="hello everyone")
        assert await s1.wait_for_comment(public["id"]) and await s2.wait_for_comment(public["id"])
        body = json.loads(next(d for e, d in s2.events if e == "comment"))
        assert body["topic_slug"] == topic["slug"] and "hello everyone" in body["body_html"]
        for s in (s1, s2):
            assert s.comment_ids() == [public["id"]]
            assert not any("private worry" in d or "private answer" in d or "held back" in d for _, d in s.events)

        await approve(pending)
        assert await s2.wait_for_comment(pending["id"])
        assert s2.comment_ids() == [public["id"], pending["id"]]


async def test_heartbeat_and_disconnect_unsubscribes(servers: list[str], app: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout, "HEARTBEAT_S", 0.2)
    topic = await make_topic()
    broker: Broker = app.state.live_broker
    async with Stream(servers[0], topic["slug"]) as s:
        await asyncio.sleep(0.7)
        assert "ping" in s.comments
        assert broker.subscriber_count() == 1
    for _ in range(100):
        if broker.subscriber_count() == 0:
            break
        await asyncio.sleep(0.05)
    assert broker.subscriber_count() == 0


async def test_a_subscriber_far_behind_is_dropped_without_blocking_others() -> None:
    broker = Broker()
    slow, fast = broker.subscribe(7), broker.subscribe(7)
    for i in range(broker.queue_size):
        broker.deliver(7, "comment", {"id": i})
        fast.frames.clear()  # fast's stream wrote it; slow's did not
    broker.deliver(7, "comment", {"id": 999})  # slow is queue_size events behind: dropped, fast still served
    assert slow.closed and not fast.closed
    assert fast.frames == [fanout.encode_event("comment", {"id": 999})]
    assert list(broker.subscribers[7].values()) == [fast]
    broker.close_all()


async def test_each_event_is_encoded_once_for_all_subscribers(servers: list[str], app: Any) -> None:
    broker: Broker = app.state.live_broker
    author, topic = await make_user(), await make_topic()
    async with contextlib.AsyncExitStack() as stack:
        streams = [await stack.enter_async_context(Stream(servers[0], topic["slug"])) for _ in range(12)]
        encodes = broker.encodes
        comment = await publish_comment(topic, author, body="one encode")
        assert all([await s.wait_for_comment(comment["id"]) for s in streams])
        assert broker.encodes == encodes + 1  # one encode in this process, for 12 streams
        assert len({d for s in streams for e, d in s.events if e == "comment"}) == 1  # the same bytes


def _tcp_state(sock: socket.socket) -> int:
    return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0])  # 7: closed (reset)


async def test_a_stalled_subscriber_is_dropped_and_reset_while_others_get_every_event(
        servers: list[str], app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout, "SEND_TIMEOUT_S", 0.5)
    broker: Broker = app.state.live_broker
    author, topic = await make_user(), await make_topic()
    host, port = servers[0].split("//")[1].split(":")
    loop = asyncio.get_running_loop()
    async with Stream(servers[0], topic["slug"]) as reader:
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.setblocking(False)
        try:
            await loop.sock_connect(stalled, (host, int(port)))
            await loop.sock_sendall(stalled, f"GET /api/topics/{topic['slug']}/events HTTP/1.1\r\n"
                                             f"Host: {host}\r\n\r\n".encode())
            assert b" 200 " in await asyncio.wait_for(loop.sock_recv(stalled, 1024), 10)  # then never read again
            for _ in range(100):
                if broker.subscriber_count() == 2:
                    break
                await asyncio.sleep(0.05)
            assert broker.subscriber_count() == 2
            dropped, sent = broker.dropped, []
            for i in range(400):  # 20 KB events until its buffers are full and a write waits 0.5 s
                sent.append(-1 - i)
                broker.deliver(topic["id"], "comment", {"id": -1 - i, "body_html": "x" * 20_000})
                await asyncio.sleep(0.02)
                if broker.dropped > dropped:
                    break
            assert broker.dropped == dropped + 1 and broker.subscriber_count() == 1
            for _ in range(100):
                if _tcp_state(stalled) == 7:
                    break
                await asyncio.sleep(0.05)
            assert _tcp_state(stalled) == 7  # the server reset the connection
        finally:
            stalled.close()
        assert len(sent) < 400  # it was the stall that ended it, well before the loop's bound
        comment = await publish_comment(topic, author, body="after the drop")
        assert await reader.wait_for_comment(comment["id"])
        assert reader.comment_ids() == [*sent, comment["id"]]  # the reader missed nothing


async def _listeners(pid: int) -> int:
    return int(await sql.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                                  f"{LISTENER_NAME} {pid}"))


async def test_one_listen_connection_per_app_whatever_the_subscribers(servers: list[str]) -> None:
    topic = await make_topic()
    before = await _listeners(os.getpid())
    async with contextlib.AsyncExitStack() as stack:
        for base in servers * 5:
            await stack.enter_async_context(Stream(base, topic["slug"]))
        assert await _listeners(os.getpid()) == before == 2  # the two apps of this process, 10 streams
