"""The audit log writer: one entry per moderation action (decisions, and claims and releases
when an item changes hands), rule change, role change, suspension and lifting, and every
staff action on another person's content (`staff_action`: edits and deletions of comments,
changes of topics), in the caller's transaction. The table refuses UPDATE and DELETE.

Never put user-written text (comment bodies, handles) or email addresses in `details`:
the log outlives erasure. Use ids, codes and numbers.
"""

from __future__ import annotations

import json
from typing import Any

from forum import sql

# The server operator at the command line (`forum users ...`, forum.auth.OPERATOR): no
# account of the forum. Recorded with no actor, like the system's own actions, and told
# apart from them by `details.by = "operator"`.
OPERATOR_ID = 0

_INSERT = "INSERT INTO audit_log (actor_id, action, target_type, target_id, reason, details, created_at)"


async def write(actor_id: int | None, action: str, target_type: str, target_id: int | None,
                reason: str | None = None, details: dict[str, Any] | None = None) -> int:
    if actor_id == OPERATOR_ID:
        actor_id, details = None, {**(details or {}), "by": "operator"}
    return int(await sql.fetchval(
        f"{_INSERT} VALUES ($1, $2, $3, $4, $5, $6::jsonb, clock_timestamp()) RETURNING id",
        actor_id, action, target_type, target_id, reason, json.dumps(details or {}),
    ))


def insert_sql(values: str) -> str:
    """The entry `write` makes, as SQL for a data-modifying CTE of the statement that makes the
    change itself (one round trip): `values` are the SQL expressions, usually parameters, for
    actor_id, action, target_type, target_id, reason and details (jsonb)."""
    return f"{_INSERT} SELECT {values}, clock_timestamp()"


async def staff_action(actor_id: int, owner_id: int | None, action: str, target_type: str, target_id: int,
                       reason: str | None = None, details: dict[str, Any] | None = None) -> int | None:
    """An entry for an action on content that `owner_id` wrote (None: a guest or an erased
    author) taken by `actor_id` through a staff power; nothing when people act on their own.
    `details` hold ids, field names and statuses, never the text."""
    if owner_id == actor_id:
        return None
    return await write(actor_id, action, target_type, target_id, (reason or "").strip() or None,
                       {"author_id": owner_id, **(details or {})})
