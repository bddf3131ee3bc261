"""Start-up and shut-down of the notification domain: the mail sender and its gauge."""

from __future__ import annotations

import logging
from typing import Any

from forum import metrics
from forum.notifications import mail
from forum.notifications.live import NotificationBroker
from forum.notifications.services import CHANNEL
from forum.settings import Settings

log = logging.getLogger("forum.mail")


async def _scrape_outbox() -> None:
    metrics.OUTBOX_PENDING.set(await mail.pending_count() if mail.enabled() or mail.webhook_enabled() else 0)


async def on_startup(app: Any, settings: Settings, listener: Any) -> None:
    mail.configure(settings)
    broker = NotificationBroker()  # one per app: the app's listener feeds only the app's streams
    app.state.notification_broker = broker
    listener.add_channel_handler(CHANNEL, broker.on_payload)
    metrics.on_scrape(_scrape_outbox)
    if settings.mail_enabled or settings.urgent_webhook_enabled:
        sender = mail.Sender(settings)
        sender.start()
        app.state.mail_sender = sender
        log.info("outbox sender started (email %s, urgent webhook %s)",
                 "on" if settings.mail_enabled else "off", "on" if settings.urgent_webhook_enabled else "off")


async def on_shutdown(app: Any) -> None:
    broker: NotificationBroker | None = getattr(app.state, "notification_broker", None)
    if broker is not None:
        broker.close_all()
    sender = getattr(app.state, "mail_sender", None)
    if sender is not None:
        await sender.stop()
        app.state.mail_sender = None
