"""The reader's account pages in a real browser (issue 17): every flow an email starts,
from the email caught by a local SMTP server to the page it opens.

One `forum serve` process with mail on (a local aiosmtpd server catches every email), the
blog on another origin. Each test makes its own accounts through the API and checks: no
request leaves the forum's and the blog's origins, axe finds nothing serious on each page,
screenshots at 1280 and 375 px go to tests/browser/artifacts/."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from aiosmtpd.controller import Controller

from tests.browser.conftest import (
    ForumServer,
    HostSite,
    assert_origins,
    axe_scan,
    require_browser,
    screenshots,
    start_forum,
    stop_forum,
)
from tests.helpers import free_port

PASSWORD = "quiet river at dawn 7"
NEW_PASSWORD = "a different morning 42"
_URL = re.compile(r"https?://[^\s<>]+")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"

    async def wait_for(self, to: str, subject_part: str) -> email.message.EmailMessage:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for message in self.messages:
                if message["To"] == to and subject_part in str(message["Subject"]):
                    return message
            await asyncio.sleep(0.2)
        raise AssertionError(f"no email to {to} about {subject_part!r}: {[str(m['Subject']) for m in self.messages]}")


def body_links(message: email.message.EmailMessage) -> list[str]:
    return _URL.findall(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


@dataclass
class Site:
    server: ForumServer
    inbox: Inbox
    host: HostSite
    database_url: str

    @property
    def origin(self) -> str:
        return self.server.origin

    def register(self, *, email_address: str | None = None, coach: bool = False) -> dict[str, Any]:
        handle = f"r_{uuid.uuid4().hex[:10]}"
        body: dict[str, Any] = {"handle": handle, "password": PASSWORD}
        if email_address:
            body["email"] = email_address
        with self.server.api() as api:
            r = api.post("/api/auth/register", json=body)
            assert r.status_code == 201, r.text
        return {"handle": handle, "token": r.json()["token"], "id": r.json()["user"]["id"], "email": email_address}

    async def sql(self, query: str, *args: Any) -> Any:
        conn = await asyncpg.connect(self.database_url)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    async def confirmed(self, *, coach: bool = False) -> dict[str, Any]:
        """An account with a confirmed address (through the emailed link and the API)."""
        address = f"{uuid.uuid4().hex[:10]}@example.net"
        account = self.register(email_address=address)
        message = await self.inbox.wait_for(address, "Confirm your email")
        token = next(link for link in body_links(message) if "/confirm-email?" in link).split("token=")[1]
        with self.server.api() as api:
            assert api.post("/api/auth/confirm-email", json={"token": token}).status_code == 204
        if coach:
            await self.sql("UPDATE forum_user SET role = 'coach' WHERE id = $1", account["id"])
        return account


@pytest.fixture(scope="module")
def site(migrated: str, host_site: HostSite) -> Iterator[Site]:
    require_browser()
    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    server = start_forum(migrated, host_site.origin, FORUM_SMTP_URL=f"smtp://127.0.0.1:{port}",
                         FORUM_MAIL_FROM="forum@example.org", FORUM_SITE_NAME="Family Forum")
    try:
        yield Site(server, inbox, host_site, migrated)
    finally:
        stop_forum(server)
        smtp.stop()


async def signed_in(page: Any, site: Site, token: str) -> None:
    await page.goto(f"{site.origin}/signin")
    await page.evaluate("t => localStorage.setItem('forum.token', t)", token)


async def check_page(page: Any, name: str) -> None:
    await axe_scan(page, name)
    await screenshots(page, f"account-{name}")


async def test_reset_by_emailed_link_then_sign_in(context: Any, site: Site) -> None:
    account = await site.confirmed()
    page = await context.new_page()
    await page.goto(f"{site.origin}/signin")
    await check_page(page, "signin")
    await page.get_by_role("link", name="Forgotten your password?").click()
    await page.wait_for_url("**/reset")
    await page.get_by_label("Your name on the forum, or your email address").fill(account["email"])
    await check_page(page, "reset-ask")
    await page.get_by_role("button", name="Send me a link").click()
    await page.get_by_role("heading", name="Check your email").wait_for()

    message = await site.inbox.wait_for(account["email"], "Reset your password")
    assert message["List-Unsubscribe"] is None  # not a subscription
    link = next(u for u in body_links(message) if "/reset?token=" in u)
    assert link.startswith(site.origin + "/reset?token=")
    await page.goto(link)
    assert "token=" not in page.url  # taken out of the address bar and history
    await page.get_by_label("New password").fill("password")  # a common one: the API's own message
    await page.get_by_role("button", name="Save the new password").click()
    summary = page.locator(".error-summary")
    await summary.wait_for()
    assert "common" in (await summary.inner_text()).lower()
    await check_page(page, "reset-form-error")
    await page.get_by_label("New password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Save the new password").click()
    await page.get_by_role("heading", name="Your password is changed").wait_for()
    await check_page(page, "reset-done")
    await page.get_by_role("link", name="Sign in").last.click()
    await page.get_by_label("Your name on the forum, or your email address").fill(account["handle"])
    await page.get_by_label("Password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/account")
    await page.get_by_text(f"You are signed in as {account['handle']}.").wait_for()
    assert_origins(context.requests, site.origin)


async def test_expired_reset_link_explains_and_offers_a_new_one(context: Any, site: Site) -> None:
    account = await site.confirmed()
    with site.server.api() as api:
        assert api.post("/api/auth/password-reset", json={"login": account["handle"]}).status_code == 202
    message = await site.inbox.wait_for(account["email"], "Reset your password")
    link = next(u for u in body_links(message) if "/reset?token=" in u)
    await site.sql("UPDATE password_reset SET expires_at = now() - interval '1 minute' WHERE \"user\" = $1",
                   account["id"])
    page = await context.new_page()
    await page.goto(link)
    await page.get_by_label("New password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Save the new password").click()
    await page.get_by_role("heading", name="This link no longer works").wait_for()
    assert await page.get_by_role("button", name="Send me a link").is_visible()
    assert "error" not in (await page.locator("main").inner_text()).lower()
    await check_page(page, "reset-expired")
    assert_origins(context.requests, site.origin)


async def test_email_confirmation_link(context: Any, site: Site) -> None:
    address = f"{uuid.uuid4().hex[:10]}@example.net"
    account = site.register(email_address=address)
    message = await site.inbox.wait_for(address, "Confirm your email")
    link = next(u for u in body_links(message) if "/confirm-email?token=" in u)
    page = await context.new_page()
    await page.goto(link)
    await page.get_by_role("heading", name="Your email address is confirmed").wait_for()
    await check_page(page, "confirm-done")
    with site.server.api(account["token"]) as api:
        assert api.get("/api/me").json()["email"] == address
    await page.goto(link)  # used: a plain explanation
    await page.get_by_role("heading", name="This link no longer works").wait_for()
    await check_page(page, "confirm-used")
    assert_origins(context.requests, site.origin)


async def _replied(site: Site, reader: dict[str, Any], *, with_url: bool) -> tuple[str, int]:
    """A topic (with an article page on the blog or not), the reader's comment and a coach's reply."""
    slug = f"t-{uuid.uuid4().hex[:10]}"
    url = site.host.add(f"{slug}.html", "<!doctype html><html lang=en><title>Article</title><h1>Article</h1>"
                        "<p id=comment-0>Article text</p></html>") if with_url else None
    await site.sql("INSERT INTO topic (slug, kind, title, url, body, body_html, comments_mode, status, comment_count,"
                   " version, created_at, updated_at) VALUES ($1, 'article', 'An article', $2, '', '', 'open',"
                   " 'published', 0, 1, now(), now())", slug, url)
    coach = site.register()
    await site.sql("UPDATE forum_user SET role = 'coach' WHERE id = ANY($1::bigint[])", [coach["id"], reader["id"]])
    with site.server.api(reader["token"]) as api:
        r = api.post(f"/api/topics/{slug}/comments", json={"body": "my question about the evenings"})
        assert r.status_code == 201, r.text
    with site.server.api(coach["token"]) as api:
        r = api.post(f"/api/topics/{slug}/comments", json={"body": "a kind reply", "parent_id": r.json()["id"]})
        assert r.status_code == 201, r.text
    return url or slug, int(r.json()["id"])


async def test_notification_read_from_its_page_leads_to_its_comment(context: Any, site: Site) -> None:
    reader = site.register()
    article, reply_id = await _replied(site, reader, with_url=True)
    page = await context.new_page()
    await page.goto(f"{site.origin}/notifications")
    await page.get_by_role("link", name="Sign in").first.wait_for()  # signed out: asked to sign in
    await signed_in(page, site, reader["token"])
    await page.goto(f"{site.origin}/notifications")
    await page.get_by_text("You have 1 new notification.").wait_for()
    assert await page.locator(".what").filter(has_text="Someone replied to you").is_visible()
    assert "kind reply" not in await page.locator("main").inner_text()  # discreet: no text quoted
    await check_page(page, "notifications")
    await page.get_by_role("link", name=re.compile("^Read it")).click()
    await page.wait_for_url(f"{article}#comment-{reply_id}")
    with site.server.api(reader["token"]) as api:
        body = api.get("/api/me/notifications").json()
    assert body["unread_count"] == 0 and body["items"][0]["read_at"] is not None
    assert_origins(context.requests, site.origin, site.host.origin)


async def test_notification_without_an_article_opens_the_thread_page(context: Any, site: Site) -> None:
    reader = site.register()
    slug, reply_id = await _replied(site, reader, with_url=False)
    page = await context.new_page()
    await signed_in(page, site, reader["token"])
    await page.goto(f"{site.origin}/notifications")
    link = page.get_by_role("link", name=re.compile("^Read it"))
    href = await link.get_attribute("href")
    assert href == f"/embed/thread?topic={slug}&comment={reply_id}#comment-{reply_id}"
    response = await page.request.get(site.origin + href)
    assert response.status == 200 and "text/html" in response.headers["content-type"]
    await page.get_by_role("button", name="Mark all as read").click()
    await page.get_by_text("You are all caught up.").wait_for()
    assert_origins(context.requests, site.origin)


async def test_unsubscribe_from_the_email_link_without_signing_in(context: Any, site: Site) -> None:
    reader = await site.confirmed()
    with site.server.api(reader["token"]) as api:
        assert api.patch("/api/me", json={"notify_email": True}).status_code == 200
    await _replied(site, reader, with_url=False)
    message = await site.inbox.wait_for(reader["email"], "new reply")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(message["List-Unsubscribe"]).strip().strip("<>")
    assert link in body_links(message)
    page = await context.new_page()  # a fresh browser: nobody signed in
    await page.goto(link)
    await page.get_by_role("button", name="Stop notification emails").wait_for()
    with site.server.api(reader["token"]) as api:
        assert api.get("/api/me").json()["notify_email"] is True  # opening the page changed nothing
    await check_page(page, "unsubscribe")
    await page.get_by_role("button", name="Stop notification emails").click()
    await page.get_by_role("heading", name="You will get no more notification emails").wait_for()
    await check_page(page, "unsubscribe-done")
    with site.server.api(reader["token"]) as api:
        assert api.get("/api/me").json()["notify_email"] is False
    await page.goto(f"{site.origin}/unsubscribe?token=1.{'0' * 32}")
    await page.get_by_role("button", name="Stop notification emails").click()
    await page.get_by_role("heading", name="This link no longer works").wait_for()
    assert_origins(context.requests, site.origin)


async def test_account_page_download_then_delete(context: Any, site: Site) -> None:
    reader = await site.confirmed()
    page = await context.new_page()
    await signed_in(page, site, reader["token"])
    await page.goto(f"{site.origin}/account")
    await page.get_by_text(f"You are signed in as {reader['handle']}.").wait_for()
    await check_page(page, "settings")
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Download my data").click()
    download = await waiting.value
    data = json.loads((await download.path()).read_text("utf-8"))
    assert data["profile"]["handle"] == reader["handle"] and "exported_at" in data

    await page.get_by_role("button", name="I want to delete my account").click()
    await page.get_by_role("heading", name="What deleting removes").wait_for()
    await check_page(page, "delete-open")
    await page.get_by_role("button", name="Delete my account for good").click()  # nothing ticked: refused
    await page.locator(".error-summary").wait_for()
    await page.get_by_label("Your current password").last.fill("not my password at all")
    await page.get_by_label("I understand that my account is deleted for good").check()
    await page.get_by_role("button", name="Delete my account for good").click()
    await page.get_by_text("Does not match.").first.wait_for()
    with site.server.api(reader["token"]) as api:
        assert api.get("/api/me").status_code == 200  # still there
    await page.get_by_label("Your current password").last.fill(PASSWORD)
    await page.get_by_role("button", name="Delete my account for good").click()
    await page.get_by_role("heading", name="Your account is deleted").wait_for()
    await check_page(page, "deleted")
    with site.server.api(reader["token"]) as api:
        assert api.get("/api/me").status_code == 401
        assert api.post("/api/auth/login", json={"login": reader["handle"], "password": PASSWORD}).status_code == 401
    assert await page.evaluate("localStorage.getItem('forum.token')") is None
    assert_origins(context.requests, site.origin)


async def test_keyboard_only_sign_in_and_settings(context: Any, site: Site) -> None:
    reader = site.register()
    page = await context.new_page()
    await page.goto(f"{site.origin}/signin?next=/account")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip-link"
    await page.keyboard.press("Enter")
    for _ in range(12):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "login":
            break
    else:
        raise AssertionError("the sign-in field cannot be reached by keyboard")
    await page.keyboard.type(reader["handle"])
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "password"
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/account")
    await page.get_by_text(f"You are signed in as {reader['handle']}.").wait_for()
    # the email notifications checkbox and its save button, by keyboard
    for _ in range(40):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "notify-email":
            break
    else:
        raise AssertionError("the notifications checkbox cannot be reached by keyboard")
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "no visible focus"
    await page.keyboard.press("Space")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.get_by_text("Email notifications are on.").wait_for()
    with site.server.api(reader["token"]) as api:
        assert api.get("/api/me").json()["notify_email"] is True
    assert_origins(context.requests, site.origin)


async def test_every_page_passes_axe_on_a_phone(context: Any, site: Site) -> None:
    page = await context.new_page()
    await page.set_viewport_size({"width": 375, "height": 800})
    for path, name in (("/register", "register"), ("/signin", "signin-phone"), ("/reset?token=x", "reset-form"),
                       ("/confirm-email?token=x", "confirm-bad"), ("/unsubscribe", "unsubscribe-bad"),
                       ("/notifications", "notifications-signed-out"), ("/account", "account-signed-out")):
        r = await page.goto(site.origin + path)
        assert r.status == 200
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        await page.locator("#app > *").first.wait_for()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} scrolls sideways on a phone ({width}px)"
        await check_page(page, name)
    assert_origins(context.requests, site.origin)


async def test_two_step_sign_in_turned_on_then_used(context: Any, site: Site) -> None:
    import pyotp

    reader = site.register()
    page = await context.new_page()
    await signed_in(page, site, reader["token"])
    await page.goto(f"{site.origin}/account")
    await page.get_by_role("button", name="Turn on two-step sign-in").click()
    await page.get_by_role("img", name="QR code to scan with your authenticator app").wait_for()
    secret = await page.locator("section[aria-labelledby=tf-title] li code").inner_text()
    await check_page(page, "twofactor-enrol")
    await page.get_by_label("6-digit code from your app").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Turn it on").click()
    await page.get_by_role("heading", name="Your recovery codes").wait_for()
    codes = await page.locator("ul.codes code").all_inner_texts()
    assert len(codes) == 10
    await page.get_by_text("Two-step sign-in is on. You have 10 recovery codes left.").wait_for()
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.wait_for_url("**/signin")
    await page.get_by_label("Your name on the forum, or your email address").fill(reader["handle"])
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="One more step").wait_for()
    await check_page(page, "signin-second-step")
    await page.get_by_role("button", name="I do not have my phone").click()
    await page.get_by_label("Recovery code").fill(codes[0])
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/notifications")
    await page.get_by_text("You have no notifications yet.").wait_for()
    assert_origins(context.requests, site.origin)
