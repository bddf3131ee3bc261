"""Signed-in thread reads from the page cache (forum/comments/reads.py): a reader sees their own
pending comment and `my_vote`, never another reader's; the bytes are those of a page built
for them; ETags and cached pages follow votes, edits and new pending comments."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from forum import sql
from forum.auth import Viewer
from forum.comments import services
from forum.comments import viewer as viewer_marks
from tests.helpers import Account, make_user
from tests.integration.test_comments import flatten, make_topic, post, trust_everyone
from tests.integration.test_perf_cache import pages_of


async def built_for(slug: str, who: Account) -> bytes:
    """The page as the uncached path builds it for `who` (three queries, marks, encoding)."""
    topic_id = await sql.fetchval("SELECT id FROM topic WHERE slug = $1", slug)
    viewer = Viewer(who.id, who.handle, who.role, "active", None, 0)
    page = await services.thread_page(topic_id, slug, viewer, sort="oldest", limit=50, position=None)
    await viewer_marks.annotate(page["items"], viewer)
    return msgspec.json.encode(page)


async def read(client: httpx.AsyncClient, slug: str, who: Account | None, **headers: str) -> httpx.Response:
    h = dict(who.headers) if who is not None else {}
    h.update(headers)
    return await client.get(f"/api/topics/{slug}/comments", headers=h)


async def thread_with_readers(client: httpx.AsyncClient) -> tuple[str, list[dict[str, Any]], Account, Account,
                                                                  dict[str, Any], dict[str, Any]]:
    await trust_everyone()
    coach = await make_user("coach")
    slug = await make_topic(client, coach)
    roots = [await post(client, slug, coach) for _ in range(3)]
    a, b = await make_user(), await make_user()
    b_reply = await post(client, slug, b, parent_id=roots[1]["id"])  # published, in b's edit window
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 5")
    a_pending = await post(client, slug, a, parent_id=roots[0]["id"])
    assert a_pending["status"] == "pending"
    for who, target in ((a, roots[2]), (b, roots[0])):
        r = await client.post(f"/api/comments/{target['id']}/vote", headers=who.headers)
        assert r.status_code == 200, r.text
    return slug, roots, a, b, a_pending, b_reply


async def test_each_reader_sees_their_own_pending_comment_and_votes_only(client: httpx.AsyncClient,
                                                                          app: Any) -> None:
    slug, roots, a, b, a_pending, b_reply = await thread_with_readers(client)
    anon = await read(client, slug, None)
    for who in (a, b, a, b):  # the second round comes from the cache
        r = await read(client, slug, who)
        assert r.status_code == 200
        assert r.content == await built_for(slug, who)
    seen_a = {c["id"]: c for c in flatten((await read(client, slug, a)).json()["items"])}
    seen_b = {c["id"]: c for c in flatten((await read(client, slug, b)).json()["items"])}
    seen_anon = {c["id"]: c for c in flatten(anon.json()["items"])}
    assert a_pending["id"] in seen_a and seen_a[a_pending["id"]]["status"] == "pending"
    assert a_pending["id"] not in seen_b and a_pending["id"] not in seen_anon
    assert seen_a[roots[2]["id"]]["my_vote"] == 1 and seen_a[roots[0]["id"]]["my_vote"] is None
    assert seen_b[roots[0]["id"]]["my_vote"] == 1 and seen_b[roots[2]["id"]]["my_vote"] is None
    assert "my_vote" not in seen_anon[roots[0]["id"]]
    assert "editable_until" in seen_b[b_reply["id"]] and "editable_until" not in seen_a[b_reply["id"]]
    assert "editable_until" in seen_a[a_pending["id"]]
    # b is served from the public page (no entry of their own); a has one
    pages = pages_of(app)
    assert pages.candidate((slug, "oldest", 50, None, b.id)) is None
    assert pages.candidate((slug, "oldest", 50, None, a.id)) is not None


async def test_etag_and_page_follow_votes_edits_and_new_pending_comments(client: httpx.AsyncClient) -> None:
    slug, roots, a, b, a_pending, _ = await thread_with_readers(client)
    first_b = await read(client, slug, b)
    etag_b = first_b.headers["etag"]
    assert (await read(client, slug, b, **{"If-None-Match": etag_b})).status_code == 304
    assert first_b.headers["etag"] != (await read(client, slug, a)).headers["etag"]  # per viewer
    # b votes: b's ETag changes and the page shows the vote
    assert (await client.post(f"/api/comments/{roots[1]['id']}/vote", headers=b.headers)).status_code == 200
    assert (await read(client, slug, b, **{"If-None-Match": etag_b})).status_code == 200
    after = {c["id"]: c for c in flatten((await read(client, slug, b)).json()["items"])}
    assert after[roots[1]["id"]]["my_vote"] == 1
    # a edits the pending comment (no public change): a's page shows the new text at once
    await read(client, slug, a)
    r = await client.patch(f"/api/comments/{a_pending['id']}", headers=a.headers, json={"body": "changed words"})
    assert r.status_code == 200, r.text
    page_a = await read(client, slug, a)
    assert page_a.content == await built_for(slug, a)
    assert "changed words" in page_a.text
    # b posts a pending comment: from then on b gets a page of their own, a never sees it
    b_pending = await post(client, slug, b, parent_id=roots[2]["id"])
    assert b_pending["status"] == "pending"
    page_b = await read(client, slug, b)
    assert page_b.content == await built_for(slug, b) and str(b_pending["id"]) in page_b.text
    assert f'"id":{b_pending["id"]}' not in (await read(client, slug, a)).text


async def test_readers_at_the_same_moment_share_statements_and_each_gets_their_own_page(
        client: httpx.AsyncClient, app: Any) -> None:
    """Sessions with readers' marks are read in rounds (forum/coalesce.py `fetch_item`): many
    readers at once cost a few statements, and nobody gets another reader's marks."""
    import asyncio

    slug, _, a, b, _, _ = await thread_with_readers(client)
    await read(client, slug, a)  # the cache holds the public page and a's own
    await read(client, slug, b)
    reads = app.state.shared_reads
    calls, statements = reads.calls, reads.statements
    readers = [a, b] * 10
    pages = await asyncio.gather(*(read(client, slug, who) for who in readers))
    for who, r in zip(readers, pages, strict=True):
        assert r.status_code == 200
        assert r.content == await built_for(slug, who)
    # each read asks one question (its session and its marks together,
    # reads.READER_BY_TOKEN_SQL): the rounds answered them together
    asked, ran = reads.calls - calls, reads.statements - statements
    assert asked == len(readers)
    assert ran < asked / 2


async def test_a_revoked_session_is_refused_by_the_next_read(client: httpx.AsyncClient) -> None:
    slug, _, a, _, _, _ = await thread_with_readers(client)
    assert (await read(client, slug, a)).status_code == 200
    r = await client.post("/api/auth/logout", headers=a.headers)
    assert r.status_code in (200, 204), r.text
    assert (await read(client, slug, a)).status_code == 401
