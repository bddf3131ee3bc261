"""Opening queue items: at most one open item per target and queue (a unique index), so a
second cause for the same queue adds its reason to the open item instead."""

from __future__ import annotations

from collections.abc import Sequence

from forum import sql

QUEUES = ("pending", "reported", "urgent")

_MERGE = (
    "reasons = ARRAY(SELECT r FROM unnest(moderation_item.reasons || EXCLUDED.reasons)"
    " WITH ORDINALITY AS t(r, o) GROUP BY r ORDER BY min(o))"
)


async def open_item(queue: str, *, comment_id: int | None = None, topic_id: int | None = None,
                    reasons: Sequence[str] = ()) -> int:
    """The id of the open item of this target in `queue`, created or given the new reasons."""
    item_id, _ = await open_item_created(queue, comment_id=comment_id, topic_id=topic_id, reasons=reasons)
    return item_id


async def open_item_created(queue: str, *, comment_id: int | None = None, topic_id: int | None = None,
                            reasons: Sequence[str] = ()) -> tuple[int, bool]:
    """`open_item`, and whether this call created the item (`xmax = 0`: a fresh insert, not
    the ON CONFLICT update of an item already open)."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if comment_id is not None:
        row = await sql.fetchrow(
            "INSERT INTO moderation_item (queue, target_type, comment, topic, reasons, status, created_at)"
            " VALUES ($1, 'comment', $2, NULL, $3::varchar[], 'open', clock_timestamp())"
            " ON CONFLICT (comment, queue) WHERE status = 'open' AND comment IS NOT NULL"
            f" DO UPDATE SET {_MERGE} RETURNING id, xmax = 0 AS created",
            queue, comment_id, list(reasons))
    elif topic_id is not None:
        row = await sql.fetchrow(
            "INSERT INTO moderation_item (queue, target_type, comment, topic, reasons, status, created_at)"
            " VALUES ($1, 'topic', NULL, $2, $3::varchar[], 'open', clock_timestamp())"
            " ON CONFLICT (topic, queue) WHERE status = 'open' AND topic IS NOT NULL"
            f" DO UPDATE SET {_MERGE} RETURNING id, xmax = 0 AS created",
            queue, topic_id, list(reasons))
    else:
        raise RuntimeError("unexpected: no topic_id")
    if row is None:
        raise RuntimeError("unexpected: no item row")
    return int(row["id"]), bool(row["created"])
