"""The live notification stream: `GET /api/me/notifications/events` (Server-Sent Events).

Every notification sends a NOTIFY on `forum_notifications` when its transaction commits
(forum.notifications.services.notify); each process's EventListener hands the payload to
this broker, which offers the notification to the streams of its recipient open in this
process. So a coach is told of an urgent item at once, whichever process they are
connected to. A slow client is dropped, never waited for (forum.live.fanout).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from litestar.response import ServerSentEvent

from forum.live import fanout
from forum.live.fanout import Fanout

log = logging.getLogger("forum.notifications")

QUEUE_SIZE = 50


class NotificationBroker(Fanout):
    """Keyed by the recipient's user id."""

    def __init__(self) -> None:
        super().__init__(QUEUE_SIZE)

    def on_payload(self, payload: str) -> Any:
        """EventListener channel handler: cheap unless the recipient has a stream here."""
        try:
            data = json.loads(payload)
            user_id, notification_id = int(data["u"]), int(data["n"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring malformed notification payload")
            return None
        if not self.watched(user_id):
            return None
        return self._publish(user_id, notification_id)

    async def _publish(self, user_id: int, notification_id: int) -> None:
        from forum.notifications.services import one_for

        try:
            item = await one_for(user_id, notification_id)
        except Exception:  # the database hiccuped: the list still has it
            log.warning("could not load notification %s for its live stream", notification_id)
            return
        if item is not None:
            self.deliver(user_id, "notification", item)


def stream(broker: NotificationBroker, user_id: int) -> ServerSentEvent:
    return fanout.stream(broker, user_id)
