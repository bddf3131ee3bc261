"""Threaded comments through the real app: tree order, paging, sorts, visibility per role,
idempotency races, edits, tombstones, votes, ETags, counts and query counts."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from forum import sql
from forum.comments import tree, visibility
from forum.comments.erasure import erase_user_content
from tests.helpers import Account, make_user


async def trust_everyone() -> None:
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0, premoderate_all = false")


async def make_topic(client: httpx.AsyncClient, author: Account, **extra: Any) -> str:
    r = await client.post("/api/topics", headers=author.headers,
                          json={"kind": "article", "title": "A topic", "body": "text", **extra})
    assert r.status_code == 201, r.text
    return str(r.json()["slug"])


async def post(client: httpx.AsyncClient, slug: str, who: Account | None, body: str | None = None,
               expect: int = 201, **extra: Any) -> dict[str, Any]:
    body = body if body is not None else f"hello {uuid.uuid4().hex[:8]}"  # never a repeat post
    r = await client.post(f"/api/topics/{slug}/comments", headers=who.headers if who else {},
                          json={"body": body, **extra})
    assert r.status_code == expect, r.text
    return dict(r.json())


def flatten(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        out.append(item)
        out.extend(flatten(item["replies"]))
    return out


async def thread(client: httpx.AsyncClient, slug: str, who: Account | None = None,
                 **params: Any) -> list[dict[str, Any]]:
    roots: list[dict[str, Any]] = []
    cursor = None
    while True:
        q = dict(params, **({"cursor": cursor} if cursor else {}))
        r = await client.get(f"/api/topics/{slug}/comments", params=q, headers=who.headers if who else {})
        assert r.status_code == 200, r.text
        roots.extend(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if not cursor:
            return roots


@pytest.fixture
async def setup(client: httpx.AsyncClient) -> Any:
    await trust_everyone()
    coach = await make_user("coach")
    reader = await make_user("reader")
    slug = await make_topic(client, coach)
    return coach, reader, slug


async def test_deep_and_wide_tree_order_and_nesting(client: httpx.AsyncClient, setup: Any) -> None:
    _, reader, slug = setup
    a = (await post(client, slug, reader))["id"]
    chain = [a]
    for _ in range(30):  # 30 levels deep
        chain.append((await post(client, slug, reader, parent_id=chain[-1]))["id"])
    wide = [(await post(client, slug, reader, parent_id=a))["id"] for _ in range(12)]
    b = (await post(client, slug, reader))["id"]
    roots = await thread(client, slug)
    assert [r["id"] for r in roots] == [a, b]
    flat = flatten(roots)
    assert [c["id"] for c in flat] == chain + wide + [b]
    assert [c["depth"] for c in flat[:31]] == list(range(31))
    assert [c["id"] for c in roots[0]["replies"]] == [chain[1], *wide]
    assert roots[0]["reply_count"] == 42
    assert all(c["parent_id"] == a for c in roots[0]["replies"])


async def test_sorts_and_bad_sort(client: httpx.AsyncClient, setup: Any) -> None:
    _coach, reader, slug = setup
    ids = [(await post(client, slug, reader, f"root {i}"))["id"] for i in range(4)]
    assert [r["id"] for r in await thread(client, slug, sort="oldest", limit=3)] == ids
    assert [r["id"] for r in await thread(client, slug, sort="newest", limit=3)] == ids[::-1]
    voters = [await make_user() for _ in range(2)]
    for cid, voter in ((ids[2], voters[0]), (ids[2], voters[1]), (ids[3], voters[0])):
        r = await client.post(f"/api/comments/{cid}/vote", headers=voter.headers)
        assert r.status_code == 200
    top = await thread(client, slug, sort="top", limit=1)
    assert [r["id"] for r in top] == [ids[2], ids[3], ids[0], ids[1]]
    assert [r["score"] for r in top] == [2, 1, 0, 0]
    r = await client.get(f"/api/topics/{slug}/comments", params={"sort": "best"})
    assert r.status_code == 400 and "sort" in r.json()["detail"]


async def test_paging_has_no_gaps_or_duplicates_under_concurrent_inserts(client: httpx.AsyncClient,
                                                                          setup: Any) -> None:
    _, reader, slug = setup
    before = [(await post(client, slug, reader, f"r{i}"))["id"] for i in range(9)]

    async def reader_pages() -> list[int]:
        seen: list[int] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get(f"/api/topics/{slug}/comments", params=params)).json()
            seen.extend(r["id"] for r in page["items"])
            cursor = page["next_cursor"]
            await asyncio.sleep(0)
            if not cursor:
                return seen

    async def writer() -> None:
        for i in range(6):
            await post(client, slug, reader, f"late {i}")

    seen, _ = await asyncio.gather(reader_pages(), writer())
    assert len(seen) == len(set(seen))
    assert seen[:9] == before
    assert set(before) <= set(seen)


async def test_visibility_for_each_role(client: httpx.AsyncClient, setup: Any) -> None:
    coach, _reader, slug = setup
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 5")
    newbie, other, mod = await make_user(), await make_user(), await make_user("moderator")
    pending = await post(client, slug, newbie, "held for review")
    assert pending["status"] == "pending"
    question = await post(client, slug, coach, "private question", kind="question", private=True)
    answer = await post(client, slug, coach, "private answer", parent_id=question["id"])
    assert answer["private"] is True
    public_ids = {c["id"] for c in flatten(await thread(client, slug))}
    assert pending["id"] not in public_ids and question["id"] not in public_ids
    assert pending["id"] not in {c["id"] for c in flatten(await thread(client, slug, other))}
    mine = {c["id"]: c for c in flatten(await thread(client, slug, newbie))}
    assert mine[pending["id"]]["status"] == "pending" and question["id"] not in mine
    mod_ids = {c["id"] for c in flatten(await thread(client, slug, mod))}
    assert {pending["id"], question["id"], answer["id"]} <= mod_ids
    assert (await client.get(f"/api/comments/{pending['id']}")).status_code == 404
    assert (await client.get(f"/api/comments/{pending['id']}", headers=newbie.headers)).status_code == 200
    assert (await client.get(f"/api/comments/{answer['id']}", headers=other.headers)).status_code == 404
    # the public count sees neither the pending nor the private comments
    assert (await client.get(f"/api/topics/{slug}")).json()["comment_count"] == 0


async def test_private_question_visible_to_asker_and_coaches(client: httpx.AsyncClient, setup: Any) -> None:
    coach, asker, slug = setup
    q = await post(client, slug, asker, "my private worry", kind="question", private=True)
    assert q["question_status"] == "unanswered"
    other = await make_user()
    reply = await post(client, slug, coach, "coach answer", parent_id=q["id"])
    assert reply["author_badge"] == "coach"
    assert {c["id"] for c in flatten(await thread(client, slug, asker))} == {q["id"], reply["id"]}
    assert {c["id"] for c in flatten(await thread(client, slug, coach))} == {q["id"], reply["id"]}
    assert flatten(await thread(client, slug, other)) == []
    await post(client, slug, asker, "x", kind="comment", private=True, expect=400)


async def test_idempotency_key_race_stores_one_comment(client: httpx.AsyncClient, setup: Any) -> None:
    _, reader, slug = setup
    headers = {**reader.headers, "Idempotency-Key": "retry-1"}
    results = await asyncio.gather(*[
        client.post(f"/api/topics/{slug}/comments", headers=headers, json={"body": "once only"})
        for _ in range(5)])
    assert all(r.status_code in (201, 409) for r in results), [r.status_code for r in results]
    assert len({r.json()["id"] for r in results if r.status_code == 201}) == 1
    assert await sql.fetchval("SELECT count(*) FROM comment WHERE body = 'once only'") == 1
    again = await client.post(f"/api/topics/{slug}/comments", headers=headers, json={"body": "once only"})
    assert again.status_code == 201 and again.json()["id"] == results[0].json()["id"]
    other = await client.post(f"/api/topics/{slug}/comments", headers=headers, json={"body": "different"})
    assert other.status_code == 409


async def test_edit_window_and_revisions(client: httpx.AsyncClient, setup: Any) -> None:
    _, reader, slug = setup
    c = await post(client, slug, reader, "first text")
    r = await client.patch(f"/api/comments/{c['id']}", headers=reader.headers, json={"body": "second text"})
    assert r.status_code == 200 and "second text" in r.json()["body_html"] and r.json()["edited_at"]
    revs = await client.get(f"/api/comments/{c['id']}/revisions", headers=reader.headers)
    assert [x["body"] for x in revs.json()["items"]] == ["first text"]
    stranger = await make_user()
    assert (await client.get(f"/api/comments/{c['id']}/revisions", headers=stranger.headers)).status_code == 403
    assert (await client.patch(f"/api/comments/{c['id']}", headers=stranger.headers,
                               json={"body": "hijack"})).status_code == 403
    await sql.execute("UPDATE moderation_rules SET edit_window_minutes = 0")
    late = await client.patch(f"/api/comments/{c['id']}", headers=reader.headers, json={"body": "third"})
    assert late.status_code == 403
    mod = await make_user("moderator")
    assert (await client.patch(f"/api/comments/{c['id']}", headers=mod.headers,
                               json={"body": "cleaned"})).status_code == 200
    assert (await client.patch(f"/api/comments/{c['id']}", headers=mod.headers,
                               json={"body": "   "})).status_code == 400


async def test_tombstones_and_counts(client: httpx.AsyncClient, setup: Any) -> None:
    _, reader, slug = setup
    p = await post(client, slug, reader, "parent with a secret")
    kid = await post(client, slug, reader, "child", parent_id=p["id"])
    lone = await post(client, slug, reader, "lonely")
    assert (await client.get(f"/api/topics/{slug}")).json()["comment_count"] == 3
    assert (await client.delete(f"/api/comments/{p['id']}", headers=reader.headers)).status_code == 204
    assert (await client.delete(f"/api/comments/{lone['id']}", headers=reader.headers)).status_code == 204
    r = await client.get(f"/api/topics/{slug}/comments")
    roots = r.json()["items"]
    assert [x["id"] for x in roots] == [p["id"]]
    assert roots[0]["status"] == "deleted" and roots[0]["author"] is None and roots[0]["body_html"] == ""
    assert roots[0]["replies"][0]["id"] == kid["id"] and "secret" not in r.text
    assert (await client.get(f"/api/comments/{lone['id']}")).status_code == 404
    assert (await client.get(f"/api/topics/{slug}")).json()["comment_count"] == 1
    await post(client, slug, reader, "reply to stone", parent_id=p["id"], expect=409)
    # once its last reply is gone, the tombstone leaves the public view too
    assert (await client.delete(f"/api/comments/{kid['id']}", headers=reader.headers)).status_code == 204
    assert (await client.get(f"/api/topics/{slug}/comments")).json()["items"] == []


async def test_votes(client: httpx.AsyncClient, setup: Any) -> None:
    _, reader, slug = setup
    c = await post(client, slug, reader, "vote me")
    voter = await make_user()
    for _ in range(2):
        r = await client.post(f"/api/comments/{c['id']}/vote", headers=voter.headers)
        assert r.json() == {"score": 1}
    assert (await client.post(f"/api/comments/{c['id']}/vote", headers=reader.headers)).status_code == 403
    assert (await client.post(f"/api/comments/{c['id']}/vote")).status_code == 401
    assert (await client.delete(f"/api/comments/{c['id']}/vote", headers=voter.headers)).json() == {"score": 0}
    assert (await client.delete(f"/api/comments/{c['id']}/vote", headers=voter.headers)).json() == {"score": 0}


async def test_etag_304_until_a_change(client: httpx.AsyncClient, setup: Any) -> None:
    _, reader, slug = setup
    await post(client, slug, reader, "one")
    r = await client.get(f"/api/topics/{slug}/comments")
    etag = r.headers["etag"]
    again = await client.get(f"/api/topics/{slug}/comments", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    mine = await client.get(f"/api/topics/{slug}/comments", headers={**reader.headers, "If-None-Match": etag})
    assert mine.status_code == 200  # another viewer, another ETag
    await post(client, slug, reader, "two")
    fresh = await client.get(f"/api/topics/{slug}/comments", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != etag


async def test_guest_needs_a_name_and_is_held(client: httpx.AsyncClient, setup: Any) -> None:
    _, _, slug = setup
    await post(client, slug, None, "anon", expect=401)
    g = await post(client, slug, None, "guest words", guest_name="Sam")
    assert g["status"] == "pending" and g["guest_name"] == "Sam" and g["author"] is None
    await post(client, slug, None, "x", guest_name="n" * 41, expect=400)
    for borrowed in ("Coach Maria", "The Moderator", "admin"):  # no borrowed authority
        r = await client.post(f"/api/topics/{slug}/comments", json={"body": "x", "guest_name": borrowed})
        assert r.status_code == 400 and r.json()["detail"].startswith("guest_name: must not read as a staff title")


async def test_body_rules(client: httpx.AsyncClient, setup: Any) -> None:
    _, reader, slug = setup
    for body in ("", "   \n"):
        r = await client.post(f"/api/topics/{slug}/comments", headers=reader.headers, json={"body": body})
        assert r.status_code == 400 and "body" in r.json()["detail"]
    assert (await post(client, slug, reader, "x" * 10_000))["id"]
    await post(client, slug, reader, "x" * 10_001, expect=400)
    assert "\x00" not in (await post(client, slug, reader, "a\x00b"))["body_html"]
    closed = await make_topic(client, await make_user("coach"), comments="closed")
    await post(client, closed, reader, "too late", expect=403)


async def _bulk_thread(topic_id: int, author_id: int, roots: int, per_root: int) -> None:
    """Insert a thread directly: `roots` roots, each with a chain/fan of `per_root` replies."""
    rows = []
    for _ in range(roots):
        rid = await sql.fetchval("SELECT nextval(pg_get_serial_sequence('comment', 'id'))")
        rpath = tree.child_path(None, rid)
        rows.append((rid, None, rid, rpath, 0))
        parent_path, parent_id = rpath, rid
        for i in range(per_root):
            cid = await sql.fetchval("SELECT nextval(pg_get_serial_sequence('comment', 'id'))")
            path = tree.child_path(parent_path, cid)
            rows.append((cid, parent_id, rid, path, len(tree.ids_of(path)) - 1))
            if i % 3 == 0:
                parent_path, parent_id = path, cid
    await sql.execute(
        "INSERT INTO comment (id, topic, parent, root_id, path, depth, kind, private, status, author, body,"
        " body_html, score, reply_count, accepted, urgent, created_at)"
        " SELECT r.id, $1, r.parent, r.root, r.path, r.depth, 'comment', false, 'published', $2, 'b', '<p>b</p>',"
        " 0, 0, false, false, clock_timestamp()"
        " FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::int[])"
        " AS r(id, parent, root, path, depth)",
        topic_id, author_id, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
        [r[3] for r in rows], [r[4] for r in rows])


async def test_page_cost_does_not_grow_with_thread_size(client: httpx.AsyncClient, setup: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    coach, _, small = setup
    big = await make_topic(client, coach, title="Big")
    ids = {s: await sql.fetchval("SELECT id FROM topic WHERE slug = $1", s) for s in (small, big)}
    await _bulk_thread(ids[small], coach.id, roots=4, per_root=4)  # 20 comments
    await _bulk_thread(ids[big], coach.id, roots=400, per_root=4)  # 2,000 comments
    calls: list[str] = []
    for name in ("fetch", "fetchrow", "fetchval", "execute"):
        original = getattr(sql, name)

        def counting(query: str, *args: Any, _original: Any = original) -> Any:
            calls.append(query)
            return _original(query, *args)

        monkeypatch.setattr(sql, name, counting)

    async def cost(slug: str) -> int:
        calls.clear()
        r = await client.get(f"/api/topics/{slug}/comments", params={"limit": 4})
        assert r.status_code == 200 and len(r.json()["items"]) == 4
        return len(calls)

    # the version read, the page's fingerprint (forum/comments/reads.py), the page: its roots
    # and their replies in one statement
    assert await cost(small) == await cost(big) == 3
    # wide subtrees cost one more query (the count of left-out replies), whatever their size
    await _bulk_thread(ids[big], coach.id, roots=1, per_root=300)
    r = await client.get(f"/api/topics/{big}/comments", params={"sort": "newest", "limit": 1})
    root = r.json()["items"][0]
    assert len(flatten(root["replies"])) == 100 and root["more_replies"] == 200


async def test_replies_endpoint_pages_the_rest(client: httpx.AsyncClient, setup: Any) -> None:
    coach, _, slug = setup
    topic_id = await sql.fetchval("SELECT id FROM topic WHERE slug = $1", slug)
    await _bulk_thread(topic_id, coach.id, roots=1, per_root=150)
    root = (await thread(client, slug))[0]
    shown = [c["id"] for c in flatten(root["replies"])]
    assert len(shown) == 100 and root["more_replies"] == 50
    rest: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 20, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"/api/comments/{root['id']}/replies", params=params)).json()
        rest.extend(c["id"] for c in page["items"])
        assert all("parent_id" in c and "depth" in c for c in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    everything = [r["id"] for r in await sql.fetch(
        "SELECT id FROM comment WHERE root_id = $1 AND parent IS NOT NULL ORDER BY path", root["id"])]
    assert shown + rest == everything


async def test_visibility_functions_keep_counts_and_fire_hook_once(client: httpx.AsyncClient,
                                                                    setup: Any) -> None:
    coach, reader, slug = setup
    root = await post(client, slug, reader, "root")
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 5")
    newbie = await make_user()
    reply = await post(client, slug, newbie, "held reply", parent_id=root["id"])
    assert reply["status"] == "pending"

    async def counts() -> tuple[int, int]:
        return (await sql.fetchval("SELECT reply_count FROM comment WHERE id = $1", root["id"]),
                await sql.fetchval("SELECT comment_count FROM topic WHERE slug = $1", slug))

    assert await counts() == (0, 1)
    async with sql.transaction():
        await visibility.publish(reply["id"], actor_id=coach.id)
    assert await counts() == (1, 2)
    notes = await sql.fetchval("SELECT count(*) FROM notification WHERE comment = $1", reply["id"])
    assert notes == 1
    async with sql.transaction():
        await visibility.hide(reply["id"])
    assert await counts() == (0, 1)
    async with sql.transaction():
        await visibility.publish(reply["id"], actor_id=coach.id)
        await visibility.reject(reply["id"], "spam")
    assert await counts() == (0, 1)
    assert await sql.fetchval("SELECT count(*) FROM notification WHERE comment = $1", reply["id"]) == notes


async def test_erasure_of_a_users_comments(client: httpx.AsyncClient, setup: Any) -> None:
    _coach, victim, slug = setup
    other = await make_user()
    with_reply = await post(client, slug, victim, "secret words one")
    await post(client, slug, other, "answer", parent_id=with_reply["id"])
    alone = await post(client, slug, victim, "secret words two")
    chain = await post(client, slug, victim, "secret three")
    await post(client, slug, victim, "own reply", parent_id=chain["id"])
    target = await post(client, slug, other, "vote target")
    await client.post(f"/api/comments/{target['id']}/vote", headers=victim.headers)
    async with sql.transaction():
        await erase_user_content(victim.id)
    r = await client.get(f"/api/topics/{slug}/comments")
    assert "secret" not in r.text and victim.handle not in r.text
    ids = [c["id"] for c in flatten(r.json()["items"])]
    assert with_reply["id"] in ids and alone["id"] not in ids and chain["id"] not in ids
    assert await sql.fetchval("SELECT count(*) FROM comment WHERE author = $1", victim.id) == 0
    assert await sql.fetchval("SELECT score FROM comment WHERE id = $1", target["id"]) == 0
    assert (await client.get(f"/api/topics/{slug}")).json()["comment_count"] == 2
