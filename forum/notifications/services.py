"""Notifications: created in the same transaction as their cause.

`notify()` writes the in-app notification and, when mail is configured and the recipient
opted in, its email into the outbox (same transaction: both or neither). Reads and
read-marking serve `GET /api/me/notifications` and `POST /api/me/notifications/read`.
"""

from __future__ import annotations

from typing import Any

from forum import sql
from forum.notifications import mail
from forum.pagination import decode_cursor, encode_cursor, page

KINDS = ("reply", "answer", "accepted", "moderation")


async def notify(user_id: int | None, kind: str, *, comment_id: int | None, topic_id: int | None,
                 actor_id: int | None = None, reason: str | None = None) -> int | None:
    """Notify `user_id` (never about their own action). Returns the notification id or None."""
    if user_id is None or (actor_id is not None and actor_id == user_id):
        return None
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    notification_id: int = await sql.fetchval(
        'INSERT INTO notification ("user", kind, comment, topic, actor, reason, created_at)'
        " VALUES ($1, $2, $3, $4, $5, $6, now()) RETURNING id",
        user_id, kind, comment_id, topic_id, actor_id, reason,
    )
    if mail.enabled():
        await mail.enqueue_notification(notification_id, user_id, kind)
    return notification_id


def _item(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "comment_id": row["comment"],
        "topic_slug": row["topic_slug"],
        "reason": row["reason"],
        "created_at": row["created_at"],
        "read_at": row["read_at"],
    }


async def list_for(user_id: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """The caller's notifications, newest first, with the unread count."""
    after = decode_cursor("notifications", cursor)
    before_id = int(after["id"]) if after and isinstance(after.get("id"), int) else None
    rows = await sql.fetch(
        """
        SELECT n.id, n.kind, n.comment, n.reason, n.created_at, n.read_at, t.slug AS topic_slug
          FROM notification n LEFT JOIN topic t ON t.id = n.topic
         WHERE n."user" = $1 AND ($2::bigint IS NULL OR n.id < $2)
         ORDER BY n.id DESC
         LIMIT $3
        """,
        user_id, before_id, limit + 1,
    )
    items, more = page(rows, limit)
    unread = await sql.fetchval(
        'SELECT count(*) FROM notification WHERE "user" = $1 AND read_at IS NULL', user_id)
    return {
        "items": [_item(r) for r in items],
        "next_cursor": encode_cursor("notifications", {"id": items[-1]["id"]}) if more else None,
        "unread_count": int(unread),
    }


async def mark_read(user_id: int, ids: list[int] | None, everything: bool) -> int:
    """Mark the caller's own notifications read; ids of others' are ignored. Returns the count."""
    if everything:
        status = await sql.execute(
            'UPDATE notification SET read_at = now() WHERE "user" = $1 AND read_at IS NULL', user_id)
    else:
        status = await sql.execute(
            'UPDATE notification SET read_at = now() WHERE "user" = $1 AND id = ANY($2::bigint[])'
            " AND read_at IS NULL",
            user_id, list(ids or []))
    return sql.rowcount(status)
