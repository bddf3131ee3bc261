"""Request and response schemas of the comment routes (msgspec)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from forum.pagination import IdField

Body = Annotated[str, msgspec.Meta(max_length=200_000, description="Markdown (CommonMark), 1-10,000 characters")]


class UserRef(msgspec.Struct):
    id: int
    handle: str
    role: str


class CommentCreate(msgspec.Struct):
    body: Body
    parent_id: IdField | None = None
    kind: str = msgspec.field(default="comment")  # comment | question (checked with a named 400)
    private: bool = False
    guest_name: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class CommentEdit(msgspec.Struct):
    body: Body


class CommentRead(msgspec.Struct, omit_defaults=True):
    id: int
    topic_slug: str
    parent_id: int | None
    depth: int
    kind: str
    status: str
    private: bool
    author: UserRef | None
    guest_name: str | None
    author_badge: str | None
    body_html: str
    score: int
    accepted: bool
    question_status: str | None
    reply_count: int
    created_at: str
    edited_at: str | None
    replies: list[CommentRead]  # always present (empty outside thread reads)
    more_replies: int | None = None  # descendants left out of a thread page (see /replies)
    support: str | None = None  # the crisis message, on the POST and PATCH responses only
    # an edit waiting for a moderator: its author reads it in body_html; others the published text
    edit_pending: bool = False


class CommentPage(msgspec.Struct):
    items: list[CommentRead]
    next_cursor: str | None


class Revision(msgspec.Struct):
    id: int
    comment_id: int
    body: str
    body_html: str
    editor: UserRef | None
    created_at: str


class RevisionPage(msgspec.Struct):
    items: list[Revision]
    next_cursor: str | None


class Score(msgspec.Struct):
    score: int
