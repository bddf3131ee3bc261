"""The comment widget in a real browser (issue 15): a blog page on another origin with one
script tag, and every reader flow through the widget's iframe."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import ForumServer, HostSite, assert_origins, axe_scan, screenshots

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


async def sign_in(frame: Any, account: dict[str, Any]) -> None:
    """Sign in through the widget's own dialog. (A cross-site frame in a private browsing context
    may not use storage at all: the widget then keeps the token in memory for the page's life.)"""
    await frame.get_by_role("button", name="Sign in").click()
    dialog = frame.get_by_role("dialog", name="Sign in")
    await dialog.get_by_label("Your name or email address").fill(account["user"]["handle"])
    await dialog.get_by_label("Password").fill(PASSWORD)
    await dialog.get_by_role("button", name="Sign in").click()
    await expect(frame.get_by_text(f"Signed in as {account['user']['handle']}").first).to_be_visible()


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
    await frame.get_by_label("Your comment").fill(f"My son came home drunk. What do I say tomorrow? ({slug})")
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


async def test_reader_registers_replies_three_deep_edits_votes_and_flags(
        page: Any, context: Any, forum_server: ForumServer, host_site: HostSite, promoted: dict[str, Any],
        rules: None) -> None:
    slug = new_topic(forum_server, promoted)
    first = post(forum_server, promoted["coach"]["token"], slug, "Start with how you feel, not with rules.")
    second = post(forum_server, promoted["coach"]["token"], slug, "A second thought from the coach.")
    frame = await open_thread(page, host_page(host_site, forum_server, f"reader-{slug}.html", slug=slug))

    await frame.get_by_role("button", name="Create an account").click()
    dialog = frame.get_by_role("dialog", name="Create an account")
    await expect(dialog).to_be_visible()
    await axe_scan(page, "register dialog")
    await screenshots(page, "widget-register-dialog")
    handle = f"dad_{uuid.uuid4().hex[:8]}"
    await dialog.get_by_label("Choose a name").fill(handle)
    await dialog.get_by_label("Password").fill(PASSWORD)
    await dialog.get_by_role("button", name="Create an account").click()
    await expect(frame.get_by_text(f"Signed in as {handle}").first).to_be_visible()

    parent_id = first["id"]
    for level in (1, 2, 3):
        await frame.locator(f"#comment-{parent_id} .comment-actions").get_by_role("button", name="Reply").click()
        box = frame.locator(f"#comment-{parent_id}").get_by_role("textbox")
        await box.fill(f"Reply at level {level} ({slug})")
        await frame.locator(f"#comment-{parent_id}").get_by_role("button", name="Post reply").click()
        reply = frame.locator("article.comment", has_text=f"Reply at level {level} ({slug})")
        await expect(reply).to_be_visible()
        parent_id = int((await reply.get_attribute("id")).split("-")[1])
    with forum_server.api() as c:
        deepest = c.get(f"/api/comments/{parent_id}").json()
        assert deepest["depth"] == 3 and deepest["author"]["handle"] == handle

    # edit within the window: the button says how long is left
    edit = frame.locator(f"#comment-{parent_id}").get_by_role("button", name="Edit (")
    await expect(edit).to_contain_text("minutes left")
    await edit.click()
    box = frame.locator(f"#comment-{parent_id}").get_by_label("Change your comment")
    await expect(box).to_have_value(f"Reply at level 3 ({slug})")
    await box.fill(f"Reply at level 3, edited ({slug})")
    await frame.locator(f"#comment-{parent_id}").get_by_role("button", name="Save").click()
    await expect(frame.locator(f"#comment-{parent_id} .body")).to_have_text(f"Reply at level 3, edited ({slug})")

    # vote: the reader's own vote is shown
    vote = frame.locator(f"#comment-{first['id']}").get_by_role("button", name="Helpful (0)")
    await vote.click()
    voted = frame.locator(f"#comment-{first['id']}").get_by_role("button", name="You found this helpful (1)")
    await expect(voted).to_have_attribute("aria-pressed", "true")

    # flag with a reason, in a dialog that returns focus
    report = frame.locator(f"#comment-{second['id']}").get_by_role("button", name="Report")
    await report.click()
    dialog = frame.get_by_role("dialog", name="Report this comment")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Send report").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("Choose what is wrong")
    await axe_scan(page, "report dialog with an error")
    await screenshots(page, "widget-report-dialog")
    await dialog.get_by_label("It is off topic").check()
    await dialog.get_by_role("button", name="Send report").click()
    await expect(dialog).to_have_count(0)
    await expect(frame.get_by_text("A moderator will look at the comment")).to_be_visible()
    await expect(report).to_be_focused()
    await axe_scan(page, "thread of a signed-in reader")
    await screenshots(page, "widget-signed-in")
    assert not page.errors, page.errors
    assert_origins(context.requests, forum_server.origin, host_site.origin)


async def test_private_question_is_invisible_to_another_reader(
        browser: Any, context: Any, forum_server: ForumServer, host_site: HostSite, promoted: dict[str, Any],
        rules: None) -> None:
    slug = new_topic(forum_server, promoted)
    asker = register(forum_server)
    url = host_page(host_site, forum_server, f"private-{slug}.html", slug=slug)
    page = await context.new_page()
    frame = await open_thread(page, url)
    await sign_in(frame, asker)
    await frame.get_by_label("This is a question for the coaches").check()
    await frame.get_by_label("Ask privately").check()
    text = f"Is it normal that my daughter lies about where she goes? ({slug})"
    await frame.get_by_label("Your comment").fill(text)
    await frame.get_by_role("button", name="Post comment").click()
    question = frame.locator("article.comment", has_text=text)
    await expect(question).to_contain_text("Private question for the coaches")
    await expect(question).to_contain_text("Only you and the coaches can see it")

    other = register(forum_server)
    other_context = await browser.new_context()
    try:
        other_page = await other_context.new_page()
        other_frame = await open_thread(other_page, url)
        await sign_in(other_frame, other)
        await expect(other_frame.get_by_text(text)).to_have_count(0)
        await expect(other_frame.get_by_text("No comments yet")).to_be_visible()
    finally:
        await other_context.close()


async def test_a_crisis_post_shows_the_support_message_at_once(
        page: Any, forum_server: ForumServer, host_site: HostSite, promoted: dict[str, Any], rules: None,
        context: Any) -> None:
    slug = new_topic(forum_server, promoted)
    reader = register(forum_server)
    frame = await open_thread(page, host_page(host_site, forum_server, f"crisis-{slug}.html", slug=slug))
    await sign_in(frame, reader)
    await frame.get_by_label("Your comment").fill(f"Some days I want to end my life. ({slug})")
    await frame.get_by_role("button", name="Post comment").click()
    support = frame.locator("#forum-support")
    await expect(support).to_be_visible()
    await expect(support.get_by_role("heading", name="You are not alone")).to_be_visible()
    await expect(support).to_contain_text("You matter. If you are in danger now, call 112.")
    await expect(support).to_be_focused()
    await axe_scan(page, "support message")
    await screenshots(page, "widget-support")


async def test_a_deep_link_opens_the_right_comment(
        page: Any, forum_server: ForumServer, host_site: HostSite, promoted: dict[str, Any], rules: None) -> None:
    slug = new_topic(forum_server, promoted)
    token = promoted["coach"]["token"]
    for i in range(23):  # more than one page of roots (the widget pages 20 at a time)
        post(forum_server, token, slug, f"Root comment {i} ({slug})")
    root = post(forum_server, token, slug, f"The late root ({slug})")
    parent = root
    for depth in range(1, 4):
        parent = post(forum_server, token, slug, f"Deep reply {depth} ({slug})", parent_id=parent["id"])
    url = host_page(host_site, forum_server, f"deep-{slug}.html", slug=slug) + f"#comment-{parent['id']}"
    frame = await open_thread(page, url)
    target = frame.locator(f"#comment-{parent['id']}")
    await expect(target).to_be_visible()
    await expect(target).to_have_class("comment highlight")
    await expect(target).to_be_focused()
    await expect(target).to_contain_text("Deep reply 3")
    await expect(frame.get_by_role("button", name="Show the conversation from the start")).to_be_visible()
    assert not page.errors, page.errors


async def test_keyboard_only_posting(page: Any, forum_server: ForumServer, host_site: HostSite,
                                     promoted: dict[str, Any], rules: None) -> None:
    slug = new_topic(forum_server, promoted)
    frame = await open_thread(page, host_page(host_site, forum_server, f"keys-{slug}.html", slug=slug))
    inner = page.frames[1]

    async def tab_to(predicate: str, limit: int = 40) -> None:
        for _ in range(limit):
            await page.keyboard.press("Tab")
            script = f"(() => {{ const el = document.activeElement; return !!el && ({predicate}); }})()"
            if await inner.evaluate(script):
                return
        raise AssertionError(f"Tab never reached: {predicate}")

    await tab_to("el.autocomplete === 'nickname'")
    await page.keyboard.type("Keyboard parent")
    await tab_to("el.tagName === 'TEXTAREA'")
    await page.keyboard.type(f"Typed without a mouse ({slug})")
    await tab_to("el.tagName === 'BUTTON' && el.type === 'submit'")
    await page.keyboard.press("Enter")
    await expect(frame.locator(".comment.pending")).to_contain_text(f"Typed without a mouse ({slug})")
    # the focus ring is visible on focused controls
    await frame.get_by_role("button", name="Preview").focus()
    outline = await inner.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


async def test_counts_fill_on_a_listing_page(page: Any, context: Any, forum_server: ForumServer,
                                             host_site: HostSite, promoted: dict[str, Any], rules: None) -> None:
    article_url = f"{host_site.origin}/articles/{uuid.uuid4().hex[:8]}"
    slug = new_topic(forum_server, promoted, url=article_url)
    for i in range(3):
        post(forum_server, promoted["coach"]["token"], slug, f"Counted {i} ({slug})")
    empty = new_topic(forum_server, promoted)
    url = host_site.add(f"list-{slug}.html", f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<link rel="icon" href="data:,"><title>Articles</title></head><body><main><h1>Articles</h1><ul>
<li>By slug: <span id="a" data-forum-count="{slug}"></span></li>
<li>By address: <span id="b" data-forum-count="{article_url}"></span></li>
<li>Empty: <span id="c" data-forum-count="{empty}"></span></li>
</ul><script src="{forum_server.origin}/count.js" async></script></main></body></html>""")
    await page.goto(url)
    await expect(page.locator("#a")).to_have_text("3 comments")
    await expect(page.locator("#b")).to_have_text("3 comments")
    await expect(page.locator("#c")).to_have_text("0 comments")
    counts = [u for u in context.requests if "/api/counts" in u]
    assert len(counts) == 1, counts
    assert_origins(context.requests, forum_server.origin, host_site.origin)


async def test_canonical_link_finds_the_thread_and_the_phone_layout(
        page: Any, forum_server: ForumServer, host_site: HostSite, promoted: dict[str, Any], rules: None) -> None:
    article_url = f"{host_site.origin}/articles/{uuid.uuid4().hex[:8]}"
    slug = new_topic(forum_server, promoted, url=article_url)
    post(forum_server, promoted["coach"]["token"], slug, f"Found by its address ({slug})")
    await page.set_viewport_size({"width": 375, "height": 800})
    frame = await open_thread(page, host_page(host_site, forum_server, f"canonical-{slug}.html", url=article_url))
    await expect(frame.get_by_text(f"Found by its address ({slug})")).to_be_visible()
    width = await page.frames[1].evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the widget scrolls sideways on a phone: {width}px"


async def test_guest_solves_the_spam_check_in_the_browser(
        migrated: str, page: Any, context: Any, host_site: HostSite, promoted: dict[str, Any],
        forum_server: ForumServer) -> None:
    from tests.browser.conftest import start_forum, stop_forum

    guarded = start_forum(migrated, host_site.origin, FORUM_GUEST_CHALLENGE="on")
    try:
        slug = new_topic(guarded, promoted)
        frame = await open_thread(page, host_page(host_site, guarded, f"altcha-{slug}.html", slug=slug))
        await expect(frame.get_by_text("will solve a small puzzle")).to_be_visible()
        await frame.get_by_label("Your name").fill("Careful dad")
        await frame.get_by_label("Your comment").fill(f"Thank you for this article. ({slug})")
        await expect(frame.get_by_text("Anti-spam check done")).to_be_visible(timeout=30000)
        await frame.get_by_role("button", name="Post comment").click()
        await expect(frame.locator(".comment.pending")).to_contain_text(f"Thank you for this article. ({slug})")
        # a second post solves a fresh check by itself (the first one is spent)
        await frame.get_by_label("Your comment").fill(f"And one more thing. ({slug})")
        await frame.get_by_role("button", name="Post comment").click()
        await expect(frame.locator(".comment.pending", has_text="And one more thing")).to_be_visible(timeout=30000)
        await axe_scan(page, "guest form with the spam check")
        assert not page.errors, page.errors
        assert_origins(context.requests, guarded.origin, host_site.origin)
    finally:
        stop_forum(guarded)


async def test_notifications_sorting_tombstones_in_the_dark_theme(
        page: Any, context: Any, forum_server: ForumServer, host_site: HostSite, promoted: dict[str, Any],
        rules: None) -> None:
    slug = new_topic(forum_server, promoted)
    coach = promoted["coach"]["token"]
    older = post(forum_server, coach, slug, f"The coach's older comment ({slug})")
    reader = register(forum_server)
    mine = post(forum_server, reader["token"], slug, f"The reader's newer comment ({slug})")
    answer = post(forum_server, coach, slug, f"The coach answers the reader ({slug})", parent_id=mine["id"])
    url = host_page(host_site, forum_server, f"dark-{slug}.html", slug=slug, extra='data-forum-theme="dark"')
    frame = await open_thread(page, url)
    assert await page.frames[1].evaluate("document.documentElement.dataset.theme") == "dark"
    await sign_in(frame, reader)

    # unread notifications, listed in a dialog that leads to the comment
    notes = frame.get_by_role("button", name="Notifications")
    await expect(notes).to_contain_text("1")
    await notes.click()
    dialog = frame.get_by_role("dialog", name="Notifications")
    await expect(dialog).to_contain_text("Someone replied to your comment.")
    await axe_scan(page, "notifications dialog, dark theme")
    await dialog.get_by_role("button", name="Show").click()
    await expect(frame.locator(f"#comment-{answer['id']}")).to_be_focused()
    await expect(frame.locator(f"#comment-{answer['id']}")).to_have_class("comment highlight")
    await expect(notes).not_to_contain_text("1")  # that notification is read now

    # sorting: newest first puts the reader's comment on top
    roots = frame.locator("ol.thread > li > article")
    await expect(roots.first).to_have_attribute("id", f"comment-{older['id']}")
    await frame.get_by_label("Sort by").select_option("newest")
    await expect(roots.first).to_have_attribute("id", f"comment-{mine['id']}")

    # the exact time shows on focus
    when = frame.locator(f"#comment-{older['id']} time")
    await when.focus()
    await expect(frame.locator(f"#comment-{older['id']} .exact")).to_be_visible()

    # deleting one's comment that has a reply leaves a tombstone, the reply stays
    await frame.locator(f"#comment-{mine['id']}").get_by_role("button", name="Delete").click()
    confirm = frame.get_by_role("dialog", name="Delete your comment?")
    await expect(confirm).to_be_visible()
    await axe_scan(page, "delete dialog, dark theme")
    await confirm.get_by_role("button", name="Delete").click()
    await expect(frame.locator(f"#comment-{mine['id']}")).to_have_text("This comment was deleted.")
    await expect(frame.get_by_role("heading", name="2 comments")).to_be_visible()
    await expect(frame.locator(f"#comment-{answer['id']}")).to_be_visible()
    await axe_scan(page, "thread with a tombstone, dark theme")
    await screenshots(page, "widget-dark")
    assert not page.errors, page.errors


async def test_a_page_without_a_thread_says_so(page: Any, forum_server: ForumServer, host_site: HostSite) -> None:
    url = host_page(host_site, forum_server, f"nothing-{uuid.uuid4().hex[:8]}.html",
                    url=f"https://elsewhere.example/{uuid.uuid4().hex[:8]}")
    await page.goto(url)
    await expect(widget(page).get_by_text("Comments are not open here.")).to_be_visible(timeout=15000)


async def test_the_blog_sets_its_own_look_and_bad_values_are_dropped(
        page: Any, forum_server: ForumServer, host_site: HostSite, promoted: dict[str, Any], rules: None) -> None:
    slug = new_topic(forum_server, promoted)
    post(forum_server, promoted["coach"]["token"], slug, f"Styled by the blog ({slug})")
    look = ('data-forum-accent="#0b6e4f" data-forum-radius="2px" data-forum-font="Georgia, serif" '
            'data-forum-link="url(https://tracker.example/x)"')
    frame = await open_thread(page, host_page(host_site, forum_server, f"look-{slug}.html", slug=slug, extra=look))
    await expect(frame.get_by_text(f"Styled by the blog ({slug})")).to_be_visible()
    css = await page.frames[1].evaluate(
        "['--forum-accent', '--forum-radius', '--forum-font', '--forum-link']"
        ".map((p) => getComputedStyle(document.documentElement).getPropertyValue(p).trim())")
    assert css[:3] == ["#0b6e4f", "2px", "Georgia, serif"], css
    assert "url(" not in css[3] and css[3].startswith("#"), css  # the stylesheet's own link colour stays
