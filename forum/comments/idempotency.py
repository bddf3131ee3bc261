"""`Idempotency-Key` for POSTs: a retried request returns the first response, once.

The key is taken with `INSERT ... ON CONFLICT DO NOTHING` in the same transaction as the
work and the stored response. A racing retry's INSERT waits on the first transaction's
unique-index entry: when the first commits, the retry finds the stored response; when
it fails and rolls back, the retry takes the key and does the work itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from forum import sql
from forum.errors import BadRequest, Conflict

KEY_MAX = 200
KEEP_HOURS = 24


@dataclass(frozen=True)
class Replay:
    status_code: int
    response: dict[str, Any]


def request_hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > KEY_MAX or not key.isprintable():
        raise BadRequest(f"Idempotency-Key: 1-{KEY_MAX} printable characters")
    return key


async def claim(scope: str, key: str, fingerprint: str) -> Replay | None:
    """Take the key (inside the caller's transaction); a Replay when it was used before."""
    # a key older than KEEP_HOURS is forgotten: the same client may reuse it
    await sql.execute("DELETE FROM idempotency_key WHERE scope = $1 AND key = $2"
                      " AND created_at < now() - $3 * interval '1 hour'", scope, key, KEEP_HOURS)
    taken = await sql.fetchval(
        "INSERT INTO idempotency_key (scope, key, request_hash, created_at) VALUES ($1, $2, $3, now())"
        " ON CONFLICT (scope, key) DO NOTHING RETURNING id", scope, key, fingerprint)
    if taken is not None:
        return None
    row = await sql.fetchrow(
        "SELECT request_hash, status_code, response FROM idempotency_key WHERE scope = $1 AND key = $2", scope, key)
    if row is None or row["status_code"] is None:
        raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly.")
    if row["request_hash"] != fingerprint:
        raise Conflict("This Idempotency-Key was used for a different request.")
    response = row["response"]
    if isinstance(response, str):
        response = json.loads(response)
    return Replay(int(row["status_code"]), response)


async def store(scope: str, key: str, status_code: int, response: dict[str, Any]) -> None:
    await sql.execute("UPDATE idempotency_key SET status_code = $3, response = $4::jsonb WHERE scope = $1 AND key = $2",
                      scope, key, status_code, json.dumps(response))
