"""Notifications: created in the same transaction as their cause.

`notify()` writes the in-app notification and, when mail is configured and the recipient
opted in, its email into the outbox (same transaction: both or neither). Reads and
read-marking serve `GET /api/me/notifications` and `POST /api/me/notifications/read`.
Each notification also sends a NOTIFY on `forum_notifications` at commit (its id, kind and
recipient only), which feeds the recipient's live stream `GET /api/me/notifications/events`
in whichever process holds it (forum.notifications.live).
"""

from __future__ import annotations

from typing import Any

from forum import sql
from forum.notifications import mail
from forum.pagination import decode_cursor, encode_cursor, page

KINDS = ("reply", "answer", "accepted", "moderation", "urgent")
CHANNEL = "forum_notifications"  # NOTIFY payload: {"u": recipient, "n": notification id, "k": kind}


async def notify(user_id: int | None, kind: str, *, comment_id: int | None, topic_id: int | None,
                 actor_id: int | None = None, reason: str | None = None, item_id: int | None = None) -> int | None:
    """Notify `user_id` (never about their own action). Returns the notification id or None.
    `item_id`: the moderation item of an `urgent` notification (which names no post)."""
    if user_id is None or (actor_id is not None and actor_id == user_id):
        return None
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    notification_id: int = await sql.fetchval(
        'WITH n AS (INSERT INTO notification ("user", kind, comment, topic, actor, reason, item, created_at)'
        " VALUES ($1, $2, $3, $4, $5, $6, $7, now()) RETURNING id)"
        f" SELECT id, pg_notify('{CHANNEL}', json_build_object('u', $1::bigint, 'n', id, 'k', $2::text)::text)"
        " FROM n",
        user_id, kind, comment_id, topic_id, actor_id, reason, item_id,
    )
    if mail.enabled():
        await mail.enqueue_notification(notification_id, user_id, kind)
    return notification_id


async def notify_staff(kind: str, *, item_id: int, roles: tuple[str, ...], actor_id: int | None = None) -> int:
    """`notify()` for every active member of `roles` (not the actor) in one statement, with
    the NOTIFY for their live streams and, when mail is on, the email of those who opted in.
    Names no post: only the moderation item. Returns how many were notified."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    notified = f"""
        WITH n AS (
            INSERT INTO notification ("user", kind, item, created_at)
            SELECT id, $1, $2, now() FROM forum_user
             WHERE role = ANY($3::text[]) AND status = 'active' AND id IS DISTINCT FROM $4::bigint
            RETURNING id, "user"
        ), live AS (
            SELECT n.id, n."user",
                   pg_notify('{CHANNEL}', json_build_object('u', n."user", 'n', n.id, 'k', $1::text)::text)
              FROM n
        )"""
    if not mail.enabled():
        return int(await sql.fetchval(f"{notified} SELECT count(*) FROM live", kind, item_id, list(roles), actor_id))
    subject, body = mail.notification_text(kind)
    count = await sql.fetchval(
        f"""{notified}, queued AS (
            INSERT INTO email_outbox (notification, "user", kind, subject, body, attempts, next_attempt_at, created_at)
            SELECT live.id, u.id, 'notification', $5, $6, 0, now(), now()
              FROM live JOIN forum_user u ON u.id = live."user"
             WHERE u.notify_email AND u.email IS NOT NULL
            RETURNING 1
        ) SELECT (SELECT count(*) FROM live) + 0 * (SELECT count(*) FROM queued)""",
        kind, item_id, list(roles), actor_id, subject, body)
    return int(count)


def _item(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "comment_id": row["comment"],
        "topic_slug": row["topic_slug"],
        "reason": row["reason"],
        "item_id": row["item"],
        "created_at": row["created_at"],
        "read_at": row["read_at"],
        "topic_url": row["topic_url"],
    }


async def list_for(user_id: int, limit: int, cursor: str | None) -> dict[str, Any]:
    """The caller's notifications, newest first, with the unread count."""
    after = decode_cursor("notifications", cursor)
    before_id = int(after["id"]) if after and isinstance(after.get("id"), int) else None
    rows = await sql.fetch(
        """
        SELECT n.id, n.kind, n.comment, n.reason, n.item, n.created_at, n.read_at,
               t.slug AS topic_slug, t.url AS topic_url
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


async def one_for(user_id: int, notification_id: int) -> dict[str, Any] | None:
    """One of the user's notifications as the list shows it (for the live stream)."""
    row = await sql.fetchrow(
        "SELECT n.id, n.kind, n.comment, n.reason, n.item, n.created_at, n.read_at,"
        " t.slug AS topic_slug, t.url AS topic_url"
        ' FROM notification n LEFT JOIN topic t ON t.id = n.topic WHERE n.id = $1 AND n."user" = $2',
        notification_id, user_id)
    return _item(row) if row is not None else None


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
