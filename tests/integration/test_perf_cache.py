"""The anonymous thread-page cache (forum/comments/cache.py): hits, misses, and two app
instances on one database (two processes in production) that each hold their own cache:
a write through one is seen through the other at once, whatever the NOTIFY timing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from forum import sql
from forum.app import create_app
from forum.comments import cache, lifecycle, services
from forum.comments.schemas import CommentPage
from forum.events import EventListener, TopicEvent
from forum.settings import Settings
from tests.helpers import make_user
from tests.integration.test_comments import make_topic, post, trust_everyone


@pytest.fixture
async def other(app: Any, settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A second app instance with its own page cache and event listener (the pool is shared:
    it is per process, and both apps run in this one)."""
    second = create_app(settings)
    listener = EventListener(database_url)
    await lifecycle.on_startup(second, settings, listener)
    transport = httpx.ASGITransport(app=second, client=("127.0.0.1", 40001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as c:
        c.app = second  # type: ignore[attr-defined]
        yield c


def pages_of(client_or_app: Any) -> cache.PageCache:
    app = getattr(client_or_app, "app", None) or client_or_app
    pages = lifecycle.page_cache(app)
    assert pages is not None
    return pages


async def test_second_read_is_a_hit_with_the_same_bytes(client: httpx.AsyncClient, app: Any) -> None:
    await trust_everyone()
    author = await make_user("coach")
    slug = await make_topic(client, author)
    root = await post(client, slug, author)
    await post(client, slug, author, parent_id=root["id"])
    pages = pages_of(app)
    hits = pages.hits
    first = await client.get(f"/api/topics/{slug}/comments")
    second = await client.get(f"/api/topics/{slug}/comments")
    assert first.status_code == second.status_code == 200
    assert pages.hits == hits + 1
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]
    assert first.headers["content-type"].startswith("application/json")
    assert second.json()["items"][0]["replies"][0]["author"]["handle"] == author.handle


async def test_encoded_dicts_equal_the_schema_encoding(client: httpx.AsyncClient) -> None:
    """The page is encoded from dicts: the bytes are those the CommentPage schema gives."""
    await trust_everyone()
    author = await make_user("coach")
    slug = await make_topic(client, author)
    root = await post(client, slug, author)
    await post(client, slug, author, parent_id=root["id"], body="*reply* with [a link](https://example.org)")
    topic_id = await sql.fetchval("SELECT id FROM topic WHERE slug = $1", slug)
    page = await services.thread_page(topic_id, slug, None, sort="oldest", limit=20, position=None)
    assert msgspec.json.encode(page) == msgspec.json.encode(msgspec.convert(page, CommentPage))


async def test_signed_in_viewers_are_not_served_the_public_page(client: httpx.AsyncClient) -> None:
    await trust_everyone()
    author = await make_user("coach")
    reader = await make_user("reader")
    slug = await make_topic(client, author)
    await post(client, slug, author)
    public = (await client.get(f"/api/topics/{slug}/comments")).json()
    await client.get(f"/api/topics/{slug}/comments")  # cached now
    await sql.execute("UPDATE moderation_rules SET premoderate_all = true")
    pending = await post(client, slug, reader)
    assert pending["status"] == "pending"
    mine = (await client.get(f"/api/topics/{slug}/comments", headers=reader.headers)).json()
    assert pending["id"] in [i["id"] for i in mine["items"]]
    anon = (await client.get(f"/api/topics/{slug}/comments")).json()
    assert pending["id"] not in [i["id"] for i in anon["items"]]
    assert [i["id"] for i in anon["items"]] == [i["id"] for i in public["items"]]


async def test_write_through_one_app_is_seen_through_the_other_at_once(
        client: httpx.AsyncClient, other: httpx.AsyncClient) -> None:
    await trust_everyone()
    author = await make_user("coach")
    slug = await make_topic(client, author)
    await post(client, slug, author)
    url = f"/api/topics/{slug}/comments"
    for c in (client, other):  # warm both caches
        await c.get(url)
    before = await other.get(url)
    assert pages_of(other).hits >= 1
    new = await post(client, slug, author)  # written through the first app
    after = await other.get(url)  # read through the second at once: no waiting for NOTIFY
    assert new["id"] in [i["id"] for i in after.json()["items"]]
    assert after.headers["etag"] != before.headers["etag"]
    stale = await other.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200


async def test_rename_and_role_change_are_seen_in_cached_pages(
        client: httpx.AsyncClient, other: httpx.AsyncClient) -> None:
    """Neither bumps the topic version; both move the display epoch (user_display_epoch),
    which every hit reads, by anonymous and signed-in readers alike, in every process."""
    await trust_everyone()
    author = await make_user("coach")
    writer, reader = await make_user("reader"), await make_user("reader")
    slug = await make_topic(client, author)
    await post(client, slug, writer)
    url = f"/api/topics/{slug}/comments"

    async def shown(c: httpx.AsyncClient, headers: dict[str, str] | None = None) -> dict[str, Any]:
        r = await c.get(url, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()["items"][0]["author"]  # type: ignore[no-any-return]

    for c in (client, other, client, other):  # cached in both processes, for both kinds of reader
        await shown(c)
        await shown(c, reader.headers)
    r = await client.patch("/api/me", headers=writer.headers, json={"handle": "renamed_" + writer.handle[-8:]})
    assert r.status_code == 200, r.text
    for c in (client, other):
        assert (await shown(c))["handle"] == "renamed_" + writer.handle[-8:]
        assert (await shown(c, reader.headers))["handle"] == "renamed_" + writer.handle[-8:]
    await sql.execute("UPDATE forum_user SET role = 'coach' WHERE id = $1", writer.id)
    for c in (client, other):
        assert (await shown(c))["role"] == "coach"
        assert (await shown(c, reader.headers))["role"] == "coach"


async def test_the_display_epoch_moves_with_handles_and_roles_only() -> None:
    """The trigger of migration forum_2026_12_07t22_30_00: any path that changes a handle or
    a role (or deletes an account) moves the epoch; other changes of an account do not; and
    the counter comes back by itself after a TRUNCATE."""
    someone = await make_user("reader")

    async def epoch() -> int:
        return int(await sql.fetchval("SELECT coalesce((SELECT epoch FROM user_display_epoch), 0)"))

    start = await epoch()
    await sql.execute("UPDATE forum_user SET notify_email = NOT notify_email WHERE id = $1", someone.id)
    await sql.execute("UPDATE forum_user SET handle = handle, role = role WHERE id = $1", someone.id)
    assert await epoch() == start
    await sql.execute("UPDATE forum_user SET handle = NULL WHERE id = $1", someone.id)  # as erasure does
    assert await epoch() == start + 1
    await sql.execute("UPDATE forum_user SET role = 'moderator' WHERE id = $1", someone.id)
    assert await epoch() == start + 2
    await sql.execute("DELETE FROM forum_user WHERE id = $1", someone.id)
    assert await epoch() == start + 3
    await sql.execute("TRUNCATE user_display_epoch")
    assert await epoch() == 0
    await make_user("reader")  # a new account shows in no page yet: nothing moves
    assert await epoch() == 0
    await sql.execute("UPDATE forum_user SET role = 'coach' WHERE role = 'reader'")
    assert await epoch() >= 1


async def test_sorts_limits_and_cursors_are_cached_apart(client: httpx.AsyncClient) -> None:
    await trust_everyone()
    author = await make_user("coach")
    slug = await make_topic(client, author)
    ids = [(await post(client, slug, author))["id"] for _ in range(3)]
    url = f"/api/topics/{slug}/comments"
    for _ in range(2):
        oldest = (await client.get(url, params={"limit": 2})).json()
        newest = (await client.get(url, params={"limit": 2, "sort": "newest"})).json()
        assert [i["id"] for i in oldest["items"]] == ids[:2]
        assert [i["id"] for i in newest["items"]] == ids[::-1][:2]
        rest = (await client.get(url, params={"limit": 2, "cursor": oldest["next_cursor"]})).json()
        assert [i["id"] for i in rest["items"]] == ids[2:]


async def test_hidden_comment_leaves_the_cached_page(client: httpx.AsyncClient, other: httpx.AsyncClient) -> None:
    await trust_everyone()
    author = await make_user("coach")
    mod = await make_user("moderator")
    slug = await make_topic(client, author)
    c = await post(client, slug, author)
    url = f"/api/topics/{slug}/comments"
    for cl in (client, other, client, other):
        assert c["id"] in [i["id"] for i in (await cl.get(url)).json()["items"]]
    r = await client.delete(f"/api/comments/{c['id']}", headers=mod.headers)
    assert r.status_code == 204
    for cl in (client, other):
        assert (await cl.get(url)).json()["items"] == []


def test_a_relabelled_entry_keeps_its_bytes_and_their_pieces() -> None:
    """A relabel (reads.py: the page's rows unchanged at a newer version) moves the version up,
    never down, restarts the count of changed builds, and keeps the pieces a signed-in
    reader's page is spliced from (made once per page, not once per version)."""
    body, _ = cache.encode_page({"items": [{"id": 7, "replies": []}, {"id": 8, "replies": []}]})
    entry = cache.Entry(1, 5, 1, body, ((6, 7), (20, 8)), changed=3)
    pieces = entry.pieces()
    newer = entry.relabelled(9, ("x:1",))
    assert (newer.version, newer.extras, newer.changed, newer.body) == (9, ("x:1",), 0, body)
    assert newer.pieces() is pieces
    assert entry.relabelled(4, ()).version == 5


def test_lru_bounds_and_invalidation() -> None:
    pages = cache.PageCache(max_entries=2, max_bytes=10)
    e = lambda topic, version, body=b"x": cache.Entry(topic, version, 1, body)  # noqa: E731
    pages.put(("a", "oldest", 20, None), e(1, 1))
    pages.put(("b", "oldest", 20, None), e(2, 1))
    pages.put(("c", "oldest", 20, None), e(3, 1))
    assert len(pages) == 2 and pages.candidate(("a", "oldest", 20, None)) is None
    pages.put(("d", "oldest", 20, None), e(4, 1, b"1234567890"))  # over the byte budget: the oldest go
    assert len(pages) == 1
    pages.put(("e", "oldest", 20, None), e(5, 1, b"12345678901"))  # larger than the budget: not kept
    assert pages.candidate(("e", "oldest", 20, None)) is None
    pages.clear()
    pages.put(("a", "oldest", 20, None), e(1, 3))
    pages.drop_topic(1, below_version=3)
    assert len(pages) == 1
    pages.drop_topic(1, below_version=4)
    assert len(pages) == 0


async def test_listener_events_drop_entries(client: httpx.AsyncClient, settings: Settings, database_url: str) -> None:
    second = create_app(settings)
    listener = EventListener(database_url)
    await lifecycle.on_startup(second, settings, listener)
    pages = pages_of(second)
    pages.put(("s", "oldest", 20, None), cache.Entry(7, 1, 1, b"{}"))
    pages.put(("t", "oldest", 20, None), cache.Entry(8, 1, 1, b"{}"))
    listener.dispatch(TopicEvent(7, 2, "comment", None))
    assert pages.candidate(("s", "oldest", 20, None)) is None
    assert pages.candidate(("t", "oldest", 20, None)) is not None
    listener.dispatch(TopicEvent(0, 0, "reset", None))
    assert len(pages) == 0
    await asyncio.sleep(0)
