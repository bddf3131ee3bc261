"""Request and response schemas of the comment routes (msgspec)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from forum.accounts.schemas import UserRef
from forum.pagination import IdField

Body = Annotated[str, msgspec.Meta(max_length=200_000, description="Markdown (CommonMark), 1-10,000 characters")]


# Closed sets: enums in the OpenAPI document, the same strings on the wire.
CommentKind = Literal["comment", "question"]
# also a topic's and a moderation target's status
CommentStatus = Literal["published", "pending", "rejected", "spam", "deleted"]
QuestionStatus = Literal["unanswered", "answered", "accepted"]
StaffBadge = Literal["coach", "moderator", "admin"]
Sort = Literal["oldest", "newest", "top"]


class CommentCreate(msgspec.Struct):
    body: Body
    parent_id: IdField | None = None
    kind: CommentKind = "comment"
    private: bool = False
    guest_name: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class CommentEdit(msgspec.Struct):
    body: Body


class CommentRead(msgspec.Struct, omit_defaults=True):
    id: int
    topic_slug: str
    parent_id: int | None
    depth: int
    kind: CommentKind
    status: CommentStatus
    private: bool
    author: UserRef | None
    guest_name: str | None
    author_badge: StaffBadge | None
    body_html: str
    score: int
    accepted: bool
    question_status: QuestionStatus | None
    reply_count: int
    created_at: datetime
    edited_at: datetime | None
    replies: list[CommentRead]  # always present (empty outside thread reads)
    more_replies: int | None = None  # descendants left out of a thread page (see /replies)
    support: str | None = None  # the crisis message, on the POST response only


class CommentPage(msgspec.Struct):
    items: list[CommentRead]
    next_cursor: str | None


class Revision(msgspec.Struct):
    id: int
    comment_id: int
    body: str
    body_html: str
    editor: UserRef | None
    created_at: datetime


class RevisionPage(msgspec.Struct):
    items: list[Revision]
    next_cursor: str | None


class Score(msgspec.Struct):
    score: int
