"""Schemas of the site document and the Markdown preview (msgspec)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from forum.comments.schemas import Body


class Limits(msgspec.Struct):
    comment_body: int  # characters of Markdown
    title: int
    guest_name: int
    handle_min: int
    handle_max: int
    page_size: int  # the largest `limit` of a paged list
    counts_per_request: int  # topics per /api/counts request


class SiteInfo(msgspec.Struct):
    name: str
    edit_window_minutes: int
    limits: Limits
    guests_may_post: bool
    guest_posts_reviewed: bool  # a guest's comment waits for a moderator
    flag_reasons: list[str]
    support_text: str | None  # shown after a post that matched a crisis word
    sorts: list[str]
    default_sort: str
    allowed_tags: list[str]  # what a comment's body_html may contain


class PreviewRequest(msgspec.Struct):
    body: Body


class Preview(msgspec.Struct):
    html: Annotated[str, msgspec.Meta(description="sanitized HTML, as a post with this body would store it")]
