"""Search responses."""

from __future__ import annotations

from typing import Literal

import msgspec


class SearchHit(msgspec.Struct):
    kind: Literal["comment", "topic"]
    id: int  # the comment's id for a comment hit, the topic's id for a topic hit
    topic_slug: str
    title: str  # the topic's title
    excerpt_html: str  # HTML-escaped text; matches wrapped in <mark>, nothing else
    rank: float
    comment_id: int | None = None  # set for comment hits


class SearchPage(msgspec.Struct):
    items: list[SearchHit]
    next_cursor: str | None
