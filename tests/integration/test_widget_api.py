"""The API the comment widget needs (issue 15): topics by address, comment counts, the
viewer's vote and edit deadline, the site document, a comment's context, the preview."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from forum import sql
from tests.helpers import Account, make_user

URL = "https://blog.example/2024/05/talking-to-teens"


async def _article(client: httpx.AsyncClient, coach: Account, **extra: Any) -> dict[str, Any]:
    r = await client.post("/api/topics", headers=coach.headers,
                          json={"kind": "article", "title": "Talking to teens", "body": "b", **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def _post(client: httpx.AsyncClient, slug: str, who: Account | None, body: str, **extra: Any) -> dict[str, Any]:
    payload = {"body": body, **extra}
    if who is None:
        payload.setdefault("guest_name", "A guest")
    r = await client.post(f"/api/topics/{slug}/comments", headers=who.headers if who else {}, json=payload)
    assert r.status_code == 201, r.text
    return r.json()


# ---------------------------------------------------------------- canonical addresses, lookup by address


async def test_topic_addresses_are_stored_and_found_in_canonical_form(client: httpx.AsyncClient) -> None:
    coach = await make_user("coach")
    t = await _article(client, coach, url="HTTPS://Blog.Example:443/2024/05/talking-to-teens/?utm_source=x#top")
    assert t["url"] == URL
    for variant in (URL, URL + "/", URL + "?fbclid=abc", "https://BLOG.example/2024/05/talking-to-teens#c-1"):
        r = await client.get("/api/topics/by-url", params={"url": variant})
        assert r.status_code == 200, (variant, r.text)
        assert r.json()["slug"] == t["slug"]
    dup = await client.post("/api/topics", headers=coach.headers,
                            json={"kind": "article", "title": "Again", "body": "b", "url": URL + "/?utm_medium=m"})
    assert dup.status_code == 409 and "url" in dup.json()["detail"]
    other = await _article(client, coach)
    r = await client.patch(f"/api/topics/{other['slug']}", headers=coach.headers,
                           json={"url": "https://blog.example/other/?gclid=1"})
    assert r.status_code == 200 and r.json()["url"] == "https://blog.example/other"
    assert await sql.fetchval("SELECT count(*) FROM topic WHERE url = $1", URL) == 1


async def test_lookup_by_unknown_address_is_the_unknown_slug_404(client: httpx.AsyncClient) -> None:
    unknown_slug = await client.get("/api/topics/no-such-topic")
    unknown_url = await client.get("/api/topics/by-url", params={"url": "https://blog.example/nothing-here"})
    assert unknown_url.status_code == unknown_slug.status_code == 404
    assert unknown_url.json()["detail"] == unknown_slug.json()["detail"]
    bad = await client.get("/api/topics/by-url", params={"url": "javascript:alert(1)"})
    assert bad.status_code == 400 and "url" in bad.json()["detail"]
    assert (await client.get("/api/topics/by-url")).status_code == 400
    assert await sql.fetchval("SELECT count(*) FROM topic") == 0  # a lookup creates nothing


async def test_held_discussion_is_not_found_by_address(client: httpx.AsyncClient) -> None:
    reader = await make_user()
    await sql.execute("UPDATE moderation_rules SET premoderate_all = true, trusted_after_approved = 5")
    r = await client.post("/api/topics", headers=reader.headers,
                          json={"kind": "discussion", "title": "Mine", "body": "Help", "url": URL})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    assert (await client.get("/api/topics/by-url", params={"url": URL})).status_code == 404
    assert (await client.get("/api/topics/by-url", params={"url": URL}, headers=reader.headers)).status_code == 200


async def test_by_url_is_a_reserved_slug(client: httpx.AsyncClient) -> None:
    coach = await make_user("coach")
    r = await client.post("/api/topics", headers=coach.headers,
                          json={"kind": "article", "title": "T", "body": "b", "slug": "by-url"})
    assert r.status_code == 400 and "slug" in r.json()["detail"]
    t = await _article(client, coach, title="By URL")
    assert t["slug"] != "by-url" and t["slug"].startswith("by-url-")
    assert (await client.get(f"/api/topics/{t['slug']}")).status_code == 200


# ---------------------------------------------------------------- counts


async def test_counts_count_what_the_public_sees(client: httpx.AsyncClient) -> None:
    coach, reader = await make_user("coach"), await make_user("reader")
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0")
    a = await _article(client, coach, url=URL)
    b = await _article(client, coach)
    await _post(client, a["slug"], reader, "one")
    await _post(client, a["slug"], coach, "two")
    await _post(client, a["slug"], None, "a guest's, held")  # pending: not counted
    await _post(client, a["slug"], reader, "private?", kind="question", private=True)  # private: not counted
    refs = [a["slug"], URL + "/?utm_source=feed", b["slug"], "no-such-topic", "https://blog.example/none",
            "https://bad host/"]
    r = await client.post("/api/counts", json={"topics": refs})
    assert r.status_code == 200, r.text
    assert r.json() == {"counts": {a["slug"]: 2, URL + "/?utm_source=feed": 2, b["slug"]: 0, "no-such-topic": 0,
                                   "https://blog.example/none": 0, "https://bad host/": 0}}
    assert await sql.fetchval("SELECT count(*) FROM topic") == 2  # nothing created
    g = await client.get("/api/counts", params=[("topic", a["slug"]), ("topic", URL)])
    assert g.status_code == 200 and g.json() == {"counts": {a["slug"]: 2, URL: 2}}
    assert g.headers["cache-control"].startswith("public, max-age=") and g.headers["etag"]
    again = await client.get("/api/counts", params=[("topic", a["slug"]), ("topic", URL)],
                             headers={"If-None-Match": g.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    await _post(client, a["slug"], reader, "three")
    changed = await client.get("/api/counts", params=[("topic", a["slug"]), ("topic", URL)],
                               headers={"If-None-Match": g.headers["etag"]})
    assert changed.status_code == 200 and changed.json()["counts"][a["slug"]] == 3


async def test_counts_are_capped(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/counts", json={"topics": [f"t-{i}" for i in range(101)]})
    assert r.status_code == 400 and "topics" in r.json()["detail"]
    g = await client.get("/api/counts", params=[("topic", f"t-{i}") for i in range(101)])
    assert g.status_code == 400 and "topics" in g.json()["detail"]
    assert (await client.get("/api/counts")).status_code == 400
    ok = await client.post("/api/counts", json={"topics": [f"t-{i}" for i in range(100)]})
    assert ok.status_code == 200 and len(ok.json()["counts"]) == 100


# ---------------------------------------------------------------- my_vote, editable_until


def _flat(items: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    stack = list(items)
    while stack:
        item = stack.pop()
        out[item["id"]] = item
        stack.extend(item.get("replies", []))
    return out


async def test_viewer_vote_and_edit_deadline_never_reach_the_anonymous_cache(client: httpx.AsyncClient) -> None:
    coach, alice, bob = await make_user("coach"), await make_user(), await make_user()
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0, edit_window_minutes = 15")
    t = await _article(client, coach)
    mine = await _post(client, t["slug"], alice, "alice's")
    assert "my_vote" in mine and mine["my_vote"] is None
    deadline = datetime.fromisoformat(mine["editable_until"])
    assert timedelta(minutes=14) < deadline - datetime.now(UTC) <= timedelta(minutes=15)
    theirs = await _post(client, t["slug"], bob, "bob's")
    reply = await _post(client, t["slug"], bob, "bob's reply", parent_id=mine["id"])
    assert (await client.post(f"/api/comments/{theirs['id']}/vote", headers=alice.headers)).status_code == 200
    assert (await client.post(f"/api/comments/{reply['id']}/vote", headers=alice.headers)).status_code == 200

    anon = (await client.get(f"/api/topics/{t['slug']}/comments")).json()  # fills the anonymous cache
    for c in _flat(anon["items"]).values():
        assert "my_vote" not in c and "editable_until" not in c
    seen = _flat((await client.get(f"/api/topics/{t['slug']}/comments", headers=alice.headers)).json()["items"])
    assert seen[theirs["id"]]["my_vote"] == 1 and seen[reply["id"]]["my_vote"] == 1
    assert seen[mine["id"]]["my_vote"] is None and "editable_until" in seen[mine["id"]]
    assert "editable_until" not in seen[theirs["id"]]
    by_bob = _flat((await client.get(f"/api/topics/{t['slug']}/comments", headers=bob.headers)).json()["items"])
    assert all(c["my_vote"] is None for c in by_bob.values())
    assert "editable_until" in by_bob[theirs["id"]] and "editable_until" not in by_bob[mine["id"]]
    anon_again = (await client.get(f"/api/topics/{t['slug']}/comments")).json()
    assert anon_again == anon
    one = (await client.get(f"/api/comments/{theirs['id']}", headers=alice.headers)).json()
    assert one["my_vote"] == 1
    replies = (await client.get(f"/api/comments/{reply['id']}/replies", headers=alice.headers))
    assert replies.status_code == 200
    # withdrawing the vote changes the viewer's page (and its ETag)
    etag = (await client.get(f"/api/topics/{t['slug']}/comments", headers=alice.headers)).headers["etag"]
    assert (await client.delete(f"/api/comments/{theirs['id']}/vote", headers=alice.headers)).status_code == 200
    r = await client.get(f"/api/topics/{t['slug']}/comments", headers={**alice.headers, "If-None-Match": etag})
    assert r.status_code == 200 and _flat(r.json()["items"])[theirs["id"]]["my_vote"] is None
    # past the window: no deadline, and the edit is refused
    await sql.execute("UPDATE comment SET created_at = now() - interval '16 minutes' WHERE id = $1", mine["id"])
    late = _flat((await client.get(f"/api/topics/{t['slug']}/comments", headers=alice.headers)).json()["items"])
    assert "editable_until" not in late[mine["id"]]
    assert (await client.patch(f"/api/comments/{mine['id']}", headers=alice.headers,
                               json={"body": "too late"})).status_code == 403


async def test_edit_response_carries_the_deadline(client: httpx.AsyncClient) -> None:
    coach, alice = await make_user("coach"), await make_user()
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0")
    t = await _article(client, coach)
    mine = await _post(client, t["slug"], alice, "first words")
    r = await client.patch(f"/api/comments/{mine['id']}", headers=alice.headers, json={"body": "better words"})
    assert r.status_code == 200 and r.json()["editable_until"] == mine["editable_until"]
    guest = await _post(client, t["slug"], None, "a guest's words")
    assert "my_vote" not in guest and "editable_until" not in guest


# ---------------------------------------------------------------- site document


async def test_site_document(client: httpx.AsyncClient) -> None:
    await sql.execute("UPDATE moderation_rules SET edit_window_minutes = 20, crisis_message = 'Call the line.'")
    r = await client.get("/api/site")
    assert r.status_code == 200
    site = r.json()
    assert site["edit_window_minutes"] == 20 and site["support_text"] == "Call the line."
    assert site["limits"]["comment_body"] == 10_000 and site["limits"]["guest_name"] == 40
    assert site["limits"]["handle_min"] == 3 and site["limits"]["handle_max"] == 30
    assert site["limits"]["title"] == 300 and site["limits"]["counts_per_request"] == 100
    assert "self_harm_risk" in site["flag_reasons"] and site["sorts"] == ["oldest", "newest", "top"]
    assert site["guests_may_post"] is True and site["name"]
    assert "banned_words" not in r.text and "secret" not in r.text.lower()
    assert r.headers["cache-control"].startswith("public") and r.headers["etag"]
    assert (await client.get("/api/site", headers={"If-None-Match": r.headers["etag"]})).status_code == 304
    await sql.execute("UPDATE moderation_rules SET edit_window_minutes = 25")
    changed = await client.get("/api/site", headers={"If-None-Match": r.headers["etag"]})
    assert changed.status_code == 200 and changed.json()["edit_window_minutes"] == 25


# ---------------------------------------------------------------- context


async def test_context_of_a_deep_reply_on_a_later_page(client: httpx.AsyncClient) -> None:
    coach, reader = await make_user("coach"), await make_user()
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0")
    t = await _article(client, coach)
    roots = [await _post(client, t["slug"], reader, f"root {i}") for i in range(5)]
    a = await _post(client, t["slug"], coach, "a", parent_id=roots[3]["id"])
    b = await _post(client, t["slug"], reader, "b", parent_id=a["id"])
    c = await _post(client, t["slug"], coach, "c", parent_id=b["id"])
    r = await client.get(f"/api/comments/{c['id']}/context", params={"limit": 2})
    assert r.status_code == 200, r.text
    ctx = r.json()
    assert [x["id"] for x in ctx["ancestors"]] == [roots[3]["id"], a["id"], b["id"]]
    assert ctx["ancestors"][0]["parent_id"] is None and ctx["ancestors"][2]["depth"] == 2
    assert ctx["root_id"] == roots[3]["id"] and ctx["page"] == 1 and ctx["replies_cursor"] is None
    page = (await client.get(f"/api/topics/{t['slug']}/comments",
                             params={"limit": 2, "cursor": ctx["cursor"]})).json()
    assert [x["id"] for x in page["items"]] == [roots[2]["id"], roots[3]["id"]]
    # the aligned page is the one next_cursor leads to from the first page
    first = (await client.get(f"/api/topics/{t['slug']}/comments", params={"limit": 2})).json()
    assert first["next_cursor"] == ctx["cursor"]
    newest = (await client.get(f"/api/comments/{c['id']}/context", params={"limit": 2, "sort": "newest"})).json()
    assert newest["page"] == 0 and newest["cursor"] is None  # the 2nd newest root
    root_ctx = (await client.get(f"/api/comments/{roots[0]['id']}/context")).json()
    assert root_ctx["ancestors"] == [] and root_ctx["page"] == 0 and root_ctx["cursor"] is None
    assert (await client.get(f"/api/comments/{c['id']}/context", params={"sort": "best"})).status_code == 400


async def test_context_respects_visibility(client: httpx.AsyncClient) -> None:
    coach, asker, other = await make_user("coach"), await make_user(), await make_user()
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0")
    t = await _article(client, coach)
    q = await _post(client, t["slug"], asker, "a private question?", kind="question", private=True)
    answer = await _post(client, t["slug"], coach, "an answer", parent_id=q["id"])
    for cid in (q["id"], answer["id"]):
        assert (await client.get(f"/api/comments/{cid}/context", headers=other.headers)).status_code == 404
        assert (await client.get(f"/api/comments/{cid}/context")).status_code == 404
        assert (await client.get(f"/api/comments/{cid}/context", headers=asker.headers)).status_code == 200
    # a published reply under a comment that was rejected later: the thread leaves it out, so does context
    root = await _post(client, t["slug"], other, "root")
    reply = await _post(client, t["slug"], coach, "reply", parent_id=root["id"])
    await sql.execute("UPDATE comment SET status = 'rejected' WHERE id = $1", root["id"])
    assert (await client.get(f"/api/comments/{reply['id']}/context")).status_code == 404
    assert (await client.get("/api/comments/999999/context")).status_code == 404


async def test_context_points_into_replies_past_the_first_hundred(client: httpx.AsyncClient) -> None:
    coach = await make_user("coach")
    t = await _article(client, coach)
    root = await _post(client, t["slug"], coach, "root")
    replies = [await _post(client, t["slug"], coach, f"reply number {i}", parent_id=root["id"])
               for i in range(103)]
    early = (await client.get(f"/api/comments/{replies[50]['id']}/context")).json()
    assert early["replies_cursor"] is None
    late = (await client.get(f"/api/comments/{replies[101]['id']}/context")).json()
    assert late["replies_cursor"]
    page = (await client.get(f"/api/comments/{root['id']}/replies",
                             params={"cursor": late["replies_cursor"], "limit": 5})).json()
    assert page["items"][0]["id"] == replies[101]["id"]


# ---------------------------------------------------------------- preview


async def test_preview_renders_like_a_post_and_stores_nothing(client: httpx.AsyncClient) -> None:
    reader = await make_user()
    r = await client.post("/api/preview", json={"body": "**bold** <script>alert(1)</script> [x](javascript:y)"})
    assert r.status_code == 200, r.text
    html = r.json()["html"]
    assert "<strong>bold</strong>" in html and "<script" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    coach = await make_user("coach")
    t = await _article(client, coach)
    posted = await _post(client, t["slug"], reader, "**bold** and https://example.org/x")
    same = await client.post("/api/preview", headers=reader.headers,
                             json={"body": "**bold** and https://example.org/x"})
    assert same.json()["html"] == posted["body_html"]
    assert await sql.fetchval("SELECT count(*) FROM comment") == 1
    empty = await client.post("/api/preview", json={"body": "  "})
    assert empty.status_code == 400 and "body" in empty.json()["detail"]
    long = await client.post("/api/preview", json={"body": "x" * 10_001})
    assert long.status_code == 400 and "body" in long.json()["detail"]


async def test_preview_is_rate_limited(client: httpx.AsyncClient, rate_limits_on: None) -> None:
    reader = await make_user()
    statuses = [(await client.post("/api/preview", headers=reader.headers, json={"body": f"n {i}"})).status_code
                for i in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
    other = await make_user()
    r = await client.post("/api/preview", headers=other.headers, json={"body": "mine"})
    assert r.status_code == 200  # per account; the address allows 60 a minute
    for i in range(29):
        await client.post("/api/preview", json={"body": f"g {i}"})
    blocked = await client.post("/api/preview", json={"body": "one more"})
    assert blocked.status_code == 429 and blocked.headers["retry-after"]
