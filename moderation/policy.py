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


@dataclass(frozen=True)
class Rules:
    banned_words: tuple[str, ...]
    suspect_words: tuple[str, ...]
    crisis_words: tuple[str, ...]
    max_links_untrusted: int
    trusted_after_approved: int
    flag_hide_threshold: int
    edit_window_minutes: int
    premoderate_all: bool
    crisis_message: str


async def current_rules() -> Rules:
    """The rules in force (one row)."""
    row = await sql.fetchrow(
        "SELECT banned_words, suspect_words, crisis_words, max_links_untrusted, trusted_after_approved,"
        " flag_hide_threshold, edit_window_minutes, premoderate_all, crisis_message FROM moderation_rules LIMIT 1"
    )
    assert row is not None, "moderation_rules has no row: run the migrations"
    return Rules(tuple(row["banned_words"] or ()), tuple(row["suspect_words"] or ()),
                 tuple(row["crisis_words"] or ()), row["max_links_untrusted"], row["trusted_after_approved"],
                 row["flag_hide_threshold"], row["edit_window_minutes"], row["premoderate_all"],
                 row["crisis_message"])


async def evaluate_edit(body: str, editor: Viewer) -> None:
    """An edit may not bring in a banned word (raises ContentRefused)."""
    from forum.errors import ContentRefused

    rules = await current_rules()
    words = set(body.lower().split())
    if any(w.lower() in words for w in rules.banned_words):
        raise ContentRefused("This text contains a word that is not allowed here.")
