"""The console in Chromium: sign-in, a moderator approves a guest's comment, a reader is
turned away, the axe scan and screenshots of each page."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from forum import sql
from forum.accounts.passwords import hash_password_sync
from tests.browser.conftest import assert_origins, axe_scan, screenshots

PASSWORD = "Correct-horse-9-battery"


async def _account(role: str) -> str:
    handle = f"b_{uuid.uuid4().hex[:10]}"
    await sql.execute("INSERT INTO forum_user (handle, role, status, notify_email, created_at, password_hash)"
                      " VALUES ($1, $2, 'active', false, now(), $3)", handle, role, hash_password_sync(PASSWORD))
    return handle


async def _sign_in(page: Any, origin: str, handle: str) -> None:
    await page.goto(f"{origin}/console")
    await page.get_by_label("Handle or email address").fill(handle)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def test_moderator_day(client: httpx.AsyncClient, forum_server: Any, context: Any) -> None:
    origin = forum_server.origin
    slug = f"console-{uuid.uuid4().hex[:8]}"
    await sql.execute("INSERT INTO topic (slug, kind, title, body, body_html, status, comments_mode, created_at,"
                      " updated_at, comment_count) VALUES ($1, 'discussion', 'Sleep and teenagers', 'b', '<p>b</p>',"
                      " 'published', 'open', now(), now(), 0)", slug)
    async with httpx.AsyncClient(base_url=origin) as api:
        r = await api.post(f"/api/topics/{slug}/comments", json={"body": "Thank you, this helped us.",
                                                                 "guest_name": "Ann"})
        assert r.status_code == 201 and r.json()["status"] == "pending", r.text
        comment_id = r.json()["id"]
    page = await context.new_page()
    await _sign_in(page, origin, await _account("admin"))
    await page.get_by_role("heading", name="Start").wait_for()
    await axe_scan(page, "console start")
    await screenshots(page, "console-start")
    await page.goto(f"{origin}/console/queue")
    await page.get_by_text("Thank you, this helped us.").first.wait_for()
    await axe_scan(page, "console queue")
    await screenshots(page, "console-queue")  # the README's docs/images/console-queue.png is one of these
    await page.get_by_role("link", name="Open").first.click()
    await page.get_by_text("is looking at this until").wait_for()
    await axe_scan(page, "console item")
    await screenshots(page, "console-item")
    await page.get_by_role("button", name="Approve", exact=True).click()
    await page.get_by_text("Approved.").wait_for()
    async with httpx.AsyncClient(base_url=origin) as api:  # the thread shows it (checked through the API)
        thread = (await api.get(f"/api/topics/{slug}/comments")).json()
        assert comment_id in [c["id"] for c in thread["items"]]
    for path, name in (("/console/coach", "coach"), ("/console/coach/stats", "stats"), ("/console/log", "log"),
                       ("/console/rules", "rules"), ("/console/users", "users"), ("/console/settings", "settings")):
        await page.goto(origin + path)
        await axe_scan(page, f"console {name}")
        await screenshots(page, f"console-{name}")
    assert_origins(context.requests, origin)


async def test_reader_is_turned_away(client: httpx.AsyncClient, forum_server: Any, context: Any) -> None:
    origin = forum_server.origin
    page = await context.new_page()
    await _sign_in(page, origin, await _account("reader"))
    await page.get_by_role("heading", name="This is for the team").wait_for()
    await axe_scan(page, "console refused")
    await screenshots(page, "console-refused")
    for path in ("/console/queue", "/console/rules", "/console/users", "/console/log.csv"):
        response = await page.goto(origin + path)
        assert response.status == 403


# ---------------------------------------------------------------- the flows


def _accept_confirmations(page: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())


async def _register(origin: str, role: str = "reader") -> dict[str, Any]:
    """An account made through the API (its bearer token), promoted in the database for staff."""
    async with httpx.AsyncClient(base_url=origin) as api:
        r = await api.post("/api/auth/register", json={"handle": f"r_{uuid.uuid4().hex[:10]}", "password": PASSWORD})
        assert r.status_code == 201, r.text
    if role != "reader":
        await sql.execute("UPDATE forum_user SET role = $2 WHERE id = $1", r.json()["user"]["id"], role)
    return dict(r.json())


async def _topic(title: str = "Sleep and teenagers") -> str:
    slug = f"console-{uuid.uuid4().hex[:8]}"
    await sql.execute("INSERT INTO topic (slug, kind, title, body, body_html, status, comments_mode, created_at,"
                      " updated_at, comment_count) VALUES ($1, 'discussion', $2, 'b', '<p>b</p>',"
                      " 'published', 'open', now(), now(), 0)", slug, title)
    return slug


async def _guest_comment(origin: str, slug: str, body: str) -> tuple[int, int]:
    """A guest's comment (pending) and its queue item."""
    async with httpx.AsyncClient(base_url=origin) as api:
        r = await api.post(f"/api/topics/{slug}/comments", json={"body": body, "guest_name": "Ann"})
        assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    item_id = await sql.fetchval("SELECT id FROM moderation_item WHERE comment = $1 AND status = 'open'",
                                 r.json()["id"])
    assert item_id is not None
    return int(r.json()["id"]), int(item_id)


def _bearer(account: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {account['token']}"}


async def test_bulk_reject_shows_each_items_result(client: httpx.AsyncClient, forum_server: Any,
                                                   context: Any) -> None:
    origin = forum_server.origin
    slug = await _topic()
    items = [await _guest_comment(origin, slug, f"Buy cheap pills number {n} ({slug})") for n in range(3)]
    other = await _register(origin, "moderator")
    page = await context.new_page()
    _accept_confirmations(page)
    await _sign_in(page, origin, await _account("moderator"))
    await page.goto(f"{origin}/console/queue")
    for _, item_id in items:
        await page.locator(f"input[name=item_ids][value='{item_id}']").check()
    await page.get_by_label("Decision").select_option("reject")
    await page.get_by_label("Reason", exact=True).fill("Advertising is not allowed here.")
    async with httpx.AsyncClient(base_url=origin, headers=_bearer(other)) as api:  # someone else is quicker
        r = await api.post(f"/api/moderation/items/{items[2][1]}/decision", json={"action": "approve"})
        assert r.status_code == 200, r.text
    await page.get_by_role("button", name="Apply to the selected items").click()
    await page.get_by_role("heading", name="Results").wait_for()
    rows = page.locator("table.results tbody tr")
    assert await rows.count() == 3
    for index, (_, item_id) in enumerate(items):
        row = rows.nth(index)
        assert (await row.locator("td").first.inner_text()).strip() == str(item_id)
        result = (await row.locator("td").nth(1).inner_text()).strip()
        if index < 2:
            assert result == "Done" and await row.get_attribute("class") == "ok"
        else:
            assert result != "Done" and await row.get_attribute("class") == "failed", result
    statuses = [await sql.fetchval("SELECT status FROM comment WHERE id = $1", c) for c, _ in items]
    assert statuses == ["rejected", "rejected", "published"]
    await axe_scan(page, "console bulk results")
    await screenshots(page, "console-bulk")


async def test_a_suspension_blocks_the_next_post(client: httpx.AsyncClient, forum_server: Any, context: Any) -> None:
    origin = forum_server.origin
    slug = await _topic()
    reader = await _register(origin)
    async with httpx.AsyncClient(base_url=origin, headers=_bearer(reader)) as api:
        r = await api.post(f"/api/topics/{slug}/comments", json={"body": "Before: we tried a calm talk."})
        assert r.status_code == 201, r.text
    page = await context.new_page()
    _accept_confirmations(page)
    await _sign_in(page, origin, await _account("moderator"))
    await page.goto(f"{origin}/console/people/{reader['user']['id']}")
    await page.get_by_label("Reason").fill("Repeated insults after a warning.")
    await page.get_by_role("button", name="Suspend").click()
    await page.get_by_text("The account is suspended.").wait_for()
    async with httpx.AsyncClient(base_url=origin, headers=_bearer(reader)) as api:
        r = await api.post(f"/api/topics/{slug}/comments", json={"body": "After: one more try."})
        assert r.status_code in (401, 403), r.text
    assert await sql.fetchval("SELECT count(*) FROM comment WHERE body = 'After: one more try.'") == 0
    assert await sql.fetchval("SELECT status FROM forum_user WHERE id = $1", reader["user"]["id"]) == "suspended"


async def test_a_rule_change_applies_to_the_next_post_and_the_try_box_agrees(
        client: httpx.AsyncClient, forum_server: Any, context: Any) -> None:
    origin = forum_server.origin
    slug = await _topic()
    word = "zorbflax" + "".join(chr(97 + int(c, 16)) for c in uuid.uuid4().hex[:6])  # letters only
    reader = await _register(origin)
    admin = await _register(origin, "admin")
    async with httpx.AsyncClient(base_url=origin, headers=_bearer(admin)) as api:
        before = (await api.get("/api/moderation/rules")).json()
    try:
        async with httpx.AsyncClient(base_url=origin, headers=_bearer(reader)) as api:
            r = await api.post(f"/api/topics/{slug}/comments", json={"body": f"We found {word} in his room."})
            assert r.status_code == 201, r.text
        page = await context.new_page()
        await _sign_in(page, origin, await _account("admin"))
        await page.goto(f"{origin}/console/rules")
        banned = page.get_by_label("Banned words")
        await banned.fill(((await banned.input_value()) + "\n" + word).strip())
        await page.get_by_role("button", name="Save the rules").click()
        await page.get_by_text("The rules are saved.").wait_for()
        await page.get_by_label("A text to try").fill(f"Is {word.upper()} safe for a teenager?")
        await page.get_by_role("button", name="Try it").click()
        verdict = page.get_by_role("status").filter(has_text="It would")
        await verdict.wait_for()
        assert await verdict.get_attribute("data-outcome") == "refused"
        assert word in (await verdict.inner_text()).lower()
        async with httpx.AsyncClient(base_url=origin, headers=_bearer(reader)) as api:
            r = await api.post(f"/api/topics/{slug}/comments", json={"body": f"Is {word.upper()} safe for a teenager?"})
            assert r.status_code in (400, 403, 422), r.text
        # a text without the word: the box's verdict for a new reader is what the post then gets
        await page.get_by_label("A text to try").fill("Is it safe for a teenager to stay out late?")
        await page.get_by_label("Written by").select_option("new_reader")
        await page.get_by_role("button", name="Try it").click()
        outcome = await page.locator(".verdict").get_attribute("data-outcome")
        assert outcome in ("published", "pending")
        async with httpx.AsyncClient(base_url=origin, headers=_bearer(reader)) as api:
            r = await api.post(f"/api/topics/{slug}/comments",
                               json={"body": "Is it safe for a teenager to stay out late?"})
            assert r.status_code == 201 and r.json()["status"] == outcome, r.text
    finally:
        async with httpx.AsyncClient(base_url=origin, headers=_bearer(admin)) as api:
            keep = {k: before[k] for k in ("banned_words", "suspect_words", "crisis_words", "max_links_untrusted",
                                           "trusted_after_approved", "flag_hide_threshold", "edit_window_minutes",
                                           "premoderate_all", "crisis_message")}
            assert (await api.put("/api/moderation/rules", json=keep)).status_code == 200


async def test_a_coach_claims_and_answers_a_crisis_question_and_the_asker_is_notified(
        client: httpx.AsyncClient, forum_server: Any, context: Any) -> None:
    origin = forum_server.origin
    slug = await _topic("Worries at night")
    word = "hopeless" + "".join(chr(97 + int(c, 16)) for c in uuid.uuid4().hex[:6])
    admin = await _register(origin, "admin")
    asker = await _register(origin)
    async with httpx.AsyncClient(base_url=origin, headers=_bearer(admin)) as api:
        before = (await api.get("/api/moderation/rules")).json()
        keep = {k: before[k] for k in ("banned_words", "suspect_words", "crisis_words", "max_links_untrusted",
                                       "trusted_after_approved", "flag_hide_threshold", "edit_window_minutes",
                                       "premoderate_all", "crisis_message")}
        r = await api.put("/api/moderation/rules", json={**keep, "crisis_words": [*keep["crisis_words"], word]})
        assert r.status_code == 200, r.text
    try:
        question = f"I feel {word} since my daughter left. What can I do? ({slug})"
        async with httpx.AsyncClient(base_url=origin, headers=_bearer(asker)) as api:
            r = await api.post(f"/api/topics/{slug}/comments", json={"body": question, "kind": "question"})
            assert r.status_code == 201, r.text
            question_id = r.json()["id"]
        page = await context.new_page()
        await _sign_in(page, origin, await _account("coach"))
        await page.goto(f"{origin}/console/coach")
        row = page.locator("li.queue-row.urgent").filter(has_text=slug).first
        await row.wait_for()
        assert await page.locator("li.queue-row").first.get_attribute("class") == "queue-row urgent"
        await row.get_by_role("button", name="I will take this").click()
        await page.get_by_text("It is yours for the next few minutes.").wait_for()
        row = page.locator("li.queue-row.urgent").filter(has_text=slug).first
        await row.get_by_label("Your answer").fill("You are not alone. **Call us tonight**, we are here.")
        await row.get_by_role("button", name="Send the answer").click()
        await page.get_by_text("Your answer is posted.").wait_for()
        async with httpx.AsyncClient(base_url=origin, headers=_bearer(asker)) as api:
            notes = (await api.get("/api/me/notifications")).json()
        answer_id = await sql.fetchval("SELECT id FROM comment WHERE parent = $1", question_id)
        assert answer_id is not None
        assert any(n["comment_id"] == answer_id and n["kind"] in ("answer", "reply") for n in notes["items"]), notes
        assert notes["unread_count"] >= 1
    finally:
        async with httpx.AsyncClient(base_url=origin, headers=_bearer(admin)) as api:
            assert (await api.put("/api/moderation/rules", json=keep)).status_code == 200


async def test_a_post_without_a_valid_csrf_token_is_refused(client: httpx.AsyncClient, forum_server: Any,
                                                            context: Any) -> None:
    origin = forum_server.origin
    page = await context.new_page()
    await _sign_in(page, origin, await _account("moderator"))
    await page.goto(f"{origin}/console/rules")
    send = """async ([token]) => {
        const body = new URLSearchParams({body: "Is this fine?", author: "guest"});
        if (token !== null) body.set("_csrf_token", token);
        const r = await fetch("/console/rules/try", {method: "POST", body, credentials: "same-origin"});
        return r.status;
    }"""
    assert await page.evaluate(send, [None]) == 403
    assert await page.evaluate(send, ["forged-" + "0" * 40]) == 403
    token = await page.locator("input[name=_csrf_token]").first.input_value()
    assert await page.evaluate(send, [token]) == 200  # the same request with the page's token goes through


async def test_an_approval_in_the_console_shows_live_in_a_readers_widget(
        client: httpx.AsyncClient, forum_server: Any, host_site: Any, browser: Any, context: Any) -> None:
    from playwright.async_api import expect

    from tests.browser.test_widget import host_page

    origin = forum_server.origin
    slug = await _topic("Talking with your teenager about alcohol")
    comment_id, item_id = await _guest_comment(origin, slug, f"Our first talk went well, thank you ({slug}).")
    url = host_page(host_site, forum_server, f"console-live-{slug}.html", slug=slug)
    reader_context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        reader = await reader_context.new_page()
        await reader.goto(url)
        frame = reader.frame_locator("#forum-thread iframe")
        await expect(frame.get_by_role("heading", level=2).first).to_be_visible(timeout=15000)
        await expect(frame.get_by_text(f"Our first talk went well, thank you ({slug}).")).to_have_count(0)
        page = await context.new_page()
        await _sign_in(page, origin, await _account("moderator"))
        await page.goto(f"{origin}/console/queue/items/{item_id}")
        await page.get_by_role("button", name="Approve", exact=True).click()
        await page.get_by_text("Approved.").wait_for()
        # live, without a reload: the widget offers the new comment (it never moves the text being read)
        await frame.get_by_role("button", name="Show 1 new comment").click(timeout=15000)
        await expect(frame.locator(f"#comment-{comment_id}")).to_contain_text("Our first talk went well")
    finally:
        await reader_context.close()
