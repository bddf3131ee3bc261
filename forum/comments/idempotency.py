"""`Idempotency-Key` for POSTs: a retried request returns the first response, once.

The key is taken with `INSERT ... ON CONFLICT DO NOTHING` in the same transaction as the
work and the stored response. A racing retry's INSERT waits on the first transaction's
unique-index entry: when the first commits, the retry finds the stored response; when
it fails and rolls back, the retry takes the key and does the work itself.

Keys live KEEP_HOURS (24 hours): an older key is forgotten when reused, and the retention
sweep (forum/accounts/retention.py) deletes the rest. A stored answer carries the comment's
text and its author's handle, so it must not outlive them: deleting the comment drops the
answer (`forget_comment`: the key stays, marked `gone`, without answer or request hash) and
erasing the author deletes the author's keys. A replay of a key whose answer was dropped
gets 409: processing it again would post the deleted text a second time.
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
GONE_DETAIL = ("The comment this Idempotency-Key created has been deleted; it is not posted again. "
               "Use a new key to post it anew.")


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
        "SELECT request_hash, status_code, response, gone FROM idempotency_key WHERE scope = $1 AND key = $2",
        scope, key)
    if row is not None and row["gone"]:
        raise Conflict(GONE_DETAIL)
    if row is None or row["status_code"] is None:
        raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly.")
    if row["request_hash"] != fingerprint:
        raise Conflict("This Idempotency-Key was used for a different request.")
    response = row["response"]
    if isinstance(response, str):
        response = json.loads(response)
    return Replay(int(row["status_code"]), response)


async def store(scope: str, key: str, status_code: int, response: dict[str, Any]) -> None:
    """Keep the answer, tied to the comment it created (`response["id"]`)."""
    await sql.execute(
        "UPDATE idempotency_key SET status_code = $3, response = $4::jsonb, comment = $5"
        " WHERE scope = $1 AND key = $2",
        scope, key, status_code, json.dumps(response), response.get("id"))


async def forget_comment(comment_id: int) -> None:
    """The comment is being deleted: drop every stored answer that carries it."""
    await sql.execute(
        "UPDATE idempotency_key SET response = NULL, request_hash = '', comment = NULL, gone = true"
        " WHERE comment = $1", comment_id)


async def sweep() -> int:
    """Delete the keys older than KEEP_HOURS. Returns how many went."""
    status = await sql.execute("DELETE FROM idempotency_key WHERE created_at < now() - $1 * interval '1 hour'",
                               KEEP_HOURS)
    return sql.rowcount(status)
