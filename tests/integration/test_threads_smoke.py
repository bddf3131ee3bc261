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


async def test_demo_loads_once_and_reads_like_a_site(client: httpx.AsyncClient) -> None:
    from forum import sql
    from forum.demo import ARTICLE_SLUG, load_demo

    assert "loaded" in await load_demo()
    assert "already" in await load_demo()
    assert await sql.fetchval("SELECT count(*) FROM topic WHERE slug = $1", ARTICLE_SLUG) == 1
    items = (await client.get(f"/api/topics/{ARTICLE_SLUG}/comments")).json()["items"]
    flat = []
    stack = list(reversed(items))
    while stack:
        node = stack.pop()
        flat.append(node)
        stack.extend(reversed(node["replies"]))
    assert max(c["depth"] for c in flat) >= 4
    assert all(c["status"] == "published" for c in flat)  # the guest comment waits in the queue
    assert any(c["author_badge"] == "coach" and c["parent_id"] is not None for c in flat)
    topic = (await client.get(f"/api/topics/{ARTICLE_SLUG}")).json()
    assert topic["comment_count"] == len(flat) == 8
    assert await sql.fetchval("SELECT count(*) FROM moderation_item WHERE comment IS NOT NULL") == 1
