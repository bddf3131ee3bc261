"""The comment widget in a real browser (issue 15): a blog page on another origin with one
script tag, and every reader flow through the widget's iframe."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ForumServer, HostSite, assert_origins, axe_scan, screenshots
from tests.helpers import Account, make_user

pytestmark = pytest.mark.usefixtures("forum_server")

NAMES = {"admin": "ana", "coach": "cora", "moderator": "mia"}  # handles may not read as staff titles
PASSWORD = "Pw-browser-" + uuid.uuid4().hex[:10]


def expect(locator: Any) -> Any:
    from playwright.async_api import expect as pw_expect

    return pw_expect(locator)


def host_page(host: HostSite, forum: ForumServer, name: str, *, slug: str | None = None, url: str | None = None,
              extra: str = "") -> str:
    attrs = f'data-forum-topic="{slug}"' if slug else ""
    canonical = f'<link rel="canonical" href="{url}">' if url else ""
    return host.add(name, f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>Talking with your teenager about alcohol</title>{canonical}</head>
<body><main><h1>Talking with your teenager about alcohol</h1>
<p>An article of the family-coaching blog. The comments are below.</p>
<div id="forum-thread"></div>
<script src="{forum.origin}/embed.js" {attrs} {extra} async></script></main></body></html>""")


@pytest.fixture(scope="module")
def staff(forum_server: ForumServer) -> Iterator[dict[str, Any]]:
    """A coach, a moderator and an admin (registered and promoted through the API), rules that
    trust new readers (so replies can nest), restored afterwards."""
    out: dict[str, Any] = {}
    with forum_server.api() as c:
        for role in ("admin", "coach", "moderator"):
            handle = f"{NAMES[role]}_{uuid.uuid4().hex[:8]}"
            r = c.post("/api/auth/register", json={"handle": handle, "password": PASSWORD})
            assert r.status_code == 201, r.text
            out[role] = r.json()
    yield out


@pytest.fixture(scope="module")
async def promoted(app: Any, staff: dict[str, Any]) -> dict[str, Any]:
    from forum import sql

    for role in ("admin", "coach", "moderator"):
        await sql.execute("UPDATE forum_user SET role = $2 WHERE id = $1", staff[role]["user"]["id"], role)
    return staff


@pytest.fixture(scope="module")
def rules(forum_server: ForumServer, promoted: dict[str, Any]) -> Iterator[None]:
    with forum_server.api(promoted["admin"]["token"]) as c:
        before = c.get("/api/moderation/rules").json()
        keep = {k: before[k] for k in ("banned_words", "suspect_words", "crisis_words", "max_links_untrusted",
                                       "trusted_after_approved", "flag_hide_threshold", "edit_window_minutes",
                                       "premoderate_all", "crisis_message")}
        r = c.put("/api/moderation/rules", json={**keep, "trusted_after_approved": 0,
                                                 "crisis_message": "You matter. If you are in danger now, call 112. "
                                                                   "You can also talk to a coach at any hour."})
        assert r.status_code == 200, r.text
        yield
        c.put("/api/moderation/rules", json=keep)


def new_topic(forum: ForumServer, staff: dict[str, Any], *, url: str | None = None) -> str:
    slug = f"talk-{uuid.uuid4().hex[:10]}"
    with forum.api(staff["coach"]["token"]) as c:
        body: dict[str, Any] = {"kind": "article", "title": "Talking with your teenager about alcohol",
                                "body": "An article.", "slug": slug}
        if url:
            body["url"] = url
        r = c.post("/api/topics", json=body)
        assert r.status_code == 201, r.text
    return slug


def post(forum: ForumServer, token: str, slug: str, body: str, **extra: Any) -> dict[str, Any]:
    with forum.api(token) as c:
        r = c.post(f"/api/topics/{slug}/comments", json={"body": body, **extra})
        assert r.status_code == 201, r.text
        return dict(r.json())


def register(forum: ForumServer) -> dict[str, Any]:
    with forum.api() as c:
        r = c.post("/api/auth/register", json={"handle": f"r_{uuid.uuid4().hex[:10]}", "password": PASSWORD})
        assert r.status_code == 201, r.text
        return dict(r.json())


async def signed_in(context: Any, forum: ForumServer, token: str) -> None:
    """The reader's token in the widget frame's own storage (as after signing in there)."""
    await context.add_init_script(
        f"if (location.origin === {forum.origin!r}) localStorage.setItem('forum.token', {token!r});")


@pytest.fixture
async def page(context: Any) -> AsyncIterator[Any]:
    p = await context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    p.errors = errors
    yield p
    await p.close()


def widget(page: Any) -> Any:
    return page.frame_locator("#forum-thread iframe")


async def open_thread(page: Any, url: str) -> Any:
    await page.goto(url)
    frame = widget(page)
    await expect(frame.get_by_role("heading", level=2).first).to_be_visible(timeout=15000)
    return frame


# ---------------------------------------------------------------- flows


async def test_guest_posts_waits_for_moderation_and_sees_approval_live(
        page: Any, context: Any, forum_server: ForumServer, host_site: HostSite, promoted: dict[str, Any],
        rules: None) -> None:
    slug = new_topic(forum_server, promoted)
    post(forum_server, promoted["coach"]["token"], slug, "Welcome. **Be kind** to each other here.")
    url = host_page(host_site, forum_server, f"guest-{slug}.html", slug=slug)
    frame = await open_thread(page, url)
    await expect(frame.get_by_text("Be kind")).to_be_visible()
    await expect(frame.get_by_text("Coach", exact=True)).to_be_visible()

    await frame.get_by_label("Your name").fill("Worried mum")
    await frame.get_by_label("Your comment").fill(f"My son came home drunk last night. What do I say tomorrow? ({slug})")
    await frame.get_by_role("button", name="Post comment").click()
    await expect(frame.locator(".comment.pending")).to_be_visible()
    await expect(frame.locator(".comment.pending")).to_contain_text("waiting for a moderator")
    comment_id = int((await frame.locator(".comment.pending").get_attribute("id")).split("-")[1])
    await axe_scan(page, "thread with a pending guest comment")
    await screenshots(page, "widget-thread")

    with forum_server.api(promoted["moderator"]["token"]) as c:
        queue = c.get("/api/moderation/queue", params={"queue": "pending", "limit": 100}).json()["items"]
        item = next(i for i in queue if i["comment"] and i["comment"]["id"] == comment_id)
        r = c.post(f"/api/moderation/items/{item['id']}/decision", json={"action": "approve"})
        assert r.status_code == 200, r.text
    # the open page shows it published, live (no reload)
    await expect(frame.locator(f"#comment-{comment_id}")).not_to_have_class("comment pending", timeout=15000)
    await expect(frame.locator(f"#comment-{comment_id} .pending-note")).to_have_count(0)
    await expect(frame.get_by_text("approved and everyone can see it")).to_be_visible()
    assert not page.errors, page.errors
    assert_origins(context.requests, forum_server.origin, host_site.origin)
