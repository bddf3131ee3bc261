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
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if comment_id is not None:
        return int(await sql.fetchval(
            "INSERT INTO moderation_item (queue, target_type, comment, topic, reasons, status, created_at)"
            " VALUES ($1, 'comment', $2, NULL, $3::varchar[], 'open', clock_timestamp())"
            " ON CONFLICT (comment, queue) WHERE status = 'open' AND comment IS NOT NULL"
            f" DO UPDATE SET {_MERGE} RETURNING id",
            queue, comment_id, list(reasons)))
    if topic_id is None:
        raise RuntimeError("unexpected: no topic_id")
    return int(await sql.fetchval(
        "INSERT INTO moderation_item (queue, target_type, comment, topic, reasons, status, created_at)"
        " VALUES ($1, 'topic', NULL, $2, $3::varchar[], 'open', clock_timestamp())"
        " ON CONFLICT (topic, queue) WHERE status = 'open' AND topic IS NOT NULL"
        f" DO UPDATE SET {_MERGE} RETURNING id",
        queue, topic_id, list(reasons)))
