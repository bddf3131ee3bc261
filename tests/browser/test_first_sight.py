"""Threads on first sight in a real browser (issue 18): a blog page on an allowed origin
whose address has no topic gets an empty thread with a working comment form, and the topic
that appears carries the page's canonical address and title and the site's system author.
A page whose address is on an origin that is not listed creates nothing, and a
`<link rel="canonical">` wins over the address bar and its tracking parameters."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.browser.conftest import ForumServer, HostSite, assert_origins, axe_scan, screenshots

pytestmark = pytest.mark.usefixtures("forum_server")

PASSWORD = "Pw-first-" + uuid.uuid4().hex[:10]


def expect(locator: Any) -> Any:
    from playwright.async_api import expect as pw_expect

    return pw_expect(locator)


def blog_page(host: HostSite, forum: ForumServer, name: str, *, title: str, canonical: str | None = None,
              attrs: str = "") -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return host.add(name, f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>{title}</title>{link}</head>
<body><main><h1>{title}</h1>
<p>A new article of the family-coaching blog, published a minute ago.</p>
<div id="forum-thread"></div>
<script src="{forum.origin}/embed.js" {attrs} async></script></main></body></html>""")


def topic_at(forum: ForumServer, url: str) -> dict[str, Any] | None:
    with forum.api() as c:
        r = c.get("/api/topics/by-url", params={"url": url})
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return dict(r.json())


def real_errors(page: Any) -> list[str]:
    """The page's errors, less the browser's own line for the widget's lookup of an address that
    has no thread yet (GET /api/topics/by-url answers 404 before the POST opens the thread)."""
    return [e for e in page.errors if "status of 404" not in e]


def widget(page: Any) -> Any:
    return page.frame_locator("#forum-thread iframe")


async def test_a_new_article_gets_an_empty_thread_a_guest_can_comment_on(
        page: Any, context: Any, forum_server: ForumServer, host_site: HostSite, app: Any) -> None:
    from forum import sql

    key = uuid.uuid4().hex[:8]
    article = f"{host_site.origin}/2026/11/first-sight-{key}"
    title = f"When your child asks about drugs ({key})"
    assert topic_at(forum_server, article) is None
    url = blog_page(host_site, forum_server, f"first-{key}.html", title="My blog - a page title that is not used",
                    attrs=f'data-forum-url="{article}" data-forum-title="{title}"')
    await page.goto(url)
    frame = widget(page)
    await expect(frame.get_by_role("heading", name="0 comments")).to_be_visible(timeout=15000)
    await expect(frame.get_by_text("No comments yet")).to_be_visible()
    await expect(frame.get_by_label("Your comment")).to_be_visible()
    await axe_scan(page, "a thread opened on first sight")
    await screenshots(page, "first-sight-empty")

    await frame.get_by_label("Your name").fill("New reader")
    text = f"Thank you, this came at the right time. ({key})"
    await frame.get_by_label("Your comment").fill(text)
    await frame.get_by_role("button", name="Post comment").click()
    mine = frame.locator(".comment").filter(has_text=text)
    await expect(mine).to_be_visible()
    await expect(mine).to_contain_text("waiting for a moderator")
    await axe_scan(page, "first-sight thread with the guest's comment")
    await screenshots(page, "first-sight-commented")

    topic = topic_at(forum_server, article)
    assert topic is not None, "no topic for the article's address"
    assert topic["url"] == article
    assert topic["title"] == title
    assert topic["kind"] == "article"
    assert topic["author"]["handle"] == forum_server.env.get("FORUM_SITE_NAME", "forum")
    author = await sql.fetchrow("SELECT u.status FROM topic t JOIN forum_user u ON u.id = t.author WHERE t.id = $1",
                                topic["id"])
    assert author is not None and author["status"] == "system"
    stored = await sql.fetchval("SELECT count(*) FROM comment WHERE topic = $1 AND guest_name = 'New reader'",
                                topic["id"])
    assert stored == 1
    audited = await sql.fetchval("SELECT count(*) FROM audit_log WHERE action = 'topic_auto_create'"
                                 " AND target_id = $1", topic["id"])
    assert audited == 1

    # a second look finds the same thread: no second topic for the address
    await page.reload()
    await expect(widget(page).get_by_role("heading", name="0 comments")).to_be_visible(timeout=15000)
    assert await sql.fetchval("SELECT count(*) FROM topic WHERE url = $1", article) == 1
    assert not real_errors(page), page.errors
    assert_origins(context.requests, forum_server.origin, host_site.origin)


async def test_an_address_on_an_unlisted_origin_creates_nothing(
        page: Any, forum_server: ForumServer, host_site: HostSite, app: Any) -> None:
    from forum import sql

    key = uuid.uuid4().hex[:8]
    elsewhere = f"https://other-blog.example/articles/{key}"
    before = await sql.fetchval("SELECT count(*) FROM topic")
    url = blog_page(host_site, forum_server, f"unlisted-{key}.html", title=f"Copied article {key}",
                    attrs=f'data-forum-url="{elsewhere}"')
    await page.goto(url)
    frame = widget(page)
    await expect(frame.get_by_text("Comments are not open here.")).to_be_visible(timeout=15000)
    await expect(frame.get_by_label("Your comment")).to_have_count(0)
    await axe_scan(page, "comments not open here")
    await screenshots(page, "first-sight-not-open")
    assert topic_at(forum_server, elsewhere) is None
    assert await sql.fetchval("SELECT count(*) FROM topic") == before
    assert not real_errors(page), page.errors


async def test_the_canonical_link_wins_over_tracking_parameters(
        page: Any, context: Any, forum_server: ForumServer, host_site: HostSite, app: Any) -> None:
    from forum import sql

    key = uuid.uuid4().hex[:8]
    canonical = f"{host_site.origin}/articles/canonical-{key}"
    title = f"Staying calm after a relapse ({key})"
    name = f"amp-{key}.html"
    address = host_site.add(name, "") + "?utm_source=newsletter&utm_medium=email&fbclid=abc123"
    blog_page(host_site, forum_server, name, title=title, canonical=canonical)
    await page.goto(address)
    frame = widget(page)
    await expect(frame.get_by_role("heading", name="0 comments")).to_be_visible(timeout=15000)

    topic = topic_at(forum_server, canonical)
    assert topic is not None, "no thread for the canonical address"
    assert topic["url"] == canonical
    assert topic["title"] == title  # no data-forum-title: the page's title
    for other in (address, address.split("?")[0]):
        assert topic_at(forum_server, other) is None, f"a thread for the address bar's {other}"
    assert await sql.fetchval("SELECT count(*) FROM topic WHERE url LIKE $1", f"%{key}%") == 1

    # the page shows that thread: a comment made on it through the API appears after a reload
    with forum_server.api() as c:
        r = c.post("/api/auth/register", json={"handle": f"k_{key}", "password": PASSWORD})
        assert r.status_code == 201, r.text
        coach = r.json()
    await sql.execute("UPDATE forum_user SET role = 'coach' WHERE id = $1", coach["user"]["id"])
    with forum_server.api(coach["token"]) as c:
        r = c.post(f"/api/topics/{topic['slug']}/comments", json={"body": f"Welcome to this article ({key})."})
        assert r.status_code == 201, r.text
    await page.goto(address + "&gclid=xyz")
    await expect(widget(page).get_by_text(f"Welcome to this article ({key}).")).to_be_visible(timeout=15000)
    await axe_scan(page, "canonical thread under a tracked address")
    assert not real_errors(page), page.errors
    assert_origins(context.requests, forum_server.origin, host_site.origin)


async def test_a_page_without_any_title_gets_one_from_its_address(
        page: Any, forum_server: ForumServer, host_site: HostSite) -> None:
    key = uuid.uuid4().hex[:8]
    article = f"{host_site.origin}/articles/talking-to-teens-{key}"
    url = blog_page(host_site, forum_server, f"untitled-{key}.html", title="", attrs=f'data-forum-url="{article}"')
    await page.goto(url)
    await expect(widget(page).get_by_role("heading", name="0 comments")).to_be_visible(timeout=15000)
    topic = topic_at(forum_server, article)
    assert topic is not None
    # not the address itself: the forum makes a readable title from its last segment
    assert topic["title"] == f"Talking to teens {key}", topic["title"]
    assert not real_errors(page), page.errors
