"""What happens when a comment is published for the first time (called by
forum.comments.visibility inside the publishing transaction): reply and answer
notifications, and the question's status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forum import sql
from forum.auth import RANK
from forum.comments.tree import ids_of
from forum.notifications.services import notify

STAFF_BADGES = ("coach", "moderator", "admin")


async def _is_staff(user_id: int | None) -> bool:
    if user_id is None:
        return False
    role = await sql.fetchval("SELECT role FROM forum_user WHERE id = $1 AND status <> 'erased'", user_id)
    return role is not None and RANK.get(role, 0) >= RANK["coach"]


async def _may_see(user_id: int, comment: Mapping[str, Any]) -> bool:
    """Whether `user_id` may read `comment` (published): a private subtree is for its asker
    and coach+ only; an erased account is told nothing."""
    row = await sql.fetchrow("SELECT role, status FROM forum_user WHERE id = $1", user_id)
    if row is None or row["status"] == "erased":
        return False
    if not comment["private"]:
        return True
    return user_id == comment["audience"] or RANK.get(row["role"], 0) >= RANK["coach"]


async def on_comment_published(comment: Mapping[str, Any]) -> None:
    """`comment` is the comment row (columns of table `comment`), now visible to its audience.

    - a reply by a coach (badge, or a coach+ author) anywhere under a question answers it:
      `unanswered` -> `answered`, `first_answer_at` set once, the asker notified (`answer`);
    - every reply notifies the parent comment's author (`reply`), unless that person is the
      asker who was just told about the answer (one notification, `answer` wins);
    - nobody is notified about their own comment or about a comment they may not see;
    - a staff member's comment (badge) answers the open urgent items of the posts above it,
      or of its discussion (moderation.crisis.on_staff_reply).
    """
    author = comment["author"]
    if author is not None and comment.get("author_badge") in STAFF_BADGES:
        from moderation import crisis  # a coach's reply answers the urgent items above it

        await crisis.on_staff_reply(comment, author)
    parent_id = comment["parent"]
    if parent_id is None:
        return
    ancestor_ids = ids_of(comment["path"])[:-1] if comment.get("path") else [parent_id]
    ancestors = await sql.fetch(
        "SELECT id, author, kind, depth FROM comment WHERE id = ANY($1::bigint[])", ancestor_ids)
    parent = next((a for a in ancestors if a["id"] == parent_id), None)
    questions = [a for a in ancestors if a["kind"] == "question"]
    question = max(questions, key=lambda a: a["depth"]) if questions else None
    topic_id = comment["topic"]

    asker: int | None = None
    if question is not None and author is not None and author != question["author"]:
        is_coach = comment.get("author_badge") in STAFF_BADGES or await _is_staff(author)
        if is_coach:
            await sql.execute(
                """
                UPDATE comment
                   SET question_status = CASE WHEN question_status = 'unanswered' THEN 'answered'
                                              ELSE question_status END,
                       first_answer_at = COALESCE(first_answer_at, now())
                 WHERE id = $1
                """,
                question["id"],
            )
            asker = question["author"]
            if asker is not None and await _may_see(asker, comment):
                await notify(asker, "answer", comment_id=comment["id"], topic_id=topic_id, actor_id=author)

    parent_author = parent["author"] if parent is not None else None
    if parent_author is not None and parent_author != asker and await _may_see(parent_author, comment):
        await notify(parent_author, "reply", comment_id=comment["id"], topic_id=topic_id, actor_id=author)
