"""Links in emails (one join under a path prefix), one-click unsubscribe (RFC 8058), and the
API routes the reader's account pages need (sign out everywhere, erasure with a password,
the article's address on notifications)."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import httpx
import pytest

from forum import sql
from forum.notifications import mail, unsubscribe
from forum.settings import Settings, public_link
from tests.helpers import auth, make_user, unique
from tests.integration.test_mail import Inbox, smtp  # noqa: F401 (the fixture)
from tests.integration.test_qa_support import make_topic, publish_comment

PASSWORD = "a calm evening walk 42"


def test_public_link_joins_under_a_path_prefix() -> None:
    assert public_link("https://example.org/comments/", "/reset", token="a b&c") == \
        "https://example.org/comments/reset?token=a+b%26c"
    assert public_link("https://example.org/comments", "notifications") == "https://example.org/comments/notifications"
    assert public_link("https://example.org", "/account") == "https://example.org/account"
    settings = Settings.from_env({"FORUM_PUBLIC_URL": "https://example.org/comments/"})
    assert settings.public_link("/unsubscribe", token="t") == "https://example.org/comments/unsubscribe?token=t"


async def _opted_in(mail_address: str) -> Any:
    user = await make_user(email=mail_address)
    await sql.execute("UPDATE forum_user SET notify_email = true WHERE id = $1", user.id)
    return user


def _parse(envelope: Any) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[return-value]


async def test_notification_email_unsubscribes_in_one_click(
        client: httpx.AsyncClient, smtp: tuple[Inbox, Settings]) -> None:  # noqa: F811
    inbox, mail_settings = smtp
    prefixed = mail_settings.with_overrides(public_url="https://example.org/comments")
    mail.configure(prefixed)
    parent = await _opted_in("parent@example.net")
    topic = await make_topic()
    root = await publish_comment(topic, parent)
    await publish_comment(topic, await make_user(), parent=root)
    await mail.Sender(prefixed).run_once()
    message = _parse(inbox.messages[0])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = str(message["List-Unsubscribe"])
    assert header.startswith("<https://example.org/comments/unsubscribe?token=") and header.endswith(">")
    link = header[1:-1]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert link in text and "https://example.org/comments/notifications" in text
    assert "https://example.org/comments/account" in text

    # a mail client's RFC 8058 POST, no session, the form body it sends
    path = link.removeprefix("https://example.org/comments")
    r = await client.post(path, content=b"List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200, r.text
    assert await sql.fetchval("SELECT notify_email FROM forum_user WHERE id = $1", parent.id) is False
    # again: same answer (already off)
    assert (await client.post(path)).status_code == 200


async def test_unsubscribe_token_is_bound_to_the_account_and_its_address(client: httpx.AsyncClient) -> None:
    user = await _opted_in("one@example.net")
    other = await _opted_in("two@example.net")
    good = unsubscribe.token_for(user.id, "one@example.net")
    for bad in ("", "abc", f"{user.id}.", f"{other.id}.{good.partition('.')[2]}",
                unsubscribe.token_for(user.id, "old@example.net"), f"{user.id}.{'0' * 32}"):
        r = await client.post("/api/unsubscribe", json={"token": bad})
        assert r.status_code == 400 and "token:" in r.json()["detail"], bad
    assert await sql.fetchval("SELECT count(*) FROM forum_user WHERE notify_email") == 2
    r = await client.post("/api/unsubscribe", json={"token": good})
    assert r.status_code == 200 and r.json()["detail"] == "Email notifications are off."
    assert await sql.fetchval("SELECT notify_email FROM forum_user WHERE id = $1", user.id) is False
    assert await sql.fetchval("SELECT notify_email FROM forum_user WHERE id = $1", other.id) is True
    # the address changed: the old link is dead
    await sql.execute("UPDATE forum_user SET email = 'new@example.net', notify_email = true WHERE id = $1", user.id)
    assert (await client.post("/api/unsubscribe", json={"token": good})).status_code == 400


async def test_transactional_emails_have_no_unsubscribe_and_links_join_the_prefix(
        client: httpx.AsyncClient, smtp: tuple[Inbox, Settings]) -> None:  # noqa: F811
    inbox, mail_settings = smtp
    prefixed = mail_settings.with_overrides(public_url="https://example.org/comments/")
    mail.configure(prefixed)
    user = await make_user(email="forgot@example.net")
    assert (await client.post("/api/auth/password-reset", json={"login": "forgot@example.net"})).status_code == 202
    await mail.Sender(prefixed).run_once()
    message = _parse(inbox.messages[0])
    assert message["List-Unsubscribe"] is None
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "https://example.org/comments/reset?token=" in text and "comments//" not in text
    assert user.id


async def test_notifications_carry_the_articles_address(client: httpx.AsyncClient) -> None:
    reader = await make_user()
    topic = await make_topic()
    await sql.execute("UPDATE topic SET url = 'https://blog.example.org/post-1' WHERE id = $1", topic["id"])
    root = await publish_comment(topic, reader)
    reply = await publish_comment(topic, await make_user(), parent=root)
    items = (await client.get("/api/me/notifications", headers=auth(reader))).json()["items"]
    assert items[0]["topic_url"] == "https://blog.example.org/post-1"
    assert items[0]["comment_id"] == reply["id"] and items[0]["topic_slug"] == topic["slug"]


async def test_sign_out_everywhere(client: httpx.AsyncClient) -> None:
    handle = unique("p")
    r = await client.post("/api/auth/register", json={"handle": handle, "password": PASSWORD})
    first = {"Authorization": f"Bearer {r.json()['token']}"}
    r = await client.post("/api/auth/login", json={"login": handle, "password": PASSWORD})
    second = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await client.get("/api/me", headers=first)).status_code == 200  # signing in kept the first
    assert (await client.post("/api/auth/logout-everywhere", headers=second)).status_code == 204
    assert (await client.get("/api/me", headers=first)).status_code == 401
    assert (await client.get("/api/me", headers=second)).status_code == 401
    assert (await client.post("/api/auth/logout-everywhere")).status_code == 401


@pytest.mark.parametrize("given, status", [(None, 400), ("not my password", 403)])
async def test_erasure_needs_the_password(client: httpx.AsyncClient, given: str | None, status: int) -> None:
    r = await client.post("/api/auth/register", json={"handle": unique("p"), "password": PASSWORD})
    me = {"Authorization": f"Bearer {r.json()['token']}"}
    body = {} if given is None else {"current_password": given}
    r = await client.request("DELETE", "/api/me", headers=me, json=body)
    assert r.status_code == status and r.json()["detail"].startswith("current_password:")
    assert (await client.get("/api/me", headers=me)).status_code == 200  # still there
    r = await client.request("DELETE", "/api/me", headers=me, json={"current_password": PASSWORD})
    assert r.status_code == 204
    assert (await client.get("/api/me", headers=me)).status_code == 401


async def test_pages_name_urls_under_the_public_path_prefix(migrated: str, settings: Settings) -> None:
    """Behind a proxy that serves the forum under /comments and strips the prefix, the pages
    name every asset, link and API call with it (the app itself serves at its root)."""
    from forum.app import create_app
    from forum.frontend import assets

    prefixed = settings.with_overrides(public_url="https://example.org/comments")  # same secrets as the session
    try:
        app = create_app(prefixed)  # no lifespan: the pages need no database
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40001))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            for path in ("/reset", "/account", "/unsubscribe", "/notifications", "/signin", "/register",
                         "/confirm-email"):
                r = await c.get(path)
                assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
                assert f'href="/comments/static/{assets.tree_hash()}/css/base.css"' in r.text
                assert f'src="/comments/static/{assets.tree_hash()}/js/account/main.js"' in r.text
                assert '"base":"/comments"' in r.text and 'href="/comments/account"' in r.text
            r = await c.get(f"/static/{assets.tree_hash()}/js/account/main.js")
            assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    finally:
        assets.set_public_path("")
