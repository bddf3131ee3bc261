"""The email outbox: enqueue rules, delivery to a local SMTP server, retry, give-up, gauge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from forum import sql
from forum.notifications import mail
from forum.settings import Settings
from tests.helpers import free_port, make_user
from tests.integration.test_qa_support import make_topic, publish_comment


class Inbox:
    """aiosmtpd handler: answers 451 `fail` times, then accepts and keeps the messages."""

    def __init__(self) -> None:
        self.fail = 0
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail > 0:
            self.fail -= 1
            return f"451 4.3.0 {envelope.rcpt_tos[0]} mailbox busy, try later"
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
async def smtp(settings: Settings) -> AsyncIterator[tuple[Inbox, Settings]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    mail_settings = settings.with_overrides(smtp_url=f"smtp://127.0.0.1:{port}", mail_from="forum@example.org",
                                            site_name="Family Forum", public_url="https://forum.example.org")
    mail.configure(mail_settings)
    try:
        yield inbox, mail_settings
    finally:
        mail.configure(settings)
        controller.stop()


async def _opted_in(email: str) -> Any:
    user = await make_user(email=email)
    await sql.execute("UPDATE forum_user SET notify_email = true WHERE id = $1", user.id)
    return user


async def _outbox() -> list[Any]:
    return await sql.fetch("SELECT * FROM email_outbox ORDER BY id")


async def test_delivery_with_retry_after_a_failure(client: httpx.AsyncClient, smtp: tuple[Inbox, Settings]) -> None:
    inbox, mail_settings = smtp
    a = await _opted_in("parent@example.net")
    topic = await make_topic()
    root = await publish_comment(topic, a, body="my secret worry about my son")
    await publish_comment(topic, await make_user(), parent=root, body="a quoted reply text")
    rows = await _outbox()
    assert len(rows) == 1 and rows[0]["kind"] == "notification" and rows[0]["notification"] is not None
    assert "@" not in rows[0]["subject"] + rows[0]["body"]

    sender = mail.Sender(mail_settings)
    inbox.fail = 1
    assert await sender.run_once() == 1
    row = (await _outbox())[0]
    assert row["sent_at"] is None and row["failed_at"] is None and row["attempts"] == 1
    assert row["last_error"] and "parent@example.net" not in row["last_error"]
    assert inbox.messages == []
    assert await sender.run_once() == 0  # backing off: not due yet

    await sql.execute("UPDATE email_outbox SET next_attempt_at = now()")
    assert await sender.run_once() == 1
    row = (await _outbox())[0]
    assert row["sent_at"] is not None and row["attempts"] == 2
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["parent@example.net"]
    text = envelope.content.decode()
    assert "Subject: You have a new reply on Family Forum" in text
    assert "https://forum.example.org/notifications" in text
    assert "secret worry" not in text and "quoted reply" not in text and "A title" not in text

    await sql.execute("UPDATE email_outbox SET next_attempt_at = now()")
    assert await sender.run_once() == 0  # sent once, never again
    assert len(inbox.messages) == 1


async def test_gives_up_after_the_last_attempt(client: httpx.AsyncClient, smtp: tuple[Inbox, Settings]) -> None:
    inbox, mail_settings = smtp
    a = await _opted_in("tired@example.net")
    topic = await make_topic()
    root = await publish_comment(topic, a)
    await publish_comment(topic, await make_user("coach"), parent=root)
    await sql.execute("UPDATE email_outbox SET attempts = $1", mail.MAX_ATTEMPTS - 1)
    inbox.fail = 1
    await mail.Sender(mail_settings).run_once()
    row = (await _outbox())[0]
    assert row["failed_at"] is not None and row["sent_at"] is None and row["attempts"] == mail.MAX_ATTEMPTS
    assert await mail.pending_count() == 0


async def test_enqueue_rules(client: httpx.AsyncClient, smtp: tuple[Inbox, Settings], settings: Settings) -> None:
    topic = await make_topic()
    opted_out = await make_user(email="quiet@example.net")
    no_email = await make_user()
    await sql.execute("UPDATE forum_user SET notify_email = true WHERE id = $1", no_email.id)
    for owner in (opted_out, no_email):
        root = await publish_comment(topic, owner)
        await publish_comment(topic, await make_user(), parent=root)
    assert await _outbox() == []
    assert await sql.fetchval("SELECT count(*) FROM notification") == 2

    mail.configure(settings)  # no SMTP settings: nothing is queued at all
    a = await _opted_in("someone@example.net")
    root = await publish_comment(topic, a)
    await publish_comment(topic, await make_user(), parent=root)
    assert await _outbox() == []


async def test_address_is_read_at_send_time(client: httpx.AsyncClient, smtp: tuple[Inbox, Settings]) -> None:
    inbox, mail_settings = smtp
    a = await _opted_in("old@example.net")
    topic = await make_topic()
    root = await publish_comment(topic, a)
    await publish_comment(topic, await make_user(), parent=root)
    await sql.execute("UPDATE forum_user SET email = 'new@example.net' WHERE id = $1", a.id)
    await mail.Sender(mail_settings).run_once()
    assert [m.rcpt_tos for m in inbox.messages] == [["new@example.net"]]


async def test_background_sender_and_pending_gauge(client: httpx.AsyncClient, smtp: tuple[Inbox, Settings]) -> None:
    inbox, mail_settings = smtp
    a = await _opted_in("gauge@example.net")
    topic = await make_topic()
    root = await publish_comment(topic, a)
    await publish_comment(topic, await make_user(), parent=root)
    body = (await client.get("/metrics")).text
    assert "forum_email_outbox_pending 1.0" in body

    sender = mail.Sender(mail_settings, poll_interval_s=0.1)
    sender.start()
    try:
        for _ in range(50):
            if inbox.messages:
                break
            await asyncio.sleep(0.1)
    finally:
        await sender.stop()
    assert len(inbox.messages) == 1
    assert "forum_email_outbox_pending 0.0" in (await client.get("/metrics")).text


def test_smtp_url_parsing() -> None:
    c = mail.SmtpConfig.from_url("smtps://user%40x:p%3Ass@mail.example.org")
    assert (c.hostname, c.port, c.username, c.password, c.use_tls) == ("mail.example.org", 465, "user@x", "p:ss", True)
    c = mail.SmtpConfig.from_url("smtp://mail.example.org:2525?starttls=required")
    assert (c.port, c.use_tls, c.start_tls) == (2525, False, True)
    with pytest.raises(ValueError):
        mail.SmtpConfig.from_url("http://mail.example.org")
    assert mail.scrub("550 <a.b@c.org> unknown") == "550 <<address>> unknown"
