"""The audit log writer: one entry per moderation action, rule change, role change,
suspension and lifting, in the caller's transaction. The table refuses UPDATE and DELETE.

Never put user-written text (comment bodies, handles) or email addresses in `details`:
the log outlives erasure. Use ids, codes and numbers.
"""

from __future__ import annotations

import json
from typing import Any

from forum import sql


async def write(actor_id: int | None, action: str, target_type: str, target_id: int | None,
                reason: str | None = None, details: dict[str, Any] | None = None) -> int:
    return int(await sql.fetchval(
        "INSERT INTO audit_log (actor_id, action, target_type, target_id, reason, details, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb, clock_timestamp()) RETURNING id",
        actor_id, action, target_type, target_id, reason, json.dumps(details or {}),
    ))
