"""The comment widget's API (docs/api.md, "The comment widget's API"): topics by address,
comment counts, the viewer's vote and edit deadline, the site document, a comment's
context for deep links, the Markdown preview."""

from __future__ import annotations

from datetime import UTC, datetime

from forumtest import assert_error, expect, find_comment, jbody, links, uid

SUPPORT = "If you are worried about someone's safety right now, call your local emergency number."


def _article_url() -> str:
    return f"https://blog.example/{uid()}/an-article"


# ---------------------------------------------------------------- by address


def test_topic_found_by_any_form_of_its_address(forum, api):
    url = _article_url()
    t = forum.make_topic(url=f"HTTPS://Blog.Example:443{url[len('https://blog.example'):]}/?utm_source=x#top")
    assert t["url"] == url
    for variant in (url, url + "/", url + "?fbclid=1&utm_medium=mail", url.replace("blog.example", "BLOG.example")
                    + "#comment-3"):
        found = jbody(api.get("/api/topics/by-url", params={"url": variant}), 200)
        assert found["slug"] == t["slug"] and found["id"] == t["id"]


def test_unknown_address_is_the_unknown_slug_404(api):
    by_slug = assert_error(api.get(f"/api/topics/no-such-{uid()}"), 404)
    by_url = assert_error(api.get("/api/topics/by-url", params={"url": _article_url()}), 404)
    assert by_url["detail"] == by_slug["detail"]
    assert_error(api.get("/api/topics/by-url", params={"url": "javascript:alert(1)"}), 400)


def test_one_article_one_thread(forum, api):
    url = _article_url()
    forum.make_topic(url=url + "/")
    r = api.post("/api/topics", token=forum.admin.token,
                 json={"kind": "article", "title": "Twice", "body": "b", "url": url + "?utm_campaign=c"})
    assert "url" in assert_error(r, 409)["detail"]


# ---------------------------------------------------------------- counts


def test_counts_for_slugs_and_addresses(forum, api, trusted_reader):
    url = _article_url()
    t = forum.make_topic(url=url)
    empty = forum.make_topic()
    reader = trusted_reader()
    forum.post_comment(t["slug"], f"counted {uid()}", reader.token)
    forum.post_comment(t["slug"], f"counted too {uid()}", reader.token)
    pending = forum.post_comment(t["slug"], f"a guest {uid()}", guest_name="Guest")
    assert pending["status"] == "pending"
    unknown_url = _article_url()
    refs = [t["slug"], url + "/?utm_source=list", empty["slug"], f"nothing-{uid()}", unknown_url]
    body = jbody(api.post("/api/counts", json={"topics": refs}), 200)
    assert body["counts"] == {t["slug"]: 2, url + "/?utm_source=list": 2, empty["slug"]: 0,
                              refs[3]: 0, unknown_url: 0}
    assert_error(api.get("/api/topics/by-url", params={"url": unknown_url}), 404)  # counting created nothing


def test_counts_get_form_is_cacheable(forum, api):
    t = forum.make_topic()
    params = [("topic", t["slug"]), ("topic", f"missing-{uid()}")]
    r = expect(api.get("/api/counts", params=params), 200)
    assert r.json()["counts"][t["slug"]] == 0
    assert "public" in r.headers["cache-control"] and "max-age" in r.headers["cache-control"]
    again = api.get("/api/counts", params=params, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_counts_are_capped_at_100(api):
    assert "topics" in assert_error(api.post("/api/counts", json={"topics": [f"t{i}" for i in range(101)]}),
                                    400)["detail"]
    assert len(jbody(api.post("/api/counts", json={"topics": [f"t{i}" for i in range(100)]}), 200)["counts"]) == 100


# ---------------------------------------------------------------- my_vote, editable_until


def test_my_vote_and_editable_until_for_the_signed_in_viewer(forum, api, trusted_reader, topic):
    alice, bob = trusted_reader(), trusted_reader()
    mine = forum.post_comment(topic["slug"], f"alice {uid()}", alice.token)
    assert mine["my_vote"] is None
    deadline = datetime.fromisoformat(mine["editable_until"])
    assert deadline > datetime.now(UTC)
    theirs = forum.post_comment(topic["slug"], f"bob {uid()}", bob.token)
    expect(forum.vote(theirs["id"], alice.token), 200)
    anon = forum.thread_page(topic["slug"])["items"]
    for c in anon:
        assert "my_vote" not in c and "editable_until" not in c
    seen = forum.thread_page(topic["slug"], alice.token)["items"]
    assert find_comment(seen, theirs["id"])["my_vote"] == 1
    assert "editable_until" not in find_comment(seen, theirs["id"])
    assert find_comment(seen, mine["id"])["editable_until"] == mine["editable_until"]
    assert find_comment(forum.thread_page(topic["slug"], bob.token)["items"], theirs["id"])["my_vote"] is None
    assert "my_vote" not in find_comment(forum.thread_page(topic["slug"])["items"], theirs["id"])
    assert jbody(forum.comment(theirs["id"], alice.token), 200)["my_vote"] == 1


# ---------------------------------------------------------------- site


def test_site_document(forum, api, set_rules):
    set_rules(edit_window_minutes=17, crisis_message=SUPPORT)
    r = expect(api.get("/api/site"), 200)
    site = r.json()
    assert site["edit_window_minutes"] == 17 and site["support_text"] == SUPPORT
    for key in ("comment_body", "title", "guest_name", "handle_min", "handle_max"):
        assert isinstance(site["limits"][key], int) and site["limits"][key] > 0
    assert "spam" in site["flag_reasons"] and set(site["sorts"]) == {"oldest", "newest", "top"}
    assert isinstance(site["guests_may_post"], bool) and site["name"]
    assert "banned_words" not in r.text and "crisis_words" not in r.text
    assert "public" in r.headers["cache-control"]
    assert api.get("/api/site", headers={"If-None-Match": r.headers["etag"]}).status_code == 304


# ---------------------------------------------------------------- context


def test_context_opens_the_thread_at_a_deep_comment(forum, api, trusted_reader):
    t = forum.make_topic()
    reader = trusted_reader()
    roots = [forum.post_comment(t["slug"], f"root {i} {uid()}", reader.token) for i in range(3)]
    a = forum.post_comment(t["slug"], f"a {uid()}", reader.token, parent_id=roots[2]["id"])
    b = forum.post_comment(t["slug"], f"b {uid()}", forum.admin.token, parent_id=a["id"])
    ctx = jbody(api.get(f"/api/comments/{b['id']}/context", params={"limit": 1}), 200)
    assert [x["id"] for x in ctx["ancestors"]] == [roots[2]["id"], a["id"]]
    assert ctx["root_id"] == roots[2]["id"] and ctx["page"] == 2 and ctx["topic_slug"] == t["slug"]
    page = forum.thread_page(t["slug"], limit=1, cursor=ctx["cursor"])
    assert page["items"][0]["id"] == roots[2]["id"]
    assert find_comment(page["items"], b["id"]) is not None


def test_context_of_a_hidden_comment_is_404(forum, api, trusted_reader, topic):
    asker, other = trusted_reader(), trusted_reader()
    q = forum.post_comment(topic["slug"], f"private {uid()}?", asker.token, kind="question", private=True)
    assert_error(api.get(f"/api/comments/{q['id']}/context", token=other.token), 404)
    assert_error(api.get(f"/api/comments/{q['id']}/context"), 404)
    expect(api.get(f"/api/comments/{q['id']}/context", token=asker.token), 200)


# ---------------------------------------------------------------- preview


def test_preview_is_sanitized_like_a_post_and_stores_nothing(forum, api, trusted_reader, topic):
    reader = trusted_reader()
    text = f"**kind** words {uid()} see https://example.org/help <img src=x onerror=alert(1)>"
    before = len(forum.thread(topic["slug"], reader.token))
    html = jbody(api.post("/api/preview", json={"body": text}, token=reader.token), 200)["html"]
    assert "<strong>kind</strong>" in html and "<img" not in html
    assert all(a.get("href", "").startswith("https://") for a in links(html))
    assert len(forum.thread(topic["slug"], reader.token)) == before
    posted = forum.post_comment(topic["slug"], text, reader.token)
    assert posted["body_html"] == html
    assert "body" in assert_error(api.post("/api/preview", json={"body": ""}), 400)["detail"]
    assert "body" in assert_error(api.post("/api/preview", json={"body": "x" * 10_001}), 400)["detail"]
