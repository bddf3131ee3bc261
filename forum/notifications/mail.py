"""The durable email outbox and its sender.

Writers enqueue rows in `email_outbox` inside their own transaction (a notification and its
email commit together, or neither). A background `Sender` in every process claims due rows
with `FOR UPDATE SKIP LOCKED` (so processes never send the same row at once), reads the
address at send time (an erased or changed address is honoured), sends with aiosmtplib and
records the outcome in the row: retries back off exponentially and give up after
`MAX_ATTEMPTS`; all state is in the table, so a restart loses nothing.

Mail is discreet: no article title, no quoted text, only a sentence and a link. No email
address is ever written to the table, a log line or an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from forum import sql
from forum.settings import Settings
from forum.tasks import cancel_and_wait

log = logging.getLogger("forum.mail")

MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 30.0  # 30 s, 1 min, 2 min, 4 min, 8 min between attempts
BACKOFF_MAX_S = 3600.0
CLAIM_LEASE_S = 120  # a claimed row is skipped by other senders for this long
BATCH = 20
SEND_TIMEOUT_S = 30.0

_settings: Settings | None = None

SUBJECTS = {
    "reply": "You have a new reply on {site}",
    "answer": "A coach has answered you on {site}",
    "accepted": "Your answer was accepted on {site}",
    "moderation": "A moderator reviewed your comment on {site}",
}
_EMAILISH = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")


def configure(settings: Settings | None) -> None:
    """Called at start-up; `None` (or settings without SMTP) turns mail off."""
    global _settings
    _settings = settings


def enabled() -> bool:
    return _settings is not None and _settings.mail_enabled


def site_and_url() -> tuple[str, str]:
    if _settings is None:
        raise RuntimeError("mail is not configured (configure() was not called)")
    return _settings.site_name, _settings.public_url


def notification_text(kind: str) -> tuple[str, str]:
    site, url = site_and_url()
    subject = SUBJECTS.get(kind, "You have a new notification on {site}").format(site=site)
    body = (
        f"Hello,\n\n{subject}.\n\nSign in to read it:\n{url}/notifications\n\n"
        f"You receive this email because you turned on email notifications on {site}. "
        f"You can turn them off in your account settings.\n"
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
    """Delivers due outbox rows; one per process, any number of processes."""

    def __init__(self, settings: Settings, poll_interval_s: float = 2.0):
        if not (settings.smtp_url and settings.mail_from):
            raise ValueError("the mail sender needs FORUM_SMTP_URL and FORUM_MAIL_FROM")
        self.smtp = SmtpConfig.from_url(settings.smtp_url)
        self.mail_from = settings.mail_from
        self.domain = settings.mail_from.rpartition("@")[2] or None
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
                 ORDER BY next_attempt_at, id
                 LIMIT $1
                 FOR UPDATE SKIP LOCKED
            )
            UPDATE email_outbox o
               SET attempts = o.attempts + 1, next_attempt_at = now() + $2 * interval '1 second'
              FROM due WHERE o.id = due.id
            RETURNING o.id, o."user", o.kind, o.subject, o.body, o.attempts, o.confirmation
            """,
            BATCH, CLAIM_LEASE_S,
        )

    async def run_once(self) -> int:
        """One round: claim due rows and try each once. Returns how many were claimed."""
        rows = await self._claim()
        for row in rows:
            await self._deliver(row)
        return len(rows)

    async def _deliver(self, row: Any) -> None:
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
        message.set_content(row["body"])
        try:
            await aiosmtplib.send(
                message,
                hostname=self.smtp.hostname, port=self.smtp.port,
                username=self.smtp.username, password=self.smtp.password,
                use_tls=self.smtp.use_tls, start_tls=self.smtp.start_tls,
                timeout=SEND_TIMEOUT_S,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            error = scrub(f"{type(exc).__name__}: {exc}")
            if row["attempts"] >= MAX_ATTEMPTS:
                await sql.execute(
                    "UPDATE email_outbox SET failed_at = now(), last_error = $2 WHERE id = $1",
                    row["id"], error)
                log.warning("email %s given up after %d attempts (%s)", row["id"], row["attempts"], error)
            else:
                await sql.execute(
                    "UPDATE email_outbox SET next_attempt_at = now() + $2 * interval '1 second',"
                    " last_error = $3 WHERE id = $1",
                    row["id"], backoff_seconds(row["attempts"]), error)
                log.info("email %s attempt %d failed (%s); will retry", row["id"], row["attempts"], error)
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
