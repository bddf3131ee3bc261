"""Atom feeds of threads, in process: replies under a comment the public cannot see stay out,
tombstones never appear, the topic must be published."""

from __future__ import annotations

import httpx
from defusedxml import ElementTree as ET

from forum import sql
from tests.helpers import make_user

ATOM = "{http://www.w3.org/2005/Atom}"


async def _topic(c: httpx.AsyncClient, coach_headers: dict[str, str], slug: str) -> None:
    r = await c.post("/api/topics", headers=coach_headers,
                     json={"kind": "article", "title": "Feeds", "body": "An article.", "slug": slug})
    assert r.status_code == 201, r.text


async def test_feed_follows_what_the_public_sees(client: httpx.AsyncClient) -> None:
    coach = await make_user("coach")
    await _topic(client, coach.headers, "feed-topic")
    root = (await client.post("/api/topics/feed-topic/comments", headers=coach.headers,
                              json={"body": "root"})).json()
    reply = (await client.post("/api/topics/feed-topic/comments", headers=coach.headers,
                               json={"body": "reply under a root", "parent_id": root["id"]})).json()
    gone = (await client.post("/api/topics/feed-topic/comments", headers=coach.headers,
                              json={"body": "to be deleted"})).json()
    assert (await client.delete(f"/api/comments/{gone['id']}", headers=coach.headers)).status_code == 204
    r = await client.get("/api/topics/feed-topic/feed.atom")
    assert r.status_code == 200
    ids = [e.find(f"{ATOM}id").text for e in ET.fromstring(r.content).findall(f"{ATOM}entry")]
    assert [i.rsplit("/", 1)[1] for i in ids] == [str(reply["id"]), str(root["id"])]
    # a reply whose parent the public no longer sees leaves the feed with it
    await sql.execute("UPDATE comment SET status = 'rejected' WHERE id = $1", root["id"])
    r = await client.get("/api/topics/feed-topic/feed.atom")
    assert "reply under a root" not in r.text and ET.fromstring(r.content).findall(f"{ATOM}entry") == []


async def test_feed_of_a_topic_the_public_cannot_see_is_404(client: httpx.AsyncClient) -> None:
    coach = await make_user("coach")
    await _topic(client, coach.headers, "feed-hidden")
    await sql.execute("UPDATE topic SET status = 'pending' WHERE slug = 'feed-hidden'")
    r = await client.get("/api/topics/feed-hidden/feed.atom")
    assert r.status_code == 404 and r.json()["detail"] == "No such topic."


async def test_characters_xml_cannot_carry_are_left_out(client: httpx.AsyncClient) -> None:
    """A title or name with control characters (the fuzzer found one) still gives a feed."""
    await sql.execute("INSERT INTO topic (slug, kind, title, body, body_html, status, comments_mode, created_at,"
                      " updated_at, comment_count) VALUES ('ctl', 'article', $1, 'b', '<p>b</p>', 'published',"
                      " 'open', now(), now(), 0)", "Bell\x07 and \x1bescape\ufffe")
    r = await client.get("/api/topics/ctl/feed.atom")
    assert r.status_code == 200, r.text
    title = ET.fromstring(r.content).find("{http://www.w3.org/2005/Atom}title")
    assert title is not None and title.text == "Comments on Bell and escape"
