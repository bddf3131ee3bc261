"""Request and response schemas of the article routes (msgspec)."""

from __future__ import annotations

from typing import Annotated

import msgspec

Reason = Annotated[str, msgspec.Meta(max_length=1000, description="why: kept in the audit log")]


class FirstSight(msgspec.Struct):
    url: Annotated[str, msgspec.Meta(max_length=4000, description="the page's address (canonical form is compared)")]
    title: Annotated[str, msgspec.Meta(
        max_length=1000, description="data-forum-title or the page's title; else one made from the address"
    )] | None = None


class TopicMerge(msgspec.Struct):
    into: Annotated[str, msgspec.Meta(max_length=200, description="the slug of the topic that keeps the comments")]
    reason: Reason | None = None


class SyncReport(msgspec.Struct):
    """What one run of the feed sync did (the CLI prints it)."""

    created: list[str]  # slugs of the new topics
    existing: int  # entries whose address already had a thread
    skipped: int  # entries without a usable address or title, or from another origin
