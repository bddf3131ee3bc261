"""The guest challenge (ALTCHA proof of work, `altcha` 2.x on PyPI): a guest's browser
solves a small PBKDF2 puzzle before a guest comment is accepted; nobody else is asked.

- `GET /api/guest-challenge`: a fresh challenge, HMAC-signed with a key derived from
  FORUM_SECRET_KEY, valid CHALLENGE_TTL_S.
- `verify(payload)`: the guest's solution; each challenge is spent once (its signature goes
  into `guest_challenge_used` in the caller's transaction: a payload verifies as often as it
  is sent, altcha#57). Every refusal is a 400 naming `altcha`.
FORUM_GUEST_CHALLENGE=off (test and benchmark servers) lets guests post without it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from altcha import v2
from litestar import Request, Response, get

from forum import sql
from forum.errors import BadRequest

ALGORITHM = "PBKDF2/SHA-256"
CHALLENGE_COST = 2000  # PBKDF2 iterations per attempt; about 256 attempts on average ("00" prefix)
CHALLENGE_TTL_S = 30 * 60  # long enough to write a comment after the puzzle is solved
MAX_PAYLOAD = 4000


class GuestChallenge(msgspec.Struct):
    """An ALTCHA v2 challenge: `parameters` (algorithm, nonce, salt, cost, keyLength,
    keyPrefix, expiresAt) and their HMAC `signature`."""
    parameters: dict[str, Any]
    signature: str


def _secret(settings: Any) -> str:
    return hmac.new(settings.secret_key.encode(), b"forum guest challenge v1", hashlib.sha256).hexdigest()


def new_challenge(settings: Any) -> GuestChallenge:
    expires = datetime.now(UTC) + timedelta(seconds=CHALLENGE_TTL_S)
    made = v2.create_challenge(ALGORITHM, CHALLENGE_COST, expires_at=expires, hmac_secret=_secret(settings))
    data = made.to_dict()
    return GuestChallenge(parameters=data["parameters"], signature=data["signature"])


def _decode(payload: str) -> tuple[str, int]:
    """(signature, expiresAt) of a payload that verified."""
    data = json.loads(base64.b64decode(payload).decode())
    return str(data["challenge"]["signature"]), int(data["challenge"]["parameters"]["expiresAt"])


async def verify(payload: str | None, settings: Any) -> None:
    """Accept a solved, unexpired, unused challenge (spending it), or raise a 400."""
    if not payload:
        raise BadRequest("altcha: guests solve the spam check before posting (GET /api/guest-challenge)")
    if len(payload) > MAX_PAYLOAD:
        raise BadRequest("altcha: not a solved challenge")
    result = await asyncio.to_thread(v2.verify_solution, payload, _secret(settings))
    if result.expired:
        raise BadRequest("altcha: the spam check has expired; solve a new one")
    if not result.verified:
        raise BadRequest("altcha: not a solved challenge")
    signature, expires_at = _decode(payload)
    await sql.execute("DELETE FROM guest_challenge_used WHERE expires_at < now()")
    status = await sql.execute(
        "INSERT INTO guest_challenge_used (signature, expires_at) VALUES ($1, to_timestamp($2))"
        " ON CONFLICT DO NOTHING", signature[:128], expires_at)
    if sql.rowcount(status) == 0:
        raise BadRequest("altcha: this spam check was already used; solve a new one")


@get("/api/guest-challenge", operation_id="get_guest_challenge", tags=["site"], cache=False)
async def guest_challenge(request: Request[Any, Any, Any]) -> Response[GuestChallenge]:
    """A proof-of-work challenge a guest's browser solves before posting (ALTCHA v2)."""
    return Response(new_challenge(request.app.state.settings), headers={"Cache-Control": "no-store"})


ROUTES: list[Any] = [guest_challenge]
