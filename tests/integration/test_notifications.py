"""GET /api/me/notifications and POST /api/me/notifications/read."""

from __future__ import annotations

import httpx

from forum import sql
from forum.notifications.services import notify
from tests.helpers import make_user
from tests.integration.test_qa_support import make_topic, notifications_of, publish_comment


async def test_list_is_newest_first_paged_with_unread_count(client: httpx.AsyncClient) -> None:
    a = await make_user()
    topic = await make_topic()
    root = await publish_comment(topic, a)
    replies = [await publish_comment(topic, await make_user(), parent=root) for _ in range(3)]
    r = await client.get("/api/me/notifications", params={"limit": 2}, headers=a.headers)
    assert r.status_code == 200
    first = r.json()
    assert first["unread_count"] == 3
    assert [n["comment_id"] for n in first["items"]] == [replies[2]["id"], replies[1]["id"]]
    item = first["items"][0]
    assert set(item) >= {"id", "kind", "comment_id", "topic_slug", "reason", "created_at", "read_at"}
    assert item["kind"] == "reply" and item["topic_slug"] == topic["slug"] and item["read_at"] is None
    assert item["reason"] is None
    second = (await client.get("/api/me/notifications", params={"limit": 2, "cursor": first["next_cursor"]},
                               headers=a.headers)).json()
    assert [n["comment_id"] for n in second["items"]] == [replies[0]["id"]]
    assert second["next_cursor"] is None


async def test_moderation_notification_carries_the_reason(client: httpx.AsyncClient) -> None:
    author, mod = await make_user(), await make_user("moderator")
    topic = await make_topic()
    c = await publish_comment(topic, author, status="pending")
    async with sql.transaction():
        await notify(author.id, "moderation", comment_id=c["id"], topic_id=topic["id"], actor_id=mod.id,
                     reason="Please keep it kind.")
    items = (await notifications_of(client, author))["items"]
    assert [(n["kind"], n["comment_id"], n["reason"]) for n in items] == [
        ("moderation", c["id"], "Please keep it kind.")]


async def test_mark_read_by_ids_and_all_only_touches_own(client: httpx.AsyncClient) -> None:
    a, b = await make_user(), await make_user()
    topic = await make_topic()
    root_a, root_b = await publish_comment(topic, a), await publish_comment(topic, b)
    for _ in range(2):
        await publish_comment(topic, await make_user(), parent=root_a)
    await publish_comment(topic, await make_user(), parent=root_b)
    mine = (await notifications_of(client, a))["items"]
    theirs = (await notifications_of(client, b))["items"]

    r = await client.post("/api/me/notifications/read", json={"ids": [mine[0]["id"], theirs[0]["id"]]},
                          headers=a.headers)
    assert r.status_code == 204
    after = await notifications_of(client, a)
    assert after["unread_count"] == 1
    assert next(n for n in after["items"] if n["id"] == mine[0]["id"])["read_at"] is not None
    assert (await notifications_of(client, b))["unread_count"] == 1  # someone else's: ignored

    assert (await client.post("/api/me/notifications/read", json={"all": True},
                              headers=a.headers)).status_code == 204
    assert (await notifications_of(client, a))["unread_count"] == 0
    assert (await notifications_of(client, b))["unread_count"] == 1


async def test_read_validation_and_auth(client: httpx.AsyncClient) -> None:
    a = await make_user()
    assert (await client.get("/api/me/notifications")).status_code == 401
    assert (await client.post("/api/me/notifications/read", json={"all": True})).status_code == 401
    for body in ({}, {"ids": [0]}, {"ids": "x"}, {"ids": [2**63]}):
        r = await client.post("/api/me/notifications/read", json=body, headers=a.headers)
        assert r.status_code == 400, (body, r.text)
    r = await client.get("/api/me/notifications", params={"limit": 0}, headers=a.headers)
    assert r.status_code == 400


async def test_private_question_replies_reach_only_those_who_may_see_them(client: httpx.AsyncClient) -> None:
    asker, coach, reader = await make_user(), await make_user("coach"), await make_user()
    topic = await make_topic()
    public_root = await publish_comment(topic, reader)
    q = await publish_comment(topic, asker, kind="question", private=True)
    await publish_comment(topic, coach, parent=q)
    # the reader's own comment elsewhere in the topic gets nothing from the private subtree
    assert (await notifications_of(client, reader))["items"] == []
    assert public_root["private"] is False
    items = (await notifications_of(client, asker))["items"]
    assert [n["kind"] for n in items] == ["answer"]
