"""Request and response schemas of the topic routes (msgspec)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from forum.accounts.schemas import UserRef
from forum.comments.schemas import CommentStatus

Text = Annotated[str, msgspec.Meta(max_length=200_000)]
Short = Annotated[str, msgspec.Meta(max_length=4000)]
TopicKind = Literal["article", "discussion"]
CommentsMode = Literal["open", "premoderated", "closed"]


class TopicCreate(msgspec.Struct):
    kind: TopicKind
    title: Short
    body: Text = ""
    slug: Short | None = None
    url: Short | None = None
    comments: CommentsMode = "open"


class TopicUpdate(msgspec.Struct):
    title: Short | msgspec.UnsetType = msgspec.UNSET
    body: Text | msgspec.UnsetType = msgspec.UNSET
    url: Short | msgspec.UnsetType | None = msgspec.UNSET
    comments: CommentsMode | msgspec.UnsetType = msgspec.UNSET
    # why a moderator changes another person's topic: kept in the audit log
    reason: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class TopicRead(msgspec.Struct, omit_defaults=True):
    id: int
    slug: str
    kind: TopicKind
    title: str
    url: str | None
    body_html: str
    author: UserRef | None
    comments: CommentsMode
    comment_count: int
    status: CommentStatus
    created_at: datetime
    updated_at: datetime | None
    support: str | None = None  # crisis message for a discussion that matched a crisis word


class TopicPage(msgspec.Struct):
    items: list[TopicRead]
    next_cursor: str | None


TopicRef = Annotated[str, msgspec.Meta(max_length=4000, description="a topic's slug or its article's address")]


class CountsRequest(msgspec.Struct):
    topics: Annotated[list[TopicRef], msgspec.Meta(max_length=100, description="1-100 slugs or addresses")]


class CommentCounts(msgspec.Struct):
    counts: dict[str, int]  # per slug or address, exactly as given: public comments, 0 for unknown ones
