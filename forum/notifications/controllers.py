"""Routes: the caller's notifications, and password reset by email."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.response import ServerSentEvent
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from forum.auth import Viewer, requires_user
from forum.errors import BadRequest
from forum.notifications import live, passwords, services, unsubscribe
from forum.notifications.schemas import (
    Accepted,
    NotificationPage,
    NotificationsMarkRead,
    PasswordResetConfirm,
    PasswordResetRequest,
    UnsubscribeIn,
)
from forum.pagination import DEFAULT_LIMIT, Cursor, Limit


class NotificationController(Controller):
    path = "/api/me/notifications"
    tags = ("notifications",)
    guards = (requires_user,)

    @get("/", operation_id="list_notifications")
    async def list_notifications(self, user: NamedDependency[Viewer], limit: Limit = DEFAULT_LIMIT,
                                 cursor: Cursor = None) -> NotificationPage:
        """The caller's notifications, newest first, with the count of unread ones."""
        return NotificationPage(**await services.list_for(user.id, limit, cursor))

    @get("/events", operation_id="stream_notifications", media_type="text/event-stream")
    async def stream_notifications(self, request: Request[Any, Any, Any],
                                   user: NamedDependency[Viewer]) -> ServerSentEvent:
        """`notification` events (the notification JSON, as in the list) the moment one is
        created for the caller, from any server process; `: ping` heartbeats every 15 s."""
        broker: live.NotificationBroker = request.app.state.notification_broker
        return live.stream(broker, user.id)

    @post("/read", operation_id="mark_notifications_read", status_code=HTTP_204_NO_CONTENT)
    async def mark_notifications_read(
        self, user: NamedDependency[Viewer], data: JSONBody[NotificationsMarkRead]
    ) -> None:
        """Mark `ids` (the caller's own; others are ignored) or `all` notifications read."""
        if not data.all and data.ids is None:
            raise BadRequest('ids: give {"ids": [...]} or {"all": true}')
        await services.mark_read(user.id, data.ids, data.all)


class PasswordResetController(Controller):
    path = "/api/auth/password-reset"
    tags = ("accounts",)

    @post("/", operation_id="request_password_reset", status_code=HTTP_202_ACCEPTED)
    async def request_password_reset(
        self, client_ip: NamedDependency[str], data: JSONBody[PasswordResetRequest]
    ) -> Accepted:
        """Email a single-use reset link when the account has an address (same answer either way)."""
        await passwords.request_reset(data.login, client_ip)
        return Accepted(detail="If this account has an email address, a reset link is on its way.")

    @post("/confirm", operation_id="confirm_password_reset", status_code=HTTP_204_NO_CONTENT)
    async def confirm_password_reset(self, data: JSONBody[PasswordResetConfirm]) -> None:
        """Set a new password with a reset token; every session of the account is revoked."""
        await passwords.confirm_reset(data.token, data.password)


UnsubscribeToken = Annotated[str, QueryParameter(max_length=200, description="the token of the emailed link")]


class UnsubscribeController(Controller):
    """Turning notification emails off from an email, without signing in (RFC 8058)."""

    tags = ("notifications",)

    @post("/unsubscribe", operation_id="unsubscribe_one_click", status_code=HTTP_200_OK,
          request_max_body_size=1024)
    async def unsubscribe_one_click(self, token: UnsubscribeToken) -> Accepted:
        """The one-click POST a mail client sends to the `List-Unsubscribe` address (body
        `List-Unsubscribe=One-Click`, which is not needed: the signed token decides)."""
        await unsubscribe.unsubscribe(token)
        return Accepted(detail="Email notifications are off.")

    @post("/api/unsubscribe", operation_id="unsubscribe_by_token", status_code=HTTP_200_OK)
    async def unsubscribe_by_token(self, data: JSONBody[UnsubscribeIn]) -> Accepted:
        """The same, from the confirmation page `/unsubscribe?token=...` (its button)."""
        await unsubscribe.unsubscribe(data.token)
        return Accepted(detail="Email notifications are off.")


ROUTES: list[Any] = [NotificationController, PasswordResetController, UnsubscribeController]
