"""Who is asking: bearer-token sessions resolved per request, and the role guards.

The role is read from the database on every request (one indexed query), never cached
in the token, so a role change or suspension takes effect on the next request.
Every permission check asks `Viewer.at_least` (or `is_coach`, `is_moderator`, `is_admin`),
which reads the *effective* role: a suspended coach, moderator or admin has a reader's
powers until the suspension ends (`role` keeps the stored role, for display).
Guards resolve the viewer once and keep it in the request state; handlers receive it
through the `viewer` / `user` dependencies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler

from forum import sql
from forum.coalesce import SharedReads
from forum.errors import Forbidden, Unauthorized
from forum.timefmt import rfc3339

ROLES = ("reader", "coach", "moderator", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}
_STATE_KEY = "viewer"
_session_days = 30
_idle_days = 7
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Viewer:
    id: int
    handle: str
    role: str
    status: str
    suspended_until: datetime | None
    session_id: int

    @property
    def effective_role(self) -> str:
        """The role whose powers apply now: suspension removes every staff power until it ends."""
        return "reader" if self.is_suspended else self.role

    def at_least(self, role: str) -> bool:
        return RANK[self.effective_role] >= RANK[role]

    @property
    def is_coach(self) -> bool:  # coach, moderator, admin
        return self.at_least("coach")

    @property
    def is_moderator(self) -> bool:
        return self.at_least("moderator")

    @property
    def is_admin(self) -> bool:
        return self.at_least("admin")

    @property
    def is_suspended(self) -> bool:
        if self.status != "suspended":
            return False
        return self.suspended_until is None or self.suspended_until > datetime.now(UTC)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "handle": self.handle, "role": self.role}


# The server operator at the command line (`forum users set-role/suspend/...`): an admin's
# powers without an account; id 0 is moderation.audit.OPERATOR_ID (audited with no actor).
OPERATOR = Viewer(id=0, handle="operator", role="admin", status="active", suspended_until=None, session_id=0)


def set_idle_days(days: int) -> None:
    global _idle_days
    _idle_days = days


def set_session_days(days: int) -> None:
    """Absolute session lifetime (settings.session_days; set at start-up by accounts)."""
    global _session_days
    _session_days = days


def session_lifetimes() -> tuple[int, int]:
    """(absolute days, idle days) for new sessions."""
    return _session_days, _idle_days


def hash_token(token: str) -> str:
    """Sessions store only this (SHA-256 of a 256-bit random token: no salt needed)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    return bearer_token(connection.headers.get("authorization"))


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization` header; None without one, 401 for any other scheme."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'.")
    return token.strip()


async def resolve_viewer(connection: ASGIConnection[Any, Any, Any, Any]) -> Viewer | None:
    """The signed-in user, None when anonymous; 401 for an unknown, expired or revoked token."""
    cached = connection.scope.get("state", {}).get(_STATE_KEY, _MISSING)
    if cached is not _MISSING:
        return cast("Viewer | None", cached)  # what this function stored below
    token = _bearer(connection)
    viewer: Viewer | None = None
    if token is not None:
        viewer = await viewer_for_token(token, getattr(connection.app.state, "shared_reads", None))
        if viewer is None:
            raise Unauthorized("Invalid or expired token.")
    connection.scope.setdefault("state", {})[_STATE_KEY] = viewer
    return viewer


def session_sql(tokens: str) -> str:
    """The live sessions of the token hashes in the `text[]` parameter `tokens` (`"$1"`),
    one row each, the hash first: the one rule of what a live session is (not expired, not
    idle too long, its account not erased), for every statement that resolves tokens.

    One index lookup per token whatever the tables' sizes: the LATERAL ... LIMIT 1 (token_hash
    is unique) keeps the generic plan a nested loop. Written as `token_hash = ANY($1)` with a
    join, the generic plan (the pool's plan_cache_mode, forum/db.py) guessed 10 tokens and
    scanned both tables while they were small: 0.47 ms against 0.07 ms for three tokens on
    680 sessions (bench/README.md, scenario 9). The columns are named so that a statement may
    select them beside a topic's (forum/comments/reads.py, READER_BY_TOKEN_SQL)."""
    return f"""
SELECT k.token_hash, s.id AS session_id, s.last_seen_at, u.id AS user_id, u.handle, u.role,
       u.status AS user_status, u.suspended_until
  FROM unnest({tokens}::text[]) AS k(token_hash)
 CROSS JOIN LATERAL (
       SELECT s.id, s."user", s.last_seen_at FROM user_session s
        WHERE s.token_hash = k.token_hash AND s.expires_at > now() AND s.idle_expires_at > now()
        LIMIT 1) s
  JOIN forum_user u ON u.id = s."user"
 WHERE u.status <> 'erased'
"""


SESSION_SQL = session_sql("$1")


async def viewer_for_token(token: str, reads: SharedReads | None = None) -> Viewer | None:
    """The live session of a token (a bearer header's, or the console's cookie), None when
    unknown, expired or revoked: one rule for every way a session is presented. With the
    app's `reads`, the sessions asked for at the same moment are read by one statement
    (forum/coalesce.py); each caller's answer still comes from a statement that began after
    it asked, so a revoked session is refused by the next request, in every process."""
    row = await session_row(token, reads)
    return None if row is None else viewer_of(row)


async def session_row(token: str, reads: SharedReads | None = None, query: str = SESSION_SQL,
                      *args: Any) -> asyncpg.Record | None:
    """The row of `token`'s live session, None without one. `query` is SESSION_SQL, or a
    statement that selects `session_sql(...)`'s columns and more beside them (a signed-in
    thread read's state, read with the session in one statement): it takes `*args` and then
    the token hashes as its last parameter. The session's idle expiry slides here."""
    if not token or len(token) > 200:
        return None
    token_hash = hash_token(token)
    if reads is not None:
        row = await reads.fetch_item(query, token_hash, *args)
    else:
        row = await sql.fetchrow(query, *args, [token_hash])
    if row is None:
        return None
    if (datetime.now(UTC) - row["last_seen_at"]).total_seconds() > 300:
        # Sliding idle expiry, written at most every five minutes per session.
        await sql.execute(
            "UPDATE user_session SET last_seen_at = now(),"
            " idle_expires_at = LEAST(expires_at, now() + $2 * interval '1 day') WHERE id = $1",
            row["session_id"], _idle_days)
    return row


def viewer_of(row: asyncpg.Record) -> Viewer:
    """The viewer of a `session_row`."""
    return Viewer(row["user_id"], row["handle"], row["role"], row["user_status"], row["suspended_until"],
                  row["session_id"])


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's address as decided by the outer layer (trusted proxies only)."""
    state = connection.scope.get("state", {})
    if "client_ip" in state:
        return str(state["client_ip"])
    client = connection.scope.get("client")
    return client[0] if client else "unknown"


# ---------------------------------------------------------------- guards


async def requires_user(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if await resolve_viewer(connection) is None:
        raise Unauthorized("Sign in to do this.")


def with_article(word: str) -> str:
    """'a coach', 'an admin': role names in error messages."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def suspension_detail(viewer: Viewer) -> str:
    if viewer.suspended_until is None:
        return "Your account is suspended until a moderator lifts the suspension."
    until = viewer.suspended_until.astimezone(UTC)
    return f"Your account is suspended until {until.strftime('%Y-%m-%d %H:%M')} UTC ({rfc3339(until)})."


async def requires_active_user(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Signed in and not suspended: the guard of every write a suspended user may not do."""
    viewer = await resolve_viewer(connection)
    if viewer is None:
        raise Unauthorized("Sign in to do this.")
    if viewer.is_suspended:
        raise Forbidden(suspension_detail(viewer), suspended_until=(
            rfc3339(viewer.suspended_until) if viewer.suspended_until else None))


async def requires_active_if_signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """For routes guests may use too (posting a comment): a suspended user is refused."""
    viewer = await resolve_viewer(connection)
    if viewer is not None and viewer.is_suspended:
        raise Forbidden(suspension_detail(viewer), suspended_until=(
            rfc3339(viewer.suspended_until) if viewer.suspended_until else None))


def _requires_role(role: str) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        viewer = await resolve_viewer(connection)
        if viewer is None:
            raise Unauthorized("Sign in to do this.")
        if not viewer.at_least(role):
            if viewer.is_suspended and RANK[viewer.role] >= RANK[role]:
                # staff powers return when the suspension ends
                raise Forbidden(suspension_detail(viewer), suspended_until=(
                    viewer.suspended_until.isoformat() if viewer.suspended_until else None))
            raise Forbidden(f"Only {with_article(role)} or above may do this.")

    guard.__name__ = f"requires_{role}"
    return guard


requires_coach = _requires_role("coach")
requires_moderator = _requires_role("moderator")
requires_admin = _requires_role("admin")


# ---------------------------------------------------------------- dependencies


async def provide_viewer(request: Request[Any, Any, Any]) -> Viewer | None:
    return await resolve_viewer(request)


async def provide_user(request: Request[Any, Any, Any]) -> Viewer:
    viewer = await resolve_viewer(request)
    if viewer is None:
        raise Unauthorized("Sign in to do this.")
    return viewer


async def provide_client_ip(request: Request[Any, Any, Any]) -> str:
    return client_ip(request)


DEPENDENCIES = {
    "viewer": Provide(provide_viewer),
    "user": Provide(provide_user),
    "client_ip": Provide(provide_client_ip),
}
