"""The durable email outbox and its sender (email, and the on-call webhook for urgent items).

Writers enqueue rows in `email_outbox` inside their own transaction (a notification and its
email commit together, or neither). A background `Sender` in every process claims due rows
with `FOR UPDATE SKIP LOCKED` (so processes never send the same row at once), reads the
address at send time (an erased or changed address is honoured), sends with aiosmtplib and
records the outcome in the row: retries back off exponentially and give up after
`MAX_ATTEMPTS`; all state is in the table, so a restart loses nothing.

Mail is discreet: no article title, no quoted text, only a sentence and a link. No email
address is ever written to the table, a log line or an error.

The same outbox carries the on-call webhook (`kind = 'webhook'`, no user): a JSON body that
chat and pager bridges accept (`{"text": ...}`: an urgent item is waiting, and the console
link; never the text or the person), POSTed to FORUM_URGENT_WEBHOOK_URL (read at send time,
never stored) and signed with HMAC-SHA256 under FORUM_URGENT_WEBHOOK_SECRET:
`X-Forum-Timestamp: <unix seconds>` and `X-Forum-Signature: sha256=<hex>` over
`<timestamp>.<raw body>`. A 2xx answer is delivery; anything else is retried like email.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import httpx

from forum import sql
from forum.notifications import unsubscribe
from forum.settings import Settings
from forum.tasks import cancel_and_wait

log = logging.getLogger("forum.mail")

MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 30.0  # 30 s, 1 min, 2 min, 4 min, 8 min between attempts
BACKOFF_MAX_S = 3600.0
CLAIM_LEASE_S = 120  # a claimed row is skipped by other senders for this long
BATCH = 20
SEND_TIMEOUT_S = 30.0
WEBHOOK_TIMEOUT_S = 10.0
WEBHOOK = "webhook"  # the outbox kind of an on-call alert; every other kind is an email

_settings: Settings | None = None

SUBJECTS = {
    "reply": "You have a new reply on {site}",
    "answer": "A coach has answered you on {site}",
    "accepted": "Your answer was accepted on {site}",
    "moderation": "A moderator reviewed your comment on {site}",
    "urgent": "Someone may need help now on {site}",
}
_EMAILISH = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")


def configure(settings: Settings | None) -> None:
    """Called at start-up; `None` (or settings without SMTP) turns mail off."""
    global _settings
    _settings = settings


def enabled() -> bool:
    return _settings is not None and _settings.mail_enabled


def webhook_enabled() -> bool:
    return _settings is not None and _settings.urgent_webhook_enabled


def link(path: str, **query: str) -> str:
    """An absolute link into the site (FORUM_PUBLIC_URL may carry a path prefix): every
    link an email carries is built here."""
    if _settings is None:
        raise RuntimeError("mail is not configured (configure() was not called)")
    return _settings.public_link(path, **query)


def console_url() -> str:
    """Where coaches and moderators act on urgent items."""
    return link("/console")


def site_and_url() -> tuple[str, str]:
    if _settings is None:
        raise RuntimeError("mail is not configured (configure() was not called)")
    return _settings.site_name, _settings.public_url


def notification_text(kind: str) -> tuple[str, str]:
    site, _ = site_and_url()
    subject = SUBJECTS.get(kind, "You have a new notification on {site}").format(site=site)
    if kind == "urgent":  # to coaches: nothing about the post or the person, only where to go
        body = (
            f"Hello,\n\n{subject}. An urgent item is waiting for a coach.\n\n"
            f"Open the console to see it and claim it:\n{console_url()}\n\n"
            f"You receive this email because you are a coach on {site} and turned on email "
            f"notifications. You can turn them off in your account settings:\n{link('/account')}\n"
        )
        return subject, body
    body = (
        f"Hello,\n\n{subject}.\n\nSign in to read it:\n{link('/notifications')}\n\n"
        f"You receive this email because you turned on email notifications on {site}. "
        f"You can turn them off in your account settings:\n{link('/account')}\n"
    )
    return subject, body


async def enqueue_notification(notification_id: int, user_id: int, kind: str) -> None:
    """Queue the email of a notification for a user who opted in and has an address.

    Runs in the notification's transaction; the unique `notification` column makes it at
    most one email per notification."""
    subject, body = notification_text(kind)
    await sql.execute(
        """
        INSERT INTO email_outbox (notification, "user", kind, subject, body, attempts, next_attempt_at, created_at)
        SELECT $1, u.id, 'notification', $3, $4, 0, now(), now()
          FROM forum_user u
         WHERE u.id = $2 AND u.notify_email AND u.email IS NOT NULL AND u.status <> 'erased'
        ON CONFLICT (notification) DO NOTHING
        """,
        notification_id, user_id, subject, body,
    )


async def enqueue(user_id: int, kind: str, subject: str, body: str, *,
                  confirmation: int | None = None) -> int | None:
    """Queue an email that is not a notification (a password reset link). `confirmation`:
    an `email_confirmation` row; the email goes to its address, not to the account's."""
    if not enabled():
        return None
    result: int | None = await sql.fetchval(
        'INSERT INTO email_outbox ("user", kind, subject, body, attempts, next_attempt_at, created_at, confirmation)'
        " VALUES ($1, $2, $3, $4, 0, now(), now(), $5) RETURNING id",
        user_id, kind, subject, body, confirmation,
    )
    return result


def webhook_payload() -> str:
    """The on-call alert: chat and pager bridges read `text`. No text, no person."""
    site, _ = site_and_url()
    return json.dumps({"text": f"An urgent item is waiting on {site}: {console_url()}",
                       "event": "urgent_item", "url": console_url()})


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 under the shared secret over `<timestamp>.<body>`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


async def enqueue_webhook() -> int | None:
    """Queue an on-call alert (in the caller's transaction), when the webhook is configured."""
    if not webhook_enabled():
        return None
    result: int | None = await sql.fetchval(
        'INSERT INTO email_outbox ("user", kind, subject, body, attempts, next_attempt_at, created_at)'
        " VALUES (NULL, $1, 'urgent item', $2, 0, now(), now()) RETURNING id",
        WEBHOOK, webhook_payload(),
    )
    return result


async def pending_count() -> int:
    return int(await sql.fetchval(
        "SELECT count(*) FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL"))


def backoff_seconds(attempts: int) -> float:
    """Delay before the next try after `attempts` failed ones."""
    return float(min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S))


def scrub(text: str) -> str:
    """An SMTP error without any address in it (servers quote the recipient)."""
    return _EMAILISH.sub("<address>", text)[:500]


# ---------------------------------------------------------------- SMTP


@dataclass(frozen=True)
class SmtpConfig:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # implicit TLS (smtps://)
    start_tls: bool | None  # None = when the server offers it

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        """`smtp://[user:pass@]host[:port][?starttls=required|off]` or `smtps://...`."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("FORUM_SMTP_URL must look like smtp://user:pass@host:port or smtps://...")
        use_tls = parts.scheme == "smtps"
        mode = (parse_qs(parts.query).get("starttls") or [""])[0].lower()
        start_tls: bool | None = None
        if mode in ("required", "on", "true", "1"):
            start_tls = True
        elif mode in ("off", "false", "0"):
            start_tls = False
        if use_tls:
            start_tls = False
        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if use_tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=use_tls,
            start_tls=start_tls,
        )


class Sender:
    """Delivers due outbox rows (email and webhooks); one per process, any number of processes."""

    def __init__(self, settings: Settings, poll_interval_s: float = 2.0):
        if not (settings.mail_enabled or settings.urgent_webhook_enabled):
            raise ValueError("the outbox sender needs FORUM_SMTP_URL and FORUM_MAIL_FROM, or the urgent webhook")
        self.smtp = SmtpConfig.from_url(settings.smtp_url) if settings.smtp_url and settings.mail_from else None
        self.mail_from = settings.mail_from or ""
        self.domain = self.mail_from.rpartition("@")[2] or None
        self.webhook_url = settings.urgent_webhook_url if settings.urgent_webhook_enabled else None
        self.webhook_secret = settings.urgent_webhook_secret or ""
        # rows of a kind this process cannot deliver stay queued for one that can
        self.sends_email, self.sends_webhooks = self.smtp is not None, self.webhook_url is not None
        self.settings = settings
        self.poll_interval_s = poll_interval_s
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="forum-mail-sender")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _run(self) -> None:
        while True:
            try:
                while await self.run_once() == BATCH:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database away: try again next round
                log.warning("mail sender round failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):  # no wake-up: poll anyway
                await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
            self._wake.clear()

    async def _claim(self) -> list[Any]:
        """Take up to BATCH due rows; the lease keeps other senders off them while we send."""
        return await sql.fetch(
            """
            WITH due AS (
                SELECT id FROM email_outbox
                 WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
                   AND CASE WHEN kind = 'webhook' THEN $4::bool ELSE $3::bool END
                 ORDER BY next_attempt_at, id
                 LIMIT $1
                 FOR UPDATE SKIP LOCKED
            )
            UPDATE email_outbox o
               SET attempts = o.attempts + 1, next_attempt_at = now() + $2 * interval '1 second'
              FROM due WHERE o.id = due.id
            RETURNING o.id, o."user", o.kind, o.subject, o.body, o.attempts, o.confirmation
            """,
            BATCH, CLAIM_LEASE_S, self.sends_email, self.sends_webhooks,
        )

    async def run_once(self) -> int:
        """One round: claim due rows and try each once. Returns how many were claimed."""
        rows = await self._claim()
        for row in rows:
            await self._deliver(row)
        return len(rows)

    async def _failed(self, row: Any, error: str) -> None:
        """An attempt failed: try again later, or give up after MAX_ATTEMPTS."""
        if row["attempts"] >= MAX_ATTEMPTS:
            await sql.execute(
                "UPDATE email_outbox SET failed_at = now(), last_error = $2 WHERE id = $1",
                row["id"], error)
            log.warning("%s %s given up after %d attempts (%s)", row["kind"], row["id"], row["attempts"], error)
        else:
            await sql.execute(
                "UPDATE email_outbox SET next_attempt_at = now() + $2 * interval '1 second',"
                " last_error = $3 WHERE id = $1",
                row["id"], backoff_seconds(row["attempts"]), error)
            log.info("%s %s attempt %d failed (%s); will retry", row["kind"], row["id"], row["attempts"], error)

    async def _post_webhook(self, row: Any) -> None:
        """POST the alert, signed; the URL and the secret come from the settings, now."""
        if self.webhook_url is None:
            raise RuntimeError("unexpected: a webhook row claimed without a webhook URL")
        body = row["body"].encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": "forum-urgent-webhook",
                   "X-Forum-Event": "urgent_item", "X-Forum-Delivery": str(row["id"]),
                   "X-Forum-Timestamp": timestamp,
                   "X-Forum-Signature": webhook_signature(self.webhook_secret, timestamp, body)}
        try:
            async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_S, follow_redirects=False) as http:
                response = await http.post(self.webhook_url, content=body, headers=headers)
        except (httpx.HTTPError, OSError) as exc:
            # the class only: the URL may carry a token (Slack, Teams) and must not reach a log
            await self._failed(row, type(exc).__name__)
            return
        if not 200 <= response.status_code < 300:
            await self._failed(row, f"HTTP {response.status_code}")
            return
        await sql.execute(
            "UPDATE email_outbox SET sent_at = now(), last_error = NULL WHERE id = $1", row["id"])

    async def _deliver(self, row: Any) -> None:
        if row["kind"] == WEBHOOK:
            await self._post_webhook(row)
            return
        if self.smtp is None:
            raise RuntimeError("unexpected: an email claimed without SMTP settings")
        recipient = await sql.fetchrow(
            "SELECT email, notify_email FROM forum_user WHERE id = $1 AND status <> 'erased'", row["user"])
        address = recipient["email"] if recipient is not None else None
        if row["confirmation"] is not None:  # a confirmation link goes to the address it confirms
            address = await sql.fetchval(
                "SELECT email FROM email_confirmation WHERE id = $1 AND used_at IS NULL AND expires_at > now()",
                row["confirmation"]) if recipient is not None else None
        if row["kind"] == "notification" and recipient is not None and not recipient["notify_email"]:
            address = None  # opted out since the email was queued
        if not address:
            await sql.execute(
                "UPDATE email_outbox SET failed_at = now(), last_error = $2 WHERE id = $1",
                row["id"], "no address or email notifications turned off")
            return
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = address
        message["Subject"] = row["subject"]
        message["Message-ID"] = make_msgid(domain=self.domain)
        body = row["body"]
        if row["kind"] == "notification":
            # RFC 8058 one-click unsubscribe, bound to this account and this address: made
            # here, at send time, because only now is the address known
            stop = self.settings.public_link("/unsubscribe", token=unsubscribe.token_for(row["user"], address))
            message["List-Unsubscribe"] = f"<{stop}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            body += f"\nTo stop these emails now, open this link (no need to sign in):\n{stop}\n"
        message.set_content(body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.smtp.hostname, port=self.smtp.port,
                username=self.smtp.username, password=self.smtp.password,
                use_tls=self.smtp.use_tls, start_tls=self.smtp.start_tls,
                timeout=SEND_TIMEOUT_S,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._failed(row, scrub(f"{type(exc).__name__}: {exc}"))
            return
        await sql.execute(
            "UPDATE email_outbox SET sent_at = now(), last_error = NULL WHERE id = $1", row["id"])


async def check_server(settings: Settings, timeout_s: float = 10.0) -> str:
    """Connect to the configured SMTP server as the sender would (TLS, STARTTLS, login) and
    leave without sending: `forum check`. Returns `host:port`; raises with a reason (never
    an address or password in it) when the server cannot be used."""
    if not (settings.smtp_url and settings.mail_from):
        raise ValueError("mail is not configured")
    smtp = SmtpConfig.from_url(settings.smtp_url)
    client = aiosmtplib.SMTP(hostname=smtp.hostname, port=smtp.port, use_tls=smtp.use_tls,
                             start_tls=smtp.start_tls, username=smtp.username, password=smtp.password,
                             timeout=timeout_s)
    try:
        await client.connect()
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise ConnectionError(scrub(f"{type(exc).__name__}: {exc}")) from None
    with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):  # we are leaving anyway
        await client.quit()
    return f"{smtp.hostname}:{smtp.port}"
