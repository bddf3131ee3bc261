"""Articles get their threads by themselves (issue 18): first sight, the system author,
rate limits and races, counts that create nothing, the admin's merge and delete, and the
blog feed sync against feeds served on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from forum import sql
from forum.accounts.services import list_users
from forum.articles import feed
from forum.errors import NotFound
from forum.notifications.passwords import invite, operator_reset
from forum.settings import Settings
from tests.helpers import Account, make_user

BLOG = "https://blog.example"
URL = f"{BLOG}/2026/11/talking-to-teens"


@pytest.fixture
async def articles_on(app: Any, settings: Settings) -> AsyncIterator[Settings]:
    """The app with FORUM_EMBED_ORIGINS=https://blog.example (auto articles: on by default)."""
    on = Settings.from_env({"DATABASE_URL": settings.database_url or "", "FORUM_SECRET_KEY": "x" * 32,
                            "FORUM_EMBED_ORIGINS": "HTTPS://Blog.Example:443/", "FORUM_SITE_NAME": "Family Blog"})
    assert on.auto_articles and on.embed_origins == (BLOG,)
    app.state.settings = settings.with_overrides(embed_origins=on.embed_origins, auto_articles=True,
                                                 site_name="Family Blog")
    try:
        yield app.state.settings
    finally:
        app.state.settings = settings


async def _see(client: httpx.AsyncClient, url: str, title: str | None = None, **kw: Any) -> httpx.Response:
    body: dict[str, Any] = {"url": url}
    if title is not None:
        body["title"] = title
    return await client.post("/api/topics/by-url", json=body, **kw)


async def _comment(client: httpx.AsyncClient, slug: str, who: Account, body: str,
                   parent_id: int | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"body": body}
    if parent_id is not None:
        payload["parent_id"] = parent_id
    r = await client.post(f"/api/topics/{slug}/comments", headers=who.headers, json=payload)
    assert r.status_code == 201, r.text
    return r.json()


# ---------------------------------------------------------------- first sight


async def test_first_sight_creates_one_article_by_the_site(client: httpx.AsyncClient, articles_on: Settings) -> None:
    r = await _see(client, URL + "/?utm_source=newsletter#comments", "Talking to teens about hard things")
    assert r.status_code == 201, r.text
    topic = r.json()
    assert topic["url"] == URL and topic["kind"] == "article" and topic["comments"] == "open"
    assert topic["title"] == "Talking to teens about hard things" and topic["status"] == "published"
    assert topic["author"]["handle"] == "Family Blog" and topic["comment_count"] == 0
    again = await _see(client, URL.replace("blog.example", "BLOG.example"), "Another title")
    assert again.status_code == 200 and again.json()["id"] == topic["id"]
    assert again.json()["title"] == topic["title"]  # the first sight named it
    assert (await client.get("/api/topics/by-url", params={"url": URL})).json()["id"] == topic["id"]
    row = await sql.fetchrow("SELECT origin, author FROM topic WHERE id = $1", topic["id"])
    assert row["origin"] == "first_sight"
    audit = await sql.fetch("SELECT actor_id, action, target_type, target_id, details FROM audit_log")
    assert len(audit) == 1
    entry = audit[0]
    assert (entry["actor_id"], entry["action"], entry["target_type"], entry["target_id"]) == (
        None, "topic_auto_create", "topic", topic["id"])
    details = json.loads(entry["details"])
    assert details == {"url": URL, "origin": "first_sight"}  # no client address
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0")
    reader = await make_user()
    c = await _comment(client, topic["slug"], reader, "Thank you for this article")
    assert c["status"] == "published"  # the first comment goes through as usual


async def test_the_title_comes_from_the_address_when_none_is_given(client: httpx.AsyncClient,
                                                                   articles_on: Settings) -> None:
    r = await _see(client, f"{BLOG}/2026/11/when-your-teen-says-no.html")
    assert r.status_code == 201 and r.json()["title"] == "When your teen says no"
    r = await _see(client, f"{BLOG}/posts/sleep_and-screens/", "   ")
    assert r.status_code == 201 and r.json()["title"] == "Sleep and screens"
    r = await _see(client, f"{BLOG}/a-long-one", "Long " * 200)
    assert r.status_code == 201 and len(r.json()["title"]) == 300 and r.json()["title"].endswith("…")
    r = await _see(client, f"{BLOG}/tabs", "A\ttitle\nwith  breaks\x00")
    assert r.status_code == 201 and r.json()["title"] == "A title with breaks"


async def test_banned_words_in_a_title_are_refused(client: httpx.AsyncClient, articles_on: Settings) -> None:
    await sql.execute("UPDATE moderation_rules SET banned_words = ARRAY['scamword']")
    r = await _see(client, f"{BLOG}/x", "Buy scamword now")
    assert r.status_code == 422
    assert await sql.fetchval("SELECT count(*) FROM topic") == 0


async def test_unlisted_origins_get_the_unknown_topic_answer(client: httpx.AsyncClient, articles_on: Settings,
                                                             app: Any) -> None:
    unknown = await client.get("/api/topics/no-such-topic")
    for url in ("https://evil.example/post", "http://blog.example/post", "https://blog.example:8443/post",
                "https://sub.blog.example/post"):
        r = await _see(client, url, "Hello")
        assert r.status_code == 404 and r.json() == unknown.json(), (url, r.text)
    app.state.settings = articles_on.with_overrides(auto_articles=False)  # listed, but creation is off
    r = await _see(client, f"{BLOG}/post", "Hello")
    assert r.status_code == 404 and r.json() == unknown.json()
    assert await sql.fetchval("SELECT count(*) FROM topic") == 0
    assert await sql.fetchval("SELECT count(*) FROM forum_user") == 0  # not even the system account
    assert (await _see(client, "javascript:alert(1)")).status_code == 400


async def test_without_embed_origins_nothing_is_created(client: httpx.AsyncClient) -> None:
    r = await _see(client, URL, "Hello")
    assert r.status_code == 404
    assert await sql.fetchval("SELECT count(*) FROM topic") == 0


async def test_a_held_topic_with_the_address_is_not_shadowed(client: httpx.AsyncClient,
                                                             articles_on: Settings) -> None:
    reader = await make_user()
    await sql.execute("UPDATE moderation_rules SET premoderate_all = true, trusted_after_approved = 5")
    r = await client.post("/api/topics", headers=reader.headers,
                          json={"kind": "discussion", "title": "Mine", "body": "Help", "url": URL})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    assert (await _see(client, URL, "Other")).status_code == 404  # exists, not visible: no second thread
    assert (await _see(client, URL, "Other", headers=reader.headers)).status_code == 200
    assert await sql.fetchval("SELECT count(*) FROM topic") == 1


async def test_first_sights_are_rate_limited_per_address(client: httpx.AsyncClient, articles_on: Settings,
                                                         rate_limits_on: None) -> None:
    for i in range(10):
        assert (await _see(client, f"{BLOG}/post-{i}")).status_code == 201
    assert (await _see(client, f"{BLOG}/post-0")).status_code == 200  # finding is never limited
    r = await _see(client, f"{BLOG}/post-10")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert r.json()["retry_after"] == int(r.headers["retry-after"])
    assert await sql.fetchval("SELECT count(*) FROM topic") == 10


async def test_first_sights_are_rate_limited_per_site(client: httpx.AsyncClient, articles_on: Settings,
                                                      rate_limits_on: None, app: Any) -> None:
    from forum.articles import services

    for i in range(services.PER_SITE[0]):  # from many addresses: only the site's limit applies
        transport = httpx.ASGITransport(app=app, client=(f"10.0.{i // 250}.{i % 250 + 1}", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            assert (await _see(other, f"{BLOG}/site-{i}")).status_code == 201
    r = await _see(client, f"{BLOG}/one-more")
    assert r.status_code == 429 and "retry-after" in r.headers


async def test_concurrent_first_sights_make_one_thread(client: httpx.AsyncClient, articles_on: Settings) -> None:
    answers = await asyncio.gather(*(_see(client, URL + ("/" if i % 2 else ""), f"Title {i}") for i in range(8)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(201) == 1 and statuses.count(200) == 7, [
        (r.status_code, r.text[:300]) for r in answers if r.status_code != 200]
    assert len({r.json()["id"] for r in answers}) == 1
    assert await sql.fetchval("SELECT count(*) FROM topic") == 1
    assert await sql.fetchval("SELECT count(*) FROM forum_user WHERE status = 'system'") == 1
    assert await sql.fetchval("SELECT count(*) FROM audit_log WHERE action = 'topic_auto_create'") == 1


async def test_the_system_account_is_no_person(client: httpx.AsyncClient, articles_on: Settings) -> None:
    assert (await _see(client, URL)).status_code == 201
    system = await sql.fetchrow("SELECT id, handle, role FROM forum_user WHERE status = 'system'")
    assert system["handle"] == "Family Blog" and system["role"] == "reader"
    for login in ("Family Blog", "family blog"):
        r = await client.post("/api/auth/login", json={"login": login, "password": "anything at all 42"})
        assert r.status_code == 401
    assert all(u["id"] != system["id"] for u in await list_users(None, None))
    assert all(u["id"] != system["id"] for u in await list_users(None, "Family"))
    admin = await make_user("admin")
    r = await client.patch(f"/api/admin/users/{system['id']}", headers=admin.headers, json={"role": "admin"})
    assert r.status_code == 404
    for hand_over in (invite(None, system["id"], "someone@example.org", hand_over_link=True),
                      operator_reset(system["id"])):
        with pytest.raises(NotFound):
            await hand_over
    with pytest.raises(Exception, match="forum_user_system_cannot_sign_in"):
        await sql.execute("UPDATE forum_user SET password_hash = 'x' WHERE id = $1", system["id"])
    with pytest.raises(Exception, match="forum_user_one_system"):
        await sql.execute("INSERT INTO forum_user (handle, role, status, notify_email, created_at)"
                          " VALUES ('another', 'reader', 'system', false, now())")
    # a person holding the site's name keeps it; the site's topics then show no author
    await sql.execute("UPDATE forum_user SET handle = 'old name' WHERE id = $1", system["id"])
    await make_user(handle="Family Blog")
    r = await _see(client, f"{BLOG}/second")
    assert r.status_code == 201 and r.json()["author"]["handle"] == "old name"


# ---------------------------------------------------------------- counts create nothing


async def test_counts_never_create_even_for_a_listed_origin(client: httpx.AsyncClient, articles_on: Settings) -> None:
    refs = [URL, f"{BLOG}/other/?utm_source=x", "https://evil.example/x", "no-such-slug"]
    r = await client.post("/api/counts", json={"topics": refs})
    assert r.status_code == 200 and r.json()["counts"] == dict.fromkeys(refs, 0)
    r = await client.get("/api/counts", params=[("topic", u) for u in refs])
    assert r.status_code == 200 and set(r.json()["counts"].values()) == {0}
    assert (await client.get("/api/topics/by-url", params={"url": URL})).status_code == 404
    assert await sql.fetchval("SELECT count(*) FROM topic") == 0
    assert await sql.fetchval("SELECT count(*) FROM forum_user") == 0


# ---------------------------------------------------------------- admin tools


async def test_merge_moves_comments_keeps_threads_and_the_old_address(client: httpx.AsyncClient,
                                                                       articles_on: Settings) -> None:
    admin, reader, other = await make_user("admin"), await make_user(), await make_user()
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0")
    old = (await _see(client, f"{BLOG}/2026/11/teens", "Teens")).json()
    new = (await _see(client, f"{BLOG}/2026/11/talking-to-teens", "Talking to teens")).json()
    root = await _comment(client, old["slug"], reader, "A first comment")
    reply = await _comment(client, old["slug"], other, "A reply", parent_id=root["id"])
    kept = await _comment(client, new["slug"], reader, "On the new one")
    versions = dict(await sql.fetch("SELECT id, version FROM topic"))
    r = await client.post(f"/api/admin/topics/{old['slug']}/merge", headers=admin.headers,
                          json={"into": new["slug"], "reason": "one article, two addresses"})
    assert r.status_code == 200, r.text
    merged = r.json()
    assert merged["id"] == new["id"] and merged["comment_count"] == 3
    thread = (await client.get(f"/api/topics/{new['slug']}/comments")).text
    assert "A first comment" in thread and "A reply" in thread and "On the new one" in thread
    row = await sql.fetchrow("SELECT topic, parent, root_id FROM comment WHERE id = $1", reply["id"])
    assert (row["topic"], row["parent"], row["root_id"]) == (new["id"], root["id"], root["id"])
    assert kept["id"] in [c for (c,) in await sql.fetch("SELECT id FROM comment WHERE topic = $1", new["id"])]
    after = dict(await sql.fetch("SELECT id, version FROM topic"))
    assert after[old["id"]] > versions[old["id"]] and after[new["id"]] > versions[new["id"]]
    # the old address answers with the merged topic everywhere
    for form in (f"{BLOG}/2026/11/teens", f"{BLOG}/2026/11/teens/?utm_medium=mail"):
        assert (await client.get("/api/topics/by-url", params={"url": form})).json()["id"] == new["id"]
        assert (await _see(client, form, "Teens again")).status_code == 200
        assert (await _see(client, form)).json()["id"] == new["id"]
    counts = (await client.post("/api/counts", json={"topics": [f"{BLOG}/2026/11/teens", new["slug"]]})).json()
    assert counts["counts"] == {f"{BLOG}/2026/11/teens": 3, new["slug"]: 3}
    # the old topic is a tombstone: gone from reads and lists
    assert (await client.get(f"/api/topics/{old['slug']}")).status_code == 404
    tomb = await sql.fetchrow("SELECT status, url, merged_into FROM topic WHERE id = $1", old["id"])
    assert (tomb["status"], tomb["url"], tomb["merged_into"]) == ("deleted", None, new["id"])
    listed = (await client.get("/api/topics")).json()["items"]
    assert [t["id"] for t in listed] == [new["id"]]
    entry = await sql.fetchrow("SELECT actor_id, target_id, reason, details FROM audit_log"
                               " WHERE action = 'topic_merge'")
    assert entry["actor_id"] == admin.id and entry["target_id"] == old["id"]
    assert entry["reason"] == "one article, two addresses"
    assert json.loads(entry["details"]) == {"into": new["id"], "comments": 2, "url": f"{BLOG}/2026/11/teens"}
    # merged again: the aliases follow
    third = (await _see(client, f"{BLOG}/third", "Third")).json()
    r = await client.post(f"/api/admin/topics/{new['slug']}/merge", headers=admin.headers, json={"into": third["slug"]})
    assert r.status_code == 200 and r.json()["comment_count"] == 3
    for form in (f"{BLOG}/2026/11/teens", f"{BLOG}/2026/11/talking-to-teens"):
        assert (await client.get("/api/topics/by-url", params={"url": form})).json()["id"] == third["id"]


async def test_merge_refusals(client: httpx.AsyncClient, articles_on: Settings) -> None:
    admin, moderator = await make_user("admin"), await make_user("moderator")
    a = (await _see(client, f"{BLOG}/a")).json()
    b = (await _see(client, f"{BLOG}/b")).json()
    path = f"/api/admin/topics/{a['slug']}/merge"
    assert (await client.post(path, headers=admin.headers, json={"into": a["slug"]})).status_code == 400
    assert (await client.post(path, headers=admin.headers, json={"into": "no-such"})).status_code == 404
    assert (await client.post("/api/admin/topics/no-such/merge", headers=admin.headers,
                              json={"into": b["slug"]})).status_code == 404
    assert (await client.post(path, headers=admin.headers, json={})).status_code == 400
    assert (await client.post(path, headers=moderator.headers, json={"into": b["slug"]})).status_code == 403
    assert (await client.post(path, json={"into": b["slug"]})).status_code == 401
    assert await sql.fetchval("SELECT count(*) FROM topic WHERE status = 'published'") == 2


async def test_delete_only_empty_automatic_threads(client: httpx.AsyncClient, articles_on: Settings) -> None:
    admin, coach, reader = await make_user("admin"), await make_user("coach"), await make_user()
    empty = (await _see(client, f"{BLOG}/oops-a-draft")).json()
    talked = (await _see(client, f"{BLOG}/talked")).json()
    await _comment(client, talked["slug"], reader, "Hello")
    mine = await client.post("/api/topics", headers=coach.headers,
                             json={"kind": "article", "title": "By a coach", "body": "b", "url": f"{BLOG}/coach"})
    assert mine.status_code == 201
    r = await client.delete(f"/api/admin/topics/{talked['slug']}", headers=admin.headers)
    assert r.status_code == 409 and "comments" in r.json()["detail"]
    r = await client.delete(f"/api/admin/topics/{mine.json()['slug']}", headers=admin.headers)
    assert r.status_code == 409
    assert (await client.delete(f"/api/admin/topics/{empty['slug']}", headers=coach.headers)).status_code == 403
    r = await client.delete(f"/api/admin/topics/{empty['slug']}", headers=admin.headers,
                            params={"reason": "a draft's address"})
    assert r.status_code == 204
    assert (await client.delete(f"/api/admin/topics/{empty['slug']}", headers=admin.headers)).status_code == 404
    assert (await client.get(f"/api/topics/{empty['slug']}")).status_code == 404
    entry = await sql.fetchrow("SELECT actor_id, target_id, reason, details FROM audit_log"
                               " WHERE action = 'topic_delete'")
    assert (entry["actor_id"], entry["target_id"], entry["reason"]) == (admin.id, empty["id"], "a draft's address")
    assert json.loads(entry["details"]) == {"url": f"{BLOG}/oops-a-draft", "origin": "first_sight"}
    assert await sql.fetchval("SELECT count(*) FROM topic") == 2


async def test_an_admin_renames_a_thread_audited(client: httpx.AsyncClient, articles_on: Settings) -> None:
    admin = await make_user("admin")
    topic = (await _see(client, f"{BLOG}/untitled-post-7")).json()
    r = await client.patch(f"/api/topics/{topic['slug']}", headers=admin.headers,
                           json={"title": "Seven ways to listen", "reason": "the page's real title"})
    assert r.status_code == 200 and r.json()["title"] == "Seven ways to listen"
    entry = await sql.fetchrow("SELECT actor_id, target_id, reason FROM audit_log WHERE action = 'topic_update'")
    assert (entry["actor_id"], entry["target_id"], entry["reason"]) == (admin.id, topic["id"], "the page's real title")
    reader = await make_user()
    assert (await client.patch(f"/api/topics/{topic['slug']}", headers=reader.headers,
                               json={"title": "Mine now"})).status_code == 403


# ---------------------------------------------------------------- the feed sync, on loopback

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Family Blog</title><link>{base}/</link><description>d</description>
<item><title>Talking to teens</title><link>{base}/2026/11/talking-to-teens/?utm_source=rss</link></item>
<item><title>Sleep &amp; screens</title><link>{base}/2026/11/sleep-and-screens</link></item>
<item><title>Syndicated</title><link>https://blog.example/from-the-listed-origin</link></item>
<item><title>Elsewhere</title><link>https://elsewhere.example/not-ours</link></item>
<item><title>No link</title></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Family Blog</title><id>urn:x</id>
<updated>2026-11-29T10:00:00Z</updated>
<entry><title>When your teen says no</title><id>urn:1</id><updated>2026-11-29T10:00:00Z</updated>
<link rel="alternate" href="{base}/2026/11/when-your-teen-says-no"/></entry>
<entry><title type="html">&lt;b&gt;Bold&lt;/b&gt; move</title><id>urn:2</id><updated>2026-11-29T10:00:00Z</updated>
<link href="/2026/11/relative-link"/></entry>
</feed>"""


class _Feeds(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/rss.xml":
            self._send(RSS.format(base=base).encode(), "application/rss+xml")
        elif self.path == "/atom.xml":
            self._send(ATOM.format(base=base).encode(), "application/atom+xml")
        elif self.path == "/moved":  # same host: followed
            self._redirect(f"{base}/rss.xml")
        elif self.path == "/away":  # another host (localhost is not 127.0.0.1 by name)
            self._redirect(f"http://localhost:{self.server.server_address[1]}/rss.xml")
        elif self.path == "/loop":
            self._redirect("/loop")
        elif self.path == "/huge":  # declared size
            self._send(b"<rss>" + b" " * (feed.MAX_BYTES + 10) + b"</rss>", "application/rss+xml")
        elif self.path == "/huge-chunked":  # no declared size: the reader stops past the limit
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            chunk = b" " * 65536
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for _ in range(feed.MAX_BYTES // len(chunk) + 20):
                    self.wfile.write(chunk)
        else:
            self._send(b"not here", "text/plain", 404)

    def _send(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def feed_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feeds)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_rss_sync_creates_topics_once(client: httpx.AsyncClient, articles_on: Settings, feed_server: str) -> None:
    report = await feed.sync_feed(f"{feed_server}/rss.xml", articles_on)
    assert len(report.created) == 3 and report.existing == 0 and report.skipped == 2
    rows = await sql.fetch("SELECT url, title, origin, kind FROM topic ORDER BY id")
    assert [(r["url"], r["title"]) for r in rows] == [
        (f"{feed_server}/2026/11/talking-to-teens", "Talking to teens"),
        (f"{feed_server}/2026/11/sleep-and-screens", "Sleep & screens"),
        (f"{BLOG}/from-the-listed-origin", "Syndicated")]
    assert {r["origin"] for r in rows} == {"feed"} and {r["kind"] for r in rows} == {"article"}
    again = await feed.sync_feed(f"{feed_server}/moved", articles_on)  # same host redirect: followed
    assert again.created == [] and again.existing == 3 and again.skipped == 2
    assert await sql.fetchval("SELECT count(*) FROM topic") == 3
    assert await sql.fetchval("SELECT count(*) FROM audit_log WHERE action = 'topic_auto_create'"
                              " AND details->>'origin' = 'feed'") == 3
    r = await client.get("/api/topics/by-url", params={"url": f"{feed_server}/2026/11/talking-to-teens/"})
    assert r.status_code == 200 and r.json()["author"]["handle"] == "Family Blog"


async def test_atom_sync(client: httpx.AsyncClient, settings: Settings, feed_server: str) -> None:
    report = await feed.sync_feed(f"{feed_server}/atom.xml", settings)  # no embed origins: the feed's own only
    assert len(report.created) == 2
    titles = dict(await sql.fetch("SELECT url, title FROM topic"))
    assert titles == {f"{feed_server}/2026/11/when-your-teen-says-no": "When your teen says no",
                      f"{feed_server}/2026/11/relative-link": "<b>Bold</b> move"}  # plain text, escaped on output
    assert (await feed.sync_feed(f"{feed_server}/atom.xml", settings)).created == []


@pytest.mark.parametrize(("path", "words"), [("/away", "another host"), ("/loop", "redirects"),
                                             ("/huge", "larger"), ("/huge-chunked", "larger"),
                                             ("/missing", "404")])
async def test_feed_fetch_refusals(client: httpx.AsyncClient, settings: Settings, feed_server: str,
                                   path: str, words: str) -> None:
    with pytest.raises(feed.FeedError, match=words):
        await feed.sync_feed(f"{feed_server}{path}", settings)
    assert await sql.fetchval("SELECT count(*) FROM topic") == 0


async def test_feed_fetch_times_out(settings: Settings) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts, never answers
    try:
        with pytest.raises(feed.FeedError, match="could not be fetched"):
            await feed.fetch_feed(f"http://127.0.0.1:{listener.getsockname()[1]}/feed", timeout_s=0.3)
    finally:
        listener.close()


async def test_periodic_sync_runs_behind_the_setting(client: httpx.AsyncClient, settings: Settings,
                                                     feed_server: str) -> None:
    from forum.articles.lifecycle import run_periodically

    configured = settings.with_overrides(blog_feed_url=f"{feed_server}/atom.xml", blog_feed_interval_s=3600)
    task = asyncio.create_task(run_periodically(configured, first_delay_s=0))
    try:
        for _ in range(100):
            if await sql.fetchval("SELECT count(*) FROM topic") == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await sql.fetchval("SELECT count(*) FROM topic") == 2


async def test_votes_follow_their_comments_into_the_merged_topic(client: httpx.AsyncClient,
                                                                 articles_on: Settings) -> None:
    """vote.topic (migration forum_2026_12_07t22_30_00) moves with its comment, so a signed-in
    reader's own votes still show on the merged thread (thread_reader_states reads them by
    (user, topic))."""
    admin, reader, voter = await make_user("admin"), await make_user(), await make_user()
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0")
    old = (await _see(client, f"{BLOG}/2026/11/teens", "Teens")).json()
    new = (await _see(client, f"{BLOG}/2026/11/talking-to-teens", "Talking to teens")).json()
    root = await _comment(client, old["slug"], reader, "A first comment")
    r = await client.post(f"/api/comments/{root['id']}/vote", headers=voter.headers)
    assert r.status_code == 200, r.text
    assert await sql.fetchval('SELECT topic FROM vote WHERE "user" = $1', voter.id) == old["id"]
    page = (await client.get(f"/api/topics/{old['slug']}/comments", headers=voter.headers)).json()
    assert page["items"][0]["my_vote"] == 1
    r = await client.post(f"/api/admin/topics/{old['slug']}/merge", headers=admin.headers, json={"into": new["slug"]})
    assert r.status_code == 200, r.text
    assert await sql.fetchval('SELECT topic FROM vote WHERE "user" = $1', voter.id) == new["id"]
    page = (await client.get(f"/api/topics/{new['slug']}/comments", headers=voter.headers)).json()
    assert [(c["id"], c["my_vote"]) for c in page["items"]] == [(root["id"], 1)]
