"""Topics: who may create and change them, slugs, urls, listing, held discussions."""

from __future__ import annotations

import httpx

from forum import sql
from tests.helpers import make_user


async def test_articles_are_for_coaches(client: httpx.AsyncClient) -> None:
    reader, coach = await make_user(), await make_user("coach")
    body = {"kind": "article", "title": "Talking about drinking", "body": "**Be kind**"}
    assert (await client.post("/api/topics", headers=reader.headers, json=body)).status_code == 403
    assert (await client.post("/api/topics", json=body)).status_code == 401
    r = await client.post("/api/topics", headers=coach.headers, json=body)
    assert r.status_code == 201
    t = r.json()
    assert t["author"] == coach.user and t["comments"] == "open" and "<strong>Be kind</strong>" in t["body_html"]
    again = await client.post("/api/topics", headers=coach.headers, json=body)
    assert again.json()["slug"] != t["slug"] and again.json()["slug"].startswith(t["slug"])


async def test_bad_inputs(client: httpx.AsyncClient) -> None:
    coach = await make_user("coach")
    for payload, field in (({"comments": "sometimes"}, "comments"), ({"title": ""}, "title"),
                           ({"title": "x" * 301}, "title"), ({"kind": "poem"}, "kind"),
                           ({"url": "javascript:alert(1)"}, "url"), ({"slug": "Bad Slug"}, "slug")):
        r = await client.post("/api/topics", headers=coach.headers,
                              json={"kind": "article", "title": "T", "body": "b", **payload})
        assert r.status_code == 400 and field in r.json()["detail"], (payload, r.text)
    ok = await client.post("/api/topics", headers=coach.headers,
                           json={"kind": "article", "title": "T", "body": "b", "url": "https://blog.example/a"})
    assert ok.status_code == 201
    dup = await client.post("/api/topics", headers=coach.headers,
                            json={"kind": "article", "title": "T2", "body": "b", "url": "https://blog.example/a"})
    assert dup.status_code == 409
    assert (await client.get("/api/topics", params={"kind": "poem"})).status_code == 400


async def test_patch_rights_and_closing(client: httpx.AsyncClient) -> None:
    coach, other, reader, mod = (await make_user("coach"), await make_user("coach"), await make_user(),
                                 await make_user("moderator"))
    slug = (await client.post("/api/topics", headers=coach.headers,
                              json={"kind": "article", "title": "Mine", "body": "b"})).json()["slug"]
    for who in (other, reader):
        assert (await client.patch(f"/api/topics/{slug}", headers=who.headers, json={"title": "x"})).status_code == 403
    r = await client.patch(f"/api/topics/{slug}", headers=coach.headers, json={"title": "Renamed", "body": "*new*"})
    assert r.status_code == 200 and r.json()["title"] == "Renamed" and "<em>new</em>" in r.json()["body_html"]
    r = await client.patch(f"/api/topics/{slug}", headers=mod.headers, json={"comments": "closed"})
    assert r.json()["comments"] == "closed"
    c = await client.post(f"/api/topics/{slug}/comments", headers=reader.headers, json={"body": "hi"})
    assert c.status_code == 403


async def test_listing_newest_first_and_held_discussions(client: httpx.AsyncClient) -> None:
    coach, reader, mod = await make_user("coach"), await make_user(), await make_user("moderator")
    first = (await client.post("/api/topics", headers=coach.headers,
                               json={"kind": "article", "title": "One", "body": "b"})).json()
    await sql.execute("UPDATE moderation_rules SET premoderate_all = true, trusted_after_approved = 5")
    held = await client.post("/api/topics", headers=reader.headers,
                             json={"kind": "discussion", "title": "My son", "body": "What do I say?"})
    assert held.status_code == 201
    held_topic = held.json()
    second = (await client.post("/api/topics", headers=coach.headers,
                                json={"kind": "article", "title": "Two", "body": "b"})).json()
    page = (await client.get("/api/topics", params={"limit": 1})).json()
    assert [t["slug"] for t in page["items"]] == [second["slug"]]
    rest = (await client.get("/api/topics", params={"limit": 1, "cursor": page["next_cursor"]})).json()
    if held_topic["status"] == "pending":
        assert [t["slug"] for t in rest["items"]] == [first["slug"]]
        assert (await client.get(f"/api/topics/{held_topic['slug']}")).status_code == 404
        assert (await client.get(f"/api/topics/{held_topic['slug']}", headers=reader.headers)).status_code == 200
        assert (await client.get(f"/api/topics/{held_topic['slug']}", headers=mod.headers)).status_code == 200
        assert await sql.fetchval("SELECT count(*) FROM moderation_item WHERE topic = $1", held_topic["id"]) == 1
    arts = (await client.get("/api/topics", params={"kind": "discussion"})).json()["items"]
    assert all(t["kind"] == "discussion" for t in arts)


async def test_premoderated_mode_holds_comments_not_the_discussion_itself(client: httpx.AsyncClient) -> None:
    """`comments: premoderated` governs a discussion's comments; the discussion itself is
    judged like any post by its author (a trusted coach here: published at once)."""
    coach = await make_user("coach")
    r = await client.post("/api/topics", headers=coach.headers, json={
        "kind": "discussion", "title": "Weekly check-in", "body": "How did this week go?", "comments": "premoderated"})
    assert r.status_code == 201, r.text
    assert r.json()["comments"] == "premoderated"
    listed = (await client.get("/api/topics", params={"kind": "discussion"})).json()["items"]
    assert r.json()["slug"] in [t["slug"] for t in listed]
