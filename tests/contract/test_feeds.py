"""Atom feeds of threads and the guest challenge (docs/api.md, "The browser front end")."""

from __future__ import annotations

from defusedxml import ElementTree as ET
from forumtest import assert_error, uid

ATOM = "{http://www.w3.org/2005/Atom}"


def test_feed_lists_published_public_comments_newest_first(forum, api, trusted_reader):
    url = f"https://blog.example/{uid()}/feed-article"
    t = forum.make_topic(url=url)
    reader = trusted_reader()
    first = forum.post_comment(t["slug"], f"first *public* {uid()}", reader.token)
    second = forum.post_comment(t["slug"], f"second public {uid()}", reader.token)
    guest = forum.post_comment(t["slug"], f"a guest waits {uid()}", guest_name="Guest")
    private = forum.post_comment(t["slug"], f"a private question {uid()}?", reader.token, kind="question",
                                 private=True)
    assert guest["status"] == "pending" and private["private"] is True
    r = api.get(f"/api/topics/{t['slug']}/feed.atom")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/atom+xml")
    assert r.headers["cache-control"] == "public, max-age=60"
    root = ET.fromstring(r.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert links == [f"{url}#comment-{second['id']}", f"{url}#comment-{first['id']}"]
    assert "<em>public</em>" in entries[1].find(f"{ATOM}content").text
    assert entries[0].find(f"{ATOM}author/{ATOM}name").text == reader.handle
    assert "a guest waits" not in r.text and "a private question" not in r.text


def test_feed_of_an_unknown_topic_is_the_unknown_slug_404(api):
    by_slug = assert_error(api.get(f"/api/topics/no-such-{uid()}"), 404)
    feed = assert_error(api.get(f"/api/topics/no-such-{uid()}/feed.atom"), 404)
    assert feed["detail"] == by_slug["detail"]


def test_guest_challenge_document(api):
    r = api.get("/api/guest-challenge")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    data = r.json()
    assert set(data) == {"parameters", "signature"}
    assert data["parameters"]["algorithm"] == "PBKDF2/SHA-256"
    assert {"nonce", "salt", "cost", "keyPrefix", "expiresAt"} <= set(data["parameters"])
