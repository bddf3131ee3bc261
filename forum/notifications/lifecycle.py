"""Start-up and shut-down of the notification domain: the mail sender and its gauge."""

from __future__ import annotations

import logging
from typing import Any

from forum import metrics
from forum.notifications import mail
from forum.settings import Settings

log = logging.getLogger("forum.mail")


async def _scrape_outbox() -> None:
    metrics.OUTBOX_PENDING.set(await mail.pending_count() if mail.enabled() else 0)


async def on_startup(app: Any, settings: Settings, listener: Any) -> None:
    mail.configure(settings)
    metrics.on_scrape(_scrape_outbox)
    if settings.mail_enabled:
        sender = mail.Sender(settings)
        sender.start()
        app.state.mail_sender = sender
        log.info("email notifications on (outbox sender started)")


async def on_shutdown(app: Any) -> None:
    sender = getattr(app.state, "mail_sender", None)
    if sender is not None:
        await sender.stop()
        app.state.mail_sender = None
