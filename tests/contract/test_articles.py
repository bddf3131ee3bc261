"""Articles get their threads by themselves (docs/api.md, "Threads on first sight" and
"Tidying article threads"). The contract servers run with
FORUM_EMBED_ORIGINS=https://first-sight.example (.ci/contract): auto articles on for it."""

from __future__ import annotations

from forumtest import assert_error, expect, jbody, uid

LISTED = "https://first-sight.example"


def _page() -> str:
    return f"{LISTED}/{uid()}/a-new-post"


def _see(api, url: str, title: str | None = None, token: str | None = None):
    body = {"url": url} if title is None else {"url": url, "title": title}
    return api.post("/api/topics/by-url", json=body, token=token)


def test_first_sight_creates_the_thread_once(api):
    url = _page()
    made = jbody(_see(api, url + "/?utm_source=feed#comments", "A new post"), 201)
    assert made["url"] == url and made["title"] == "A new post" and made["kind"] == "article"
    assert made["comments"] == "open" and made["comment_count"] == 0 and made["author"]["handle"]
    for variant in (url, url + "/", url.replace("first-sight.example", "FIRST-SIGHT.example:443") + "?gclid=1"):
        found = jbody(_see(api, variant, "Another title"), 200)
        assert found["id"] == made["id"] and found["title"] == "A new post"
    assert jbody(api.get("/api/topics/by-url", params={"url": url}), 200)["id"] == made["id"]


def test_the_title_comes_from_the_address(api):
    url = f"{LISTED}/{uid()}/when-your-teen-says-no.html"
    assert jbody(_see(api, url), 201)["title"] == "When your teen says no"


def test_a_comment_goes_through_on_a_new_thread(api, forum, trusted_reader):
    made = jbody(_see(api, _page(), "Comment here"), 201)
    reader = trusted_reader()
    comment = forum.post_comment(made["slug"], f"first comment {uid()}", reader.token)
    assert comment["status"] == "published"


def test_unlisted_origins_get_the_unknown_topic_answer(api):
    unknown = assert_error(api.get(f"/api/topics/no-such-{uid()}"), 404)
    for url in (f"https://not-listed.example/{uid()}", f"http://first-sight.example/{uid()}",
                f"https://sub.first-sight.example/{uid()}"):
        refused = assert_error(_see(api, url, "Hello"), 404)
        assert refused["detail"] == unknown["detail"]
        assert_error(api.get("/api/topics/by-url", params={"url": url}), 404)  # nothing was created
    assert_error(_see(api, "javascript:alert(1)"), 400)
    assert_error(api.post("/api/topics/by-url", json={}), 400)


def test_counts_never_create_a_thread(api):
    url = _page()
    body = jbody(api.post("/api/counts", json={"topics": [url]}), 200)
    assert body["counts"] == {url: 0}
    assert jbody(api.get("/api/counts", params={"topic": url}), 200)["counts"] == {url: 0}
    assert_error(api.get("/api/topics/by-url", params={"url": url}), 404)


def test_merge_moves_comments_and_keeps_the_old_address(api, forum, trusted_reader):
    admin, reader = forum.admin, trusted_reader()
    old_url, new_url = _page(), _page()
    old = jbody(_see(api, old_url, "Old address"), 201)
    new = jbody(_see(api, new_url, "New address"), 201)
    root = forum.post_comment(old["slug"], f"root {uid()}", reader.token)
    reply = forum.post_comment(old["slug"], f"reply {uid()}", reader.token, parent_id=root["id"])
    assert_error(api.post(f"/api/admin/topics/{old['slug']}/merge", json={"into": new["slug"]},
                          token=reader.token), 403)
    assert_error(api.post(f"/api/admin/topics/{old['slug']}/merge", json={"into": old["slug"]},
                          token=admin.token), 400)
    merged = jbody(api.post(f"/api/admin/topics/{old['slug']}/merge", json={"into": new["slug"], "reason": "dup"},
                            token=admin.token), 200)
    assert merged["id"] == new["id"] and merged["comment_count"] == 2
    thread = jbody(api.get(f"/api/topics/{new['slug']}/comments"), 200)
    text = str(thread)
    assert str(root["id"]) in text and str(reply["id"]) in text
    moved = jbody(api.get(f"/api/comments/{reply['id']}"), 200)
    assert moved["parent_id"] == root["id"]
    for form in (old_url, old_url + "/?utm_campaign=x"):
        assert jbody(api.get("/api/topics/by-url", params={"url": form}), 200)["id"] == new["id"]
        assert jbody(_see(api, form, "Again"), 200)["id"] == new["id"]
    assert jbody(api.post("/api/counts", json={"topics": [old_url]}), 200)["counts"] == {old_url: 2}
    assert_error(api.get(f"/api/topics/{old['slug']}"), 404)
    assert_error(api.post(f"/api/admin/topics/{old['slug']}/merge", json={"into": new["slug"]},
                          token=admin.token), 404)


def test_delete_an_empty_automatic_thread(api, forum, trusted_reader):
    admin, reader = forum.admin, trusted_reader()
    empty = jbody(_see(api, _page(), "Empty"), 201)
    talked = jbody(_see(api, _page(), "Talked"), 201)
    forum.post_comment(talked["slug"], f"hello {uid()}", reader.token)
    person = forum.make_topic(url=_page())
    assert_error(api.delete(f"/api/admin/topics/{empty['slug']}", token=reader.token), 403)
    assert_error(api.delete(f"/api/admin/topics/{talked['slug']}", token=admin.token), 409)
    assert_error(api.delete(f"/api/admin/topics/{person['slug']}", token=admin.token), 409)
    expect(api.delete(f"/api/admin/topics/{empty['slug']}", token=admin.token), 204)
    assert_error(api.get(f"/api/topics/{empty['slug']}"), 404)
    assert_error(api.delete(f"/api/admin/topics/{empty['slug']}", token=admin.token), 404)
    assert jbody(api.get(f"/api/topics/{talked['slug']}"), 200)["comment_count"] == 1
