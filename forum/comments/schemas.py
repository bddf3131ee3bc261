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
    # a guest's solved challenge (forum/frontend/challenge.py), when FORUM_GUEST_CHALLENGE is on
    altcha: Annotated[str, msgspec.Meta(max_length=4000)] | None = None


class CommentEdit(msgspec.Struct):
    body: Body
    # why a moderator changes another person's comment: kept in the audit log
    reason: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class StaffReason(msgspec.Struct):
    """An optional body of DELETE /api/comments/{id}: why a moderator removes another's comment."""
    reason: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


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
    support: str | None = None  # the crisis message, on the POST and PATCH responses only
    # an edit waiting for a moderator: its author reads it in body_html; others the published text
    edit_pending: bool = False
    # signed-in viewers only (absent for anonymous readers): 1 when the viewer voted it helpful, else null
    my_vote: int | msgspec.UnsetType | None = msgspec.UNSET
    # on the viewer's own comments while the edit window is open: when it closes (RFC 3339)
    editable_until: datetime | msgspec.UnsetType = msgspec.UNSET


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


class Ancestor(msgspec.Struct):
    id: int
    parent_id: int | None
    depth: int


class CommentContext(msgspec.Struct):
    comment_id: int
    topic_slug: str
    root_id: int
    ancestors: list[Ancestor]  # root first, down to the comment's parent; empty for a root
    sort: str
    limit: int
    page: int  # 0-based page of the thread (this sort and limit) that carries the root
    cursor: str | None  # the `cursor` of that page; null for the first page
    replies_cursor: str | None  # when the comment is past the root's first 100 descendants: /replies cursor
