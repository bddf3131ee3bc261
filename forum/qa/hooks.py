"""What happens when a comment is published for the first time (called by
forum.comments.visibility inside the publishing transaction): reply and answer
notifications, and the question's status."""

from __future__ import annotations

from typing import Any, Mapping

from forum import sql
from forum.notifications.services import notify


async def on_comment_published(comment: Mapping[str, Any]) -> None:
    """`comment` is the comment row (columns of table `comment`)."""
    parent_id = comment["parent"]
    if parent_id is None:
        return
    parent = await sql.fetchrow("SELECT author FROM comment WHERE id = $1", parent_id)
    if parent is not None:
        await notify(parent["author"], "reply", comment_id=comment["id"], topic_id=comment["topic"],
                     actor_id=comment["author"])
