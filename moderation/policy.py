"""The one function that decides the fate of every new comment and discussion.

    verdict = await evaluate(draft)      # may raise ContentRefused (422), RateLimited (429), Conflict (409)
    ... insert the comment/topic with verdict.status ...
    await record(verdict, comment_id=...)  # opens the queue items, same transaction

Both run inside the writer's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from forum import sql
from forum.auth import Viewer


@dataclass(frozen=True)
class Draft:
    author: Viewer | None  # None for a guest
    guest_name: str | None
    body: str  # Markdown source
    body_html: str  # sanitized HTML (links counted here)
    target: str  # "comment" | "topic"
    topic_id: int | None = None
    topic_mode: str = "open"  # open | premoderated | closed
    client_ip: str = "unknown"
    kind: str = "comment"  # comment | question | discussion


@dataclass
class Verdict:
    status: str  # "published" | "pending"
    reasons: list[str] = field(default_factory=list)
    urgent: bool = False
    support: str | None = None  # the crisis message, returned to the poster


async def evaluate(draft: Draft) -> Verdict:
    reasons: list[str] = []
    if draft.author is None:
        reasons.append("guest")
    if draft.topic_mode == "premoderated":
        reasons.append("premoderated_topic")
    return Verdict(status="pending" if reasons else "published", reasons=reasons)


async def record(verdict: Verdict, *, comment_id: int | None = None, topic_id: int | None = None) -> None:
    target_type = "comment" if comment_id is not None else "topic"
    if verdict.status == "pending":
        await sql.execute(
            "INSERT INTO moderation_item (queue, target_type, comment, topic, reasons, status, created_at)"
            " VALUES ('pending', $1, $2, $3, $4, 'open', clock_timestamp())",
            target_type, comment_id, topic_id, verdict.reasons,
        )
