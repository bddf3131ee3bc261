"""Opening queue items: at most one open item per target and queue (a unique index), so a
second cause for the same queue adds its reason to the open item instead."""

from __future__ import annotations

from typing import Sequence

from forum import sql

QUEUES = ("pending", "reported", "urgent")

_MERGE = (
    "reasons = ARRAY(SELECT r FROM unnest(moderation_item.reasons || EXCLUDED.reasons)"
    " WITH ORDINALITY AS t(r, o) GROUP BY r ORDER BY min(o))"
)


async def open_item(queue: str, *, comment_id: int | None = None, topic_id: int | None = None,
                    reasons: Sequence[str] = ()) -> int:
    """The id of the open item of this target in `queue`, created or given the new reasons."""
    assert queue in QUEUES, queue
    if comment_id is not None:
        return int(await sql.fetchval(
            "INSERT INTO moderation_item (queue, target_type, comment, topic, reasons, status, created_at)"
            " VALUES ($1, 'comment', $2, NULL, $3::varchar[], 'open', clock_timestamp())"
            " ON CONFLICT (comment, queue) WHERE status = 'open' AND comment IS NOT NULL"
            f" DO UPDATE SET {_MERGE} RETURNING id",
            queue, comment_id, list(reasons)))
    assert topic_id is not None
    return int(await sql.fetchval(
        "INSERT INTO moderation_item (queue, target_type, comment, topic, reasons, status, created_at)"
        " VALUES ($1, 'topic', NULL, $2, $3::varchar[], 'open', clock_timestamp())"
        " ON CONFLICT (topic, queue) WHERE status = 'open' AND topic IS NOT NULL"
        f" DO UPDATE SET {_MERGE} RETURNING id",
        queue, topic_id, list(reasons)))
