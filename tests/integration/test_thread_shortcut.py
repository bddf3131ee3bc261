"""Shared reads (forum/coalesce.py) and the thread reads answered before routing
(forum/comments/shortcut.py): the handler's very answers (status, body, headers), fresh,
and every request the shortcut must leave to the handler."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import asyncpg
import httpx
import pytest

from forum import sql
from forum.app import create_app
from forum.coalesce import SharedReads
from forum.comments import shortcut as thread_shortcut
from forum.settings import Settings
from forum.web import Answer, ForumApp
from tests.helpers import make_user
from tests.integration.test_comments import make_topic, post, trust_everyone
from tests.integration.test_perf_cache import other  # noqa: F401  (a fixture: a second app instance)

VOLATILE = {"x-request-id", "date"}
HANDLER = {"utm": "x"}  # an unknown parameter: the shortcut leaves it to the handler, which ignores it


def same_headers(a: httpx.Response, b: httpx.Response) -> bool:
    return {k: v for k, v in a.headers.items() if k not in VOLATILE} == \
        {k: v for k, v in b.headers.items() if k not in VOLATILE}


def scope(path: str, query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None,
          method: str = "GET") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "query_string": query, "headers": headers or []}


async def thread(client: httpx.AsyncClient) -> tuple[str, str]:
    """A published topic with a comment, and the ETag of its first page."""
    await trust_everyone()
    author = await make_user("coach")
    slug = await make_topic(client, author)
    await post(client, slug, author)
    r = await client.get(f"/api/topics/{slug}/comments")
    assert r.status_code == 200
    return slug, r.headers["etag"]


def shortcut(app: Any) -> thread_shortcut.ThreadReadShortcut:
    found = [s for s in app.shortcuts if isinstance(s, thread_shortcut.ThreadReadShortcut)]
    assert len(found) == 1
    return found[0]


class Counted:
    """Wraps an app's shortcut and counts the answers it gives."""

    def __init__(self, app: Any) -> None:
        self.taken = 0
        self.original = shortcut(app).answer
        shortcut(app).answer = self.answer  # type: ignore[method-assign]

    async def answer(self, scope: Any) -> Answer | None:
        answer = await self.original(scope)
        self.taken += answer is not None
        return answer


async def test_shortcut_answers_with_the_handlers_304(client: httpx.AsyncClient, app: Any) -> None:
    slug, etag = await thread(client)
    path = f"/api/topics/{slug}/comments"
    inm = [(b"if-none-match", etag.encode())]
    assert await shortcut(app).answer(scope(path, headers=inm)) == Answer(304, [
        (b"etag", etag.encode()), (b"cache-control", b"private, no-cache"),
        (b"vary", b"Authorization, Accept-Encoding")],
        thread_shortcut.ROUTE)
    assert await shortcut(app).answer(scope(path, b"utm=x", inm)) is None
    before = await count(client, "304")
    fast = await client.get(path, headers={"If-None-Match": etag})
    slow = await client.get(path, params=HANDLER, headers={"If-None-Match": etag})
    assert fast.status_code == slow.status_code == 304
    assert fast.content == slow.content == b""
    assert same_headers(fast, slow), (fast.headers, slow.headers)
    assert fast.headers["x-content-type-options"] == "nosniff" and fast.headers["x-request-id"]
    # both counted in the route's one metrics series (Litestar's name for it)
    assert await count(client, "304") == before + 2


async def count(client: httpx.AsyncClient, status: str) -> float:
    """The answers of `status` counted for the thread route in /metrics."""
    label = f'forum_http_requests_total{{method="GET",route="{thread_shortcut.ROUTE}",status="{status}"}} '
    lines = [line for line in (await client.get("/metrics")).text.splitlines() if line.startswith(label)]
    assert len(lines) <= 1
    return float(lines[0].removeprefix(label)) if lines else 0.0


async def test_shortcut_gives_every_reader_the_handlers_page(client: httpx.AsyncClient, app: Any) -> None:
    """Anonymous, a reader with votes and a pending reply of their own, a coach: the same
    status, bytes and headers through the shortcut as through the route's handler."""
    slug, _ = await thread(client)
    path = f"/api/topics/{slug}/comments"
    reader, coach = await make_user("reader"), await make_user("coach")
    first = (await client.get(path)).json()["items"][0]
    assert (await client.post(f"/api/comments/{first['id']}/vote", headers=reader.headers)).status_code == 200
    await sql.execute("UPDATE moderation_rules SET premoderate_all = true")
    held = await post(client, slug, reader, parent_id=first["id"])
    assert held["status"] == "pending"
    await sql.execute("UPDATE moderation_rules SET premoderate_all = false")
    counted = Counted(app)
    before = await count(client, "200")
    for who in (None, reader, coach):
        headers = who.headers if who else {}
        for query in ({}, {"sort": "newest", "limit": "5"}):
            fast = await client.get(path, params=query, headers=headers)
            slow = await client.get(path, params={**query, **HANDLER}, headers=headers)
            assert fast.status_code == slow.status_code == 200, (fast.text, slow.text)
            assert fast.content == slow.content
            assert same_headers(fast, slow), (fast.headers, slow.headers)
            assert fast.headers["content-type"] == "application/json"
            assert int(fast.headers["content-length"]) == len(fast.content)
            assert fast.headers["x-content-type-options"] == "nosniff" and fast.headers["x-request-id"]
            replies = [c["id"] for c in fast.json()["items"][0]["replies"]] if query == {} else []
            if query == {} and who is not coach:  # the held reply: its author sees it, the public does not
                assert (held["id"] in replies) == (who is reader)
                assert fast.json()["items"][0].get("my_vote") == (1 if who is reader else None)
            # and a conditional read of that page: the 304 of the handler
            etag = fast.headers["etag"]
            again = await client.get(path, params=query, headers={**headers, "If-None-Match": etag})
            assert again.status_code == 304 and again.headers["etag"] == etag
    assert counted.taken == 12
    assert await count(client, "200") == before + 12  # counted under the route, whoever answered


@pytest.mark.parametrize("query", [b"", b"sort=newest", b"limit=100&sort=top", b"limit=1"])
async def test_shortcut_takes_plain_first_pages(client: httpx.AsyncClient, app: Any, query: bytes) -> None:
    slug, etag = await thread(client)
    answer = await shortcut(app).answer(scope(f"/api/topics/{slug}/comments", query,
                                              [(b"if-none-match", etag.encode())]))
    assert answer is not None and answer.status == 304
    answer = await shortcut(app).answer(scope(f"/api/topics/{slug}/comments", query))
    assert answer is not None and answer.status == 200 and answer.body.startswith(b'{"items":[')


@pytest.mark.parametrize(("query", "status"), [
    (b"sort=sideways", 400), (b"limit=0", 400), (b"limit=101", 400), (b"limit=abc", 400),
    (b"limit=5&limit=6", 304), (b"cursor=abc", 400), (b"sort", 400), (b"sort=top&cursor=", 304),
])
async def test_shortcut_leaves_other_queries_to_the_handler(client: httpx.AsyncClient, app: Any,
                                                            query: bytes, status: int) -> None:
    slug, etag = await thread(client)
    path = f"/api/topics/{slug}/comments"
    assert await shortcut(app).answer(scope(path, query, [(b"if-none-match", etag.encode())])) is None
    r = await client.get(f"{path}?{query.decode()}", headers={"If-None-Match": etag})
    assert r.status_code == status, r.text  # a bad sort or cursor is a 400 before any precondition


async def test_shortcut_leaves_refusals_to_the_handler(client: httpx.AsyncClient, app: Any) -> None:
    """A bad or revoked token (401), a missing or hidden topic (404), another method or
    path: the shortcut gives no answer, and the handler gives its own."""
    slug, etag = await thread(client)
    path = f"/api/topics/{slug}/comments"
    answer = shortcut(app).answer
    reader = await make_user("reader")
    for header, detail in ((b"Basic abc", "Authorization header must be 'Bearer <token>'."),
                           (b"Bearer nobody", "Invalid or expired token.")):
        assert await answer(scope(path, headers=[(b"authorization", header)])) is None
        r = await client.get(path, headers={"Authorization": header.decode()})
        assert r.status_code == 401 and r.json()["detail"] == detail
    assert await answer(scope(path, method="HEAD")) is None
    assert await answer(scope(path + "/")) is None
    assert await answer(scope("/api/topics/no-such-topic/comments")) is None
    assert (await client.get("/api/topics/no-such-topic/comments")).status_code == 404
    # a session ended: refused by the very next read
    token = reader.headers["Authorization"].removeprefix("Bearer ")
    assert (await client.get(path, headers=reader.headers)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=reader.headers)).status_code == 204
    assert await answer(scope(path, headers=[(b"authorization", f"Bearer {token}".encode())])) is None
    assert (await client.get(path, headers=reader.headers)).status_code == 401
    # a new comment: the old ETag gets the new page
    writer = await make_user("reader")
    await post(client, slug, writer)
    found = await answer(scope(path, headers=[(b"if-none-match", etag.encode())]))
    assert found is not None and found.status == 200
    r = await client.get(path, headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag and len(r.json()["items"]) == 2
    # a topic hidden from the public: 404, whatever ETag the client holds
    etag = r.headers["etag"]
    await sql.execute("UPDATE topic SET status = 'hidden' WHERE slug = $1", slug)  # the version alone stays
    assert await answer(scope(path, headers=[(b"if-none-match", etag.encode())])) is None
    assert await answer(scope(path)) is None
    assert (await client.get(path, headers={"If-None-Match": etag})).status_code == 404


async def test_a_signed_in_read_is_one_statement_with_its_session(client: httpx.AsyncClient, app: Any) -> None:
    """A signed-in reader's session and state in the topic come from one statement; the
    session rules still hold on it: an expired, idle or erased one goes to the handler (401),
    a valid one on a topic that is not there too (404), and the idle expiry slides."""
    slug, _ = await thread(client)
    path = f"/api/topics/{slug}/comments"
    fast = shortcut(app)
    reader = await make_user("reader")
    token = reader.headers["Authorization"].removeprefix("Bearer ")
    auth = [(b"authorization", f"Bearer {token}".encode())]
    first = await fast.answer(scope(path, headers=auth))  # builds and caches the public page
    assert first is not None and first.status == 200
    before = fast.shared.statements
    again = await fast.answer(scope(path, headers=auth))
    assert again is not None and again.body == first.body
    assert fast.shared.statements == before + 1
    assert await fast.answer(scope("/api/topics/no-such-topic/comments", headers=auth)) is None
    assert (await client.get("/api/topics/no-such-topic/comments", headers=reader.headers)).status_code == 404
    # the idle expiry slides through this path too
    await sql.execute("UPDATE user_session SET last_seen_at = now() - interval '1 hour',"
                      " idle_expires_at = now() + interval '1 minute' WHERE \"user\" = $1", reader.id)
    assert await fast.answer(scope(path, headers=auth)) is not None
    assert await sql.fetchval("SELECT idle_expires_at > now() + interval '1 day' FROM user_session"
                              " WHERE \"user\" = $1", reader.id)
    for change in ("UPDATE user_session SET idle_expires_at = now() - interval '1 second' WHERE \"user\" = $1",
                   "UPDATE user_session SET expires_at = now() - interval '1 second',"
                   " idle_expires_at = now() + interval '1 day' WHERE \"user\" = $1",
                   "UPDATE forum_user SET status = 'erased' WHERE id = $1"):
        await sql.execute(change, reader.id)
        assert await fast.answer(scope(path, headers=auth)) is None, change
        assert (await client.get(path, headers=reader.headers)).status_code == 401, change


async def test_shortcut_runs_under_the_request_timeout(client: httpx.AsyncClient, app: ForumApp) -> None:
    """A shortcut that waits too long gets the outer layer's 503, as a handler does."""
    slug, _ = await thread(client)

    class Stuck:
        async def answer(self, scope: Any) -> Answer | None:
            await asyncio.sleep(5)
            return None

    old = app.shortcuts, app.request_timeout_s
    app.shortcuts, app.request_timeout_s = (Stuck(),), 0.05
    try:
        r = await client.get(f"/api/topics/{slug}/comments")
    finally:
        app.shortcuts, app.request_timeout_s = old
    assert r.status_code == 503 and r.headers["retry-after"] == "2"


async def test_a_write_through_another_process_is_seen_at_once(client: httpx.AsyncClient,
                                                              other: httpx.AsyncClient) -> None:  # noqa: F811
    slug, etag = await thread(client)
    path = f"/api/topics/{slug}/comments"
    assert (await client.get(path, headers={"If-None-Match": etag})).status_code == 304
    writer = await make_user("coach")
    for _ in range(3):
        made = await post(other, slug, writer)  # through the other app, then at once through this one
        r = await client.get(path, headers={"If-None-Match": etag})
        assert r.status_code == 200 and r.headers["etag"] != etag
        assert made["id"] in [c["id"] for c in r.json()["items"]]
        etag = r.headers["etag"]
        assert (await client.get(path, headers={"If-None-Match": etag})).status_code == 304


async def test_cross_origin_requests_get_litestars_cors_headers(client: httpx.AsyncClient,
                                                                 settings: Settings) -> None:
    """With CORS settings, a request with an Origin goes to the handler (Litestar gives the
    CORS headers); without them, the shortcut may take it (no CORS headers either way)."""
    slug, etag = await thread(client)
    path = f"/api/topics/{slug}/comments"
    blog = create_app(dataclasses.replace(settings, cors_origins=("https://blog.example",)))
    transport = httpx.ASGITransport(app=blog, client=("127.0.0.1", 40002))
    counted = Counted(blog)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        headers = {"If-None-Match": etag, "Origin": "https://blog.example"}
        friend = await c.get(path, headers=headers)
        stranger = await c.get(path, headers={**headers, "Origin": "https://evil.example"})
        assert counted.taken == 0
        same_origin = await c.get(path, headers={"If-None-Match": etag})
        assert counted.taken == 1
    assert friend.status_code == stranger.status_code == same_origin.status_code == 304
    assert friend.headers["access-control-allow-origin"] == "https://blog.example"
    assert "etag" in friend.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in stranger.headers
    assert "access-control-allow-origin" not in same_origin.headers


# ---- SharedReads


async def test_callers_at_the_same_moment_share_one_statement(client: httpx.AsyncClient) -> None:
    reads = SharedReads()
    rows = await asyncio.gather(*(reads.fetchrow("SELECT $1::int + 1 AS n, pg_sleep(0.05)", 41) for _ in range(20)))
    assert {r["n"] for r in rows if r is not None} == {42} and len(rows) == 20
    assert reads.calls == 20 and reads.statements <= 2  # the first caller's round, then everyone else's


async def test_a_caller_sees_what_was_committed_before_it_asked(client: httpx.AsyncClient,
                                                                database_url: str) -> None:
    slug, _ = await thread(client)
    reads = SharedReads()
    query = "SELECT version, pg_sleep(0.3) FROM topic WHERE slug = $1"
    before = await sql.fetchval("SELECT version FROM topic WHERE slug = $1", slug)
    first = asyncio.create_task(reads.fetchrow(query, slug))  # its statement starts now, sleeps 0.3 s
    await asyncio.sleep(0.1)
    conn = await asyncpg.connect(database_url)  # another process writes and commits
    try:
        await conn.execute("UPDATE topic SET version = version + 1 WHERE slug = $1", slug)
    finally:
        await conn.close()
    second = await reads.fetchrow(query, slug)  # asked after the commit, while `first` still runs
    assert (await first)["version"] == before
    assert second is not None and second["version"] == before + 1
    assert reads.statements == 2


async def test_a_cancelled_caller_leaves_the_others_their_answer(client: httpx.AsyncClient) -> None:
    reads = SharedReads()
    query = "SELECT 7 AS n, pg_sleep(0.2)"
    gone = asyncio.create_task(reads.fetchrow(query))
    kept = asyncio.create_task(reads.fetchrow(query))
    await asyncio.sleep(0.05)
    gone.cancel()
    row = await kept
    assert row is not None and row["n"] == 7
    assert gone.cancelled()


async def test_an_error_reaches_its_round_and_the_next_round_runs(client: httpx.AsyncClient) -> None:
    reads = SharedReads()
    query = "SELECT 1 / $1::int AS n"
    results = await asyncio.gather(*(reads.fetchrow(query, 0) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, asyncpg.DivisionByZeroError) for r in results)
    row = await reads.fetchrow(query, 1)
    assert row is not None and row["n"] == 1
    assert not reads._keys  # nothing left behind when idle


async def test_a_slow_statement_times_out_for_its_callers(client: httpx.AsyncClient) -> None:
    reads = SharedReads(timeout_s=0.1)
    with pytest.raises(TimeoutError):
        await reads.fetchrow("SELECT pg_sleep(2)")
    assert (await reads.fetchrow("SELECT 3 AS n"))["n"] == 3  # type: ignore[index]


async def test_reads_never_join_the_callers_transaction(client: httpx.AsyncClient) -> None:
    slug, _ = await thread(client)
    reads = SharedReads()
    query = "SELECT title FROM topic WHERE slug = $1"
    async with sql.transaction():
        await sql.execute("UPDATE topic SET title = 'uncommitted' WHERE slug = $1", slug)
        row = await reads.fetchrow(query, slug)
        assert row is not None and row["title"] == "A topic"


# ---- SharedReads.fetch_item: one statement for many keys


async def test_callers_with_different_items_share_one_statement_and_get_their_own_row(
        client: httpx.AsyncClient) -> None:
    reads = SharedReads()
    query = "SELECT i, i * $1::int AS n, pg_sleep(0.05) FROM unnest($2::int[]) AS i WHERE i <> 13"
    items = [1, 2, 3, 2, 13, 5] * 4
    rows = await asyncio.gather(*(reads.fetch_item(query, i, 10) for i in items))
    assert [r["n"] if r is not None else None for r in rows] == [None if i == 13 else i * 10 for i in items]
    assert reads.calls == len(items) and reads.statements <= 2


async def test_batched_and_plain_callers_of_one_query_do_not_mix(client: httpx.AsyncClient) -> None:
    reads = SharedReads()
    plain = "SELECT 5 AS i, pg_sleep(0.05)"
    both = await asyncio.gather(reads.fetchrow(plain), reads.fetch_item("SELECT i FROM unnest($1::int[]) i", 5))
    assert both[0] is not None and both[0]["i"] == 5
    assert both[1] is not None and both[1]["i"] == 5
    assert reads.statements == 2 and not reads._keys


async def test_a_batched_caller_sees_what_was_committed_before_it_asked(client: httpx.AsyncClient,
                                                                        database_url: str) -> None:
    slug, _ = await thread(client)
    reads = SharedReads()
    query = "SELECT slug, version, pg_sleep(0.3) FROM topic WHERE slug = ANY($1::text[])"
    before = await sql.fetchval("SELECT version FROM topic WHERE slug = $1", slug)
    first = asyncio.create_task(reads.fetch_item(query, slug))
    await asyncio.sleep(0.1)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("UPDATE topic SET version = version + 1 WHERE slug = $1", slug)
    finally:
        await conn.close()
    second = await reads.fetch_item(query, slug)
    assert (await first)["version"] == before  # type: ignore[index]
    assert second is not None and second["version"] == before + 1
