"""End-to-end smoke of topics and comments: create, post, read the thread."""

from __future__ import annotations

import httpx

from tests.helpers import make_user


async def test_article_comment_and_thread(client: httpx.AsyncClient) -> None:
    coach = await make_user("coach")
    mod = await make_user("moderator")
    r = await client.post("/api/topics", headers=coach.headers,
                          json={"kind": "article", "title": "Supporting someone who drinks", "body": "**Hi**"})
    assert r.status_code == 201, r.text
    slug = r.json()["slug"]
    assert slug == "supporting-someone-who-drinks"
    c = await client.post(f"/api/topics/{slug}/comments", headers=mod.headers, json={"body": "first"})
    assert c.status_code == 201, c.text
    assert c.json()["status"] == "published" and c.json()["author_badge"] == "moderator"
    reply = await client.post(f"/api/topics/{slug}/comments", headers=coach.headers,
                              json={"body": "reply", "parent_id": c.json()["id"]})
    assert reply.status_code == 201, reply.text
    t = await client.get(f"/api/topics/{slug}/comments")
    assert t.status_code == 200, t.text
    items = t.json()["items"]
    assert [i["id"] for i in items] == [c.json()["id"]]
    assert items[0]["replies"][0]["id"] == reply.json()["id"]
    assert items[0]["reply_count"] == 1
    topic = (await client.get(f"/api/topics/{slug}")).json()
    assert topic["comment_count"] == 2
