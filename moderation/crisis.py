"""Crisis care: an urgent item reaches people, not only a queue.

Every way a post can call for urgent care (crisis words in a new comment, reply, question
or discussion, in an edit, or a `self_harm_risk` flag) goes through `open_urgent`, in the
caller's transaction. When it opens a new urgent item it:

- notifies every active coach, moderator and admin (`urgent` notification: no post, no
  person, only the item's id; live on their notification stream; email when configured and
  they opted in; the email says only that someone may need help now, with the console link);
- queues the on-call webhook when FORUM_URGENT_WEBHOOK_URL is set (same outbox as email);
- writes an audit entry (ids and counts only).

A second cause for an item already open only adds its reason: nobody is alerted twice.

Coaches work the item from `GET /api/coach/worklist`: claim it (the moderation lease, so one
coach answers), hide the post with one action (`hide`: the author still sees it, the public
does not; a moderator decides later), and close it (`resolve`). A coach's published reply
under the post answers it and closes the item. Response-time stats read `decided_at`.

When the author deletes the post or erases the account, the item stays open (`withdraw`):
its comment link goes (the text is gone), `withdrawn_at` and the topic stay, audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forum import events, sql
from forum.auth import Viewer
from forum.comments.tree import ids_of
from forum.errors import BadRequest, Conflict, NotFound
from moderation import audit
from moderation.items import open_item, open_item_created

STAFF_ROLES = ("coach", "moderator", "admin")


async def open_urgent(*, comment_id: int | None = None, topic_id: int | None = None, reason: str = "crisis_word",
                      actor_id: int | None = None) -> int:
    """The open urgent item of this comment or topic (created, or given `reason`); a new one
    alerts the coaches. Returns the item id. Runs in the caller's transaction."""
    if (comment_id is None) == (topic_id is None):
        raise ValueError("open_urgent() needs exactly one of comment_id and topic_id")
    item_id, created = await open_item_created("urgent", comment_id=comment_id, topic_id=topic_id, reasons=[reason])
    if comment_id is not None:
        await sql.execute("UPDATE comment SET urgent = true WHERE id = $1 AND NOT urgent", comment_id)
    if created:
        await _alert(item_id, actor_id)
        await audit.write(actor_id, "urgent_opened", "comment" if comment_id is not None else "topic",
                          comment_id if comment_id is not None else topic_id, None,
                          {"item_id": item_id, "reason": reason})
    return item_id


async def _alert(item_id: int, actor_id: int | None) -> int:
    """Tell every active staff member (not the actor) about a new urgent item. Returns how many."""
    from forum.notifications import mail
    from forum.notifications.services import notify_staff

    count = await notify_staff("urgent", item_id=item_id, roles=STAFF_ROLES, actor_id=actor_id)
    await mail.enqueue_webhook()
    return count


# ---------------------------------------------------------------- coaches' actions


async def _open_urgent_item(item_id: int) -> Any:
    row = await sql.fetchrow(
        "SELECT id, queue, status, target_type, comment, topic, withdrawn_at, claimed_by, claim_expires_at,"
        " claim_expires_at > now() AS lease_live FROM moderation_item WHERE id = $1 FOR UPDATE", item_id)
    if row is None or row["queue"] != "urgent":
        raise NotFound("No such urgent item.")
    if row["status"] != "open":
        raise Conflict("This urgent item has been closed already.")
    return row


def _check_lease(row: Any, viewer: Viewer) -> None:
    if row["claimed_by"] is not None and row["claimed_by"] != viewer.id and row["lease_live"]:
        raise Conflict("Another coach has claimed this item; it is being answered.", claimed_by=row["claimed_by"])


async def claim(viewer: Viewer, item_id: int) -> dict[str, Any]:
    """The moderation lease on an urgent item (coaches may claim urgent items only)."""
    from moderation import services

    await _urgent_or_404(item_id)
    return await services.claim(viewer, item_id)


async def release(viewer: Viewer, item_id: int) -> dict[str, Any]:
    from moderation import services

    await _urgent_or_404(item_id)
    return await services.release(viewer, item_id)


async def _urgent_or_404(item_id: int) -> None:
    queue = await sql.fetchval("SELECT queue FROM moderation_item WHERE id = $1", item_id)
    if queue != "urgent":
        raise NotFound("No such urgent item.")


async def hide(viewer: Viewer, item_id: int, reason: str | None) -> dict[str, Any]:
    """Hide the post of an urgent item from everyone but its author and staff, at once. The
    post is held (`pending`, a `crisis_hidden` pending item) for a moderator to decide; the
    urgent item stays open: hiding is not answering."""
    from forum.comments import visibility

    async with sql.transaction():
        row = await _open_urgent_item(item_id)
        _check_lease(row, viewer)
        if row["comment"] is not None:
            status = await sql.fetchval("SELECT status FROM comment WHERE id = $1", row["comment"])
            if status != "published":
                raise Conflict(f"This post is {status}: it is not shown to others.")
            await visibility.hide(row["comment"])
            await open_item("pending", comment_id=row["comment"], reasons=["crisis_hidden"])
            target_type, target_id = "comment", row["comment"]
        elif row["topic"] is not None:
            status = await sql.fetchval("SELECT status FROM topic WHERE id = $1 FOR UPDATE", row["topic"])
            if status != "published":
                raise Conflict(f"This discussion is {status}: it is not shown to others.")
            await sql.execute("UPDATE topic SET status = 'pending', updated_at = now() WHERE id = $1", row["topic"])
            await events.topic_changed(row["topic"])
            await open_item("pending", topic_id=row["topic"], reasons=["crisis_hidden"])
            target_type, target_id = "topic", row["topic"]
        else:
            raise Conflict("The author withdrew this post; there is nothing left to hide.")
        await audit.write(viewer.id, "urgent_hide", target_type, target_id, reason,
                          {"item_id": item_id, "status": {"before": "published", "after": "pending"}})
    return {"item_id": item_id, "target_type": target_type, "target_id": target_id, "target_status": "pending"}


async def resolve(viewer: Viewer, item_id: int, note: str | None) -> dict[str, Any]:
    """Close an urgent item: the person has been answered (or reached another way)."""
    async with sql.transaction():
        row = await _open_urgent_item(item_id)
        _check_lease(row, viewer)
        decided = await close_item(item_id, viewer.id, "resolved", note)
    return decided


async def close_item(item_id: int, actor_id: int, decision: str, reason: str | None) -> dict[str, Any]:
    """Close an open urgent item (`answered`, `resolved`), audited with the response time."""
    row = await sql.fetchrow(
        "UPDATE moderation_item SET status = 'decided', decision = $2, decision_reason = $3, decided_by = $4,"
        " decided_at = clock_timestamp(), claimed_by = NULL, claim_expires_at = NULL"
        " WHERE id = $1 AND status = 'open'"
        " RETURNING id, target_type, comment, topic, origin_topic, withdrawn_at, decided_at, created_at",
        item_id, decision, reason, actor_id)
    if row is None:
        raise Conflict("This urgent item has been closed already.")
    minutes = round((row["decided_at"] - row["created_at"]).total_seconds() / 60.0, 1)
    await audit.write(actor_id, f"urgent_{decision}", "moderation_item", item_id, reason,
                      {"comment_id": row["comment"], "topic_id": row["topic"] or row["origin_topic"],
                       "withdrawn": row["withdrawn_at"] is not None, "response_minutes": minutes})
    return {"item_id": item_id, "status": "decided", "decision": decision, "decided_at": row["decided_at"],
            "response_minutes": minutes}


async def on_staff_reply(reply: Mapping[str, Any], staff_id: int) -> list[int]:
    """A coach's (or moderator's) comment was just published: the open urgent items of the
    posts above it, and of its discussion, are answered (not the staff member's own posts).
    Returns the items closed."""
    ancestors = ids_of(reply["path"])[:-1] if reply.get("path") else []
    rows = await sql.fetch(
        "SELECT mi.id FROM moderation_item mi"
        " LEFT JOIN comment c ON c.id = mi.comment LEFT JOIN topic t ON t.id = mi.topic"
        " WHERE mi.queue = 'urgent' AND mi.status = 'open'"
        " AND (mi.comment = ANY($1::bigint[]) OR (mi.topic = $3 AND t.kind = 'discussion'))"
        " AND COALESCE(c.author, t.author) IS DISTINCT FROM $2 ORDER BY mi.id FOR UPDATE OF mi",
        ancestors, staff_id, reply["topic"])
    closed = []
    for r in rows:
        await close_item(r["id"], staff_id, "answered", None)
        closed.append(r["id"])
    return closed


# ---------------------------------------------------------------- withdrawal


async def withdraw_comment(comment_id: int, *, actor_id: int | None, cause: str = "deleted") -> list[int]:
    """The comment is about to be deleted: its open urgent item stays open without it
    (`withdrawn_at`, the topic kept). Runs before the delete, in its transaction."""
    rows = await sql.fetch(
        "UPDATE moderation_item mi SET comment = NULL, origin_topic = c.topic,"
        " withdrawn_at = coalesce(mi.withdrawn_at, clock_timestamp())"
        " FROM comment c WHERE c.id = $1 AND mi.comment = c.id AND mi.queue = 'urgent' AND mi.status = 'open'"
        " RETURNING mi.id", comment_id)
    for r in rows:
        await audit.write(actor_id, "urgent_withdrawn", "moderation_item", r["id"], None,
                          {"cause": cause, "comment_id": comment_id})
    return [r["id"] for r in rows]


async def withdraw_authored_by(user_id: int) -> list[int]:
    """Account erasure (before the user's text goes): every open urgent item on the user's
    comments and discussions stays open, marked withdrawn."""
    comments = await sql.fetch(
        "UPDATE moderation_item mi SET comment = NULL, origin_topic = c.topic,"
        " withdrawn_at = coalesce(mi.withdrawn_at, clock_timestamp())"
        " FROM comment c WHERE c.author = $1 AND mi.comment = c.id AND mi.queue = 'urgent' AND mi.status = 'open'"
        " RETURNING mi.id, c.id AS comment_id", user_id)
    topics = await sql.fetch(
        "UPDATE moderation_item mi SET withdrawn_at = coalesce(mi.withdrawn_at, clock_timestamp())"
        " FROM topic t WHERE t.author = $1 AND mi.topic = t.id AND mi.queue = 'urgent' AND mi.status = 'open'"
        " RETURNING mi.id", user_id)
    for r in [*comments, *topics]:
        await audit.write(user_id, "urgent_withdrawn", "moderation_item", r["id"], None, {"cause": "erased"})
    return [r["id"] for r in [*comments, *topics]]


def check_decision_on_withdrawn(action: str) -> str:
    """A moderator's decision on a withdrawn comment item: only closing it makes sense."""
    if action not in ("dismiss", "approve"):
        raise BadRequest("action: the author withdrew this post; dismiss (or approve) closes the urgent item.")
    return "resolved"
