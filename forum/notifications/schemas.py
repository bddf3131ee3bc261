"""Request and response bodies of the notification and password-reset routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from forum.pagination import IdField

NotificationKind = Literal["reply", "answer", "accepted", "moderation", "urgent"]


class NotificationRead(msgspec.Struct):
    id: int
    kind: NotificationKind
    comment_id: int | None
    topic_slug: str | None
    reason: str | None
    created_at: datetime
    read_at: datetime | None
    item_id: int | None = None  # an `urgent` notification: the urgent item (no post is named)
    # the article's page on the blog when the topic has one (the comment is at `#comment-<id>` there)
    topic_url: str | None = None


class NotificationPage(msgspec.Struct):
    items: list[NotificationRead]
    next_cursor: str | None
    unread_count: int


class NotificationsMarkRead(msgspec.Struct, forbid_unknown_fields=True):
    ids: Annotated[list[IdField], msgspec.Meta(max_length=1000)] | None = None
    all: bool = False


class PasswordResetRequest(msgspec.Struct):
    login: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]


class PasswordResetConfirm(msgspec.Struct):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]


class Accepted(msgspec.Struct):
    detail: str


class UnsubscribeIn(msgspec.Struct):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
