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
