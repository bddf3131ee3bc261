"""Notifications: created in the same transaction as their cause."""

from __future__ import annotations

from forum import sql

KINDS = ("reply", "answer", "accepted", "moderation")


async def notify(user_id: int | None, kind: str, *, comment_id: int | None, topic_id: int | None,
                 actor_id: int | None = None, reason: str | None = None) -> int | None:
    """Notify `user_id` (never about their own action). Returns the notification id or None."""
    if user_id is None or (actor_id is not None and actor_id == user_id):
        return None
    assert kind in KINDS, kind
    return await sql.fetchval(
        'INSERT INTO notification ("user", kind, comment, topic, actor, reason, created_at)'
        " VALUES ($1, $2, $3, $4, $5, $6, now()) RETURNING id",
        user_id, kind, comment_id, topic_id, actor_id, reason,
    )
