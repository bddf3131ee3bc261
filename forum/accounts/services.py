"""Accounts: registration, sign-in, sessions, the caller's own account, roles, erasure.

Privacy rules kept here: an email address is returned only to its owner (GET /api/me,
export) and never appears in an error message or a log line; login failures answer one
message after the same work whether or not the account exists; registration and email
changes answer the same whether or not the address has an account (forum/accounts/addresses.py).

Sign-in limits (`login`) reveal nothing and lock nobody out: every attempt counts per client
address; failures count per login text (as typed: a handle and an email of one account are
two texts, never linked) and per (login text, address). An address that failed too often on
a login text is refused for it; past the slower per-text limit (the back-off), only addresses
that have not failed on it yet are heard, so the owner signs in from a fresh address while a
guesser needs a new address for every guess. The same for existing and unknown accounts.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
import msgspec
from email_validator import EmailNotValidError, validate_email

from forum import auth, keyed, ratelimit, sql
from forum.accounts import addresses, passwords, reserved, secondfactor
from forum.accounts.schemas import (
    AccountStatus,
    AdminUserOut,
    AuthOut,
    ExportOut,
    MeOut,
    MePatch,
    ProfileOut,
    Role,
    UserRef,
)
from forum.auth import ROLES, Viewer, hash_token, suspension_detail
from forum.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from forum.timefmt import rfc3339

log = logging.getLogger("forum.accounts")

HANDLE_RE = re.compile(r"[A-Za-z0-9_.\-]{3,30}")
EMAIL_MAX = 254

LOGIN_FAILED = "Wrong login or password."
LOGIN_LIMIT, LOGIN_WINDOW_S = 10, 15 * 60  # attempts per client address
LOGIN_PAIR_FAILURES = 10  # failures per (login text, client address) in LOGIN_WINDOW_S
LOGIN_NAME_FAILURES, LOGIN_NAME_WINDOW_S = 30, 60 * 60  # failures per login text: then the back-off
CHECK_LIMIT = 10  # current-password checks per account in LOGIN_WINDOW_S
REGISTER_LIMIT, REGISTER_WINDOW_S = 20, 60 * 60  # per client address
LOGIN_LIMITED = "Too many sign-in attempts; try again later."
SECOND_FACTOR_REQUIRED = "Enter the code from your authenticator app (or a recovery code) to finish signing in."

_handle_hold_days = 90


def set_handle_hold_days(days: int) -> None:
    """FORUM_ERASED_HANDLE_HOLD_DAYS: how long an erased account's handle stays unavailable."""
    global _handle_hold_days
    _handle_hold_days = days


def handle_hash(handle: str) -> str:
    """The keyed hash under which an erased handle is held (the handle itself is not kept)."""
    return keyed.digest("erased-handle", handle.lower())

_USER_COLUMNS = ("id, handle, email, role, status, suspended_until, suspension_reason, notify_email,"
                 " created_at, password_hash,"
                 ' (SELECT c.email FROM email_confirmation c WHERE c."user" = forum_user.id AND c.used_at IS NULL'
                 "   AND c.expires_at > now() ORDER BY c.id DESC LIMIT 1) AS pending_email")


# ---------------------------------------------------------------- validation


def clean_handle(handle: str) -> str:
    handle = handle.strip()
    reserved.check_characters("handle", handle)
    if "@" in handle:
        raise BadRequest("handle: must not be an email address.")
    if not HANDLE_RE.fullmatch(handle):
        raise BadRequest("handle: must be 3-30 characters: letters, digits, '_', '-' or '.'.")
    if not any(c.isalnum() for c in handle):
        raise BadRequest("handle: must contain at least one letter or digit.")
    return handle


async def refuse_banned_handle(handle: str) -> None:
    """A handle shows beside every post: no banned word, read as posts are (422 naming it)."""
    from moderation.policy import refuse_banned_name  # moderation imports accounts' neighbours

    await refuse_banned_name("handle", handle)


def clean_email(email: str) -> str:
    """Syntax only (no DNS lookup), stored lower-case; the detail never repeats the address."""
    email = email.strip()
    if not email or len(email) > EMAIL_MAX:
        raise BadRequest("email: is not a valid email address.")
    try:
        result = validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise BadRequest("email: is not a valid email address.") from None
    normalized = result.normalized.lower()
    if len(normalized) > EMAIL_MAX:
        raise BadRequest("email: is not a valid email address.")
    return normalized


def clean_role(role: str) -> str:
    if role not in ROLES:
        raise BadRequest(f"role: must be one of {', '.join(ROLES)}.")
    return role


def _conflict_from(exc: asyncpg.UniqueViolationError) -> Conflict:
    constraint = getattr(exc, "constraint_name", "") or ""
    if "email" in constraint:
        return Conflict("email: already in use by another account.")
    return Conflict("handle: already taken; choose another.")


async def _handle_taken(handle: str, except_user: int | None = None) -> bool:
    """Another account has it, or an erased account had it within the hold period."""
    return bool(await sql.fetchval(
        "SELECT EXISTS (SELECT 1 FROM forum_user WHERE lower(handle) = lower($1) AND id IS DISTINCT FROM $2)"
        " OR EXISTS (SELECT 1 FROM erased_handle WHERE handle_hash = $3 AND held_until > now())",
        handle, except_user, handle_hash(handle)))


async def user_id_by_handle(handle: str) -> int | None:
    """The account that has this handle (case-insensitive), erased or not."""
    found: int | None = await sql.fetchval("SELECT id FROM forum_user WHERE lower(handle) = lower($1)", handle)
    return found


async def email_taken(email: str, except_user: int | None = None) -> bool:
    return bool(await sql.fetchval(
        "SELECT EXISTS (SELECT 1 FROM forum_user WHERE email = $1 AND id IS DISTINCT FROM $2)",
        email, except_user))


# ---------------------------------------------------------------- sessions


async def create_session(user_id: int) -> str:
    """A new bearer token (256 random bits); only its SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    days, idle_days = auth.session_lifetimes()
    await sql.execute(
        'INSERT INTO user_session ("user", token_hash, created_at, last_seen_at, expires_at, idle_expires_at)'
        " VALUES ($1, $2, now(), now(), now() + $3 * interval '1 day',"
        " LEAST(now() + $3 * interval '1 day', now() + $4 * interval '1 day'))",
        user_id, hash_token(token), days, idle_days)
    return token


async def revoke_session(session_id: int) -> None:
    await sql.execute("DELETE FROM user_session WHERE id = $1", session_id)


async def revoke_sessions(user_id: int, *, keep_session_id: int | None = None) -> int:
    status = await sql.execute(
        'DELETE FROM user_session WHERE "user" = $1 AND id IS DISTINCT FROM $2', user_id, keep_session_id)
    return sql.rowcount(status)


# ---------------------------------------------------------------- register / login


async def _prepare_user(handle: str, password: str, email: str | None, role: str, *,
                        check_email: bool = True) -> tuple[str, str | None, str, str]:
    """Validate like registration and hash (outside any transaction: hashing is slow).
    Returns (handle, email, password_hash, role); 400/409 on refusal. `check_email=False`
    (self-registration): a taken address is not refused here (addresses.request_address)."""
    handle = clean_handle(handle)
    await refuse_banned_handle(handle)
    clean = clean_email(email) if email is not None and email.strip() != "" else None
    passwords.check_policy(password, handle=handle, email=clean)
    role = clean_role(role)
    # Cheap checks first, so a taken handle costs no hashing; the unique indexes decide races.
    if await _handle_taken(handle):
        raise Conflict("handle: already taken; choose another.")
    if check_email and clean is not None and await email_taken(clean):
        raise Conflict("email: already in use by another account.")
    return handle, clean, await passwords.hash_password(password), role


async def _insert_user(handle: str, email: str | None, password_hash: str, role: str) -> asyncpg.Record:
    try:
        async with sql.transaction():
            row = await sql.fetchrow(
                "INSERT INTO forum_user (handle, email, password_hash, role, status, notify_email, created_at)"
                " VALUES ($1, $2, $3, $4, 'active', false, now()) RETURNING id, handle, role",
                handle, email, password_hash, role)
    except asyncpg.UniqueViolationError as exc:
        raise _conflict_from(exc) from None
    if row is None:  # INSERT ... RETURNING always answers a row
        raise RuntimeError("inserting a user returned no row")
    return row


async def register(handle: str, password: str, email: str | None, client_ip: str) -> AuthOut:
    await ratelimit.hit(f"register:ip:{client_ip}", REGISTER_LIMIT, REGISTER_WINDOW_S,
                        "Too many registrations from this address; try again later.")
    if reserved.reserved_handle(handle):
        raise Conflict(reserved.RESERVED_DETAIL)
    handle, clean, password_hash, role = await _prepare_user(handle, password, email, "reader", check_email=False)
    async with sql.transaction():
        row = await _insert_user(handle, None, password_hash, role)
        if clean is not None:  # the same answer whether or not the address is taken
            await addresses.request_address(row["id"], clean)
        token = await create_session(row["id"])
    log.info("account %s registered", row["id"])
    return AuthOut(token=token, user=UserRef(id=row["id"], handle=row["handle"], role=row["role"]))


async def create_user_cli(handle: str, password: str, email: str | None, role: str) -> dict[str, Any]:
    """`forum users create`: the same rules as registration, any role, no session."""
    row = await _insert_user(*await _prepare_user(handle, password, email, role))
    return {"id": row["id"], "handle": row["handle"], "role": row["role"]}


def _login_limits(name: str, client_ip: str) -> tuple[ratelimit.Window, ratelimit.Window]:
    """The failure counters of a login text: per (text, address) and per text (the back-off)."""
    text = name.lower()
    return (ratelimit.Window(f"login:pair:{text}\x00{client_ip}", LOGIN_PAIR_FAILURES, LOGIN_WINDOW_S, LOGIN_LIMITED),
            ratelimit.Window(f"login:name:{text}", LOGIN_NAME_FAILURES, LOGIN_NAME_WINDOW_S, LOGIN_LIMITED))


async def login(login_name: str, password: str, client_ip: str) -> AuthOut:
    """Handle or email. Unknown login, erased account and wrong password all answer the same
    401 after one full argon2 verification, and the same 429s (see the module's docstring)."""
    await ratelimit.hit(f"login:ip:{client_ip}", LOGIN_LIMIT, LOGIN_WINDOW_S, LOGIN_LIMITED)
    name = login_name.strip()
    pair, per_name = _login_limits(name, client_ip)
    pair_failures, name_failures = await ratelimit.peek(pair, per_name)
    if ratelimit.bound(pair) and pair_failures >= ratelimit.bound(pair):
        raise ratelimit.refuse(pair)
    if ratelimit.bound(per_name) and name_failures >= ratelimit.bound(per_name) and pair_failures > 0:
        raise ratelimit.refuse(per_name)  # the back-off: addresses that failed here wait
    row: asyncpg.Record | None = None
    if name and "\x00" not in name:
        if "@" in name:
            row = await sql.fetchrow(
                "SELECT id, handle, role, password_hash FROM forum_user WHERE email = $1 AND status <> 'erased'",
                name.lower())
        else:
            row = await sql.fetchrow(
                "SELECT id, handle, role, password_hash FROM forum_user"
                " WHERE lower(handle) = lower($1) AND status <> 'erased'", name)
    stored = row["password_hash"] if row is not None else None
    if not await passwords.verify(stored, password) or row is None:
        await ratelimit.check(pair, per_name, enforce=False)  # failures only: the owner is never locked out
        raise Unauthorized(LOGIN_FAILED)
    async with sql.transaction():
        if passwords.needs_rehash(stored):  # type: ignore[arg-type]
            new_hash = await passwords.hash_password(password)
            await sql.execute("UPDATE forum_user SET password_hash = $2 WHERE id = $1 AND password_hash = $3",
                              row["id"], new_hash, stored)
        two_factor = await secondfactor.has_factor(row["id"])
        if two_factor:  # no session from the password alone (forum/accounts/secondfactor.py)
            challenge, expires = await secondfactor.open_challenge(row["id"])
        else:
            token = await create_session(row["id"])
    if two_factor:
        raise Unauthorized(SECOND_FACTOR_REQUIRED, second_factor_required=True,
                           challenge=challenge, challenge_expires_at=rfc3339(expires))
    return AuthOut(token=token, user=UserRef(id=row["id"], handle=row["handle"], role=row["role"]))


async def login_second_factor(challenge: str, code: str | None, recovery_code: str | None) -> AuthOut:
    """The second step of a sign-in with two factors: a session for a good challenge and code."""
    user_id = await secondfactor.complete_login(challenge, code, recovery_code)
    row = await sql.fetchrow("SELECT id, handle, role FROM forum_user WHERE id = $1 AND status <> 'erased'", user_id)
    if row is None:
        raise Unauthorized("The sign-in has expired; sign in again.")
    token = await create_session(user_id)
    return AuthOut(token=token, user=UserRef(id=row["id"], handle=row["handle"], role=row["role"]))


async def logout(viewer: Viewer) -> None:
    await revoke_session(viewer.session_id)


async def logout_everywhere(viewer: Viewer) -> int:
    """End every session of the account, this one included. Returns how many ended."""
    return await revoke_sessions(viewer.id)


# ---------------------------------------------------------------- the caller's account


def _effective_status(row: asyncpg.Record) -> AccountStatus:
    if row["status"] == "suspended" and row["suspended_until"] is not None \
            and row["suspended_until"] <= datetime.now(UTC):
        return "active"  # a timed suspension that has run out
    return cast("AccountStatus", row["status"])  # the column's CHECK constraint holds the set


def _me_out(row: asyncpg.Record) -> MeOut:
    from forum.notifications import mail

    status = _effective_status(row)
    suspended = status == "suspended"
    email, pending = row["email"], row["pending_email"]
    if pending is not None and not mail.enabled():
        email, pending = pending, None  # held without mail: shown as given (forum/accounts/addresses.py)
    return MeOut(id=row["id"], handle=row["handle"], email=email, role=row["role"], status=status,
                 created_at=row["created_at"], notify_email=row["notify_email"],
                 suspended_until=row["suspended_until"] if suspended else None,
                 suspension_reason=row["suspension_reason"] if suspended else None,
                 pending_email=pending)


async def _user_row(user_id: int, *, for_update: bool = False) -> asyncpg.Record:
    row = await sql.fetchrow(
        f"SELECT {_USER_COLUMNS} FROM forum_user WHERE id = $1 AND status <> 'erased'"
        + (" FOR UPDATE" if for_update else ""), user_id)
    if row is None:
        raise NotFound("No such user.")
    return row


async def get_me(viewer: Viewer) -> MeOut:
    return _me_out(await _user_row(viewer.id))


async def update_me(viewer: Viewer, patch: MePatch) -> MeOut:
    """Handle, email, password and notification preference. Changing the password or the
    email needs `current_password` (a stolen token alone must not take the account over)."""
    new_password = patch.password if isinstance(patch.password, str) else None  # str or UNSET
    wants_password = new_password is not None
    wants_email = patch.email is not msgspec.UNSET
    new_handle = clean_handle(patch.handle) if isinstance(patch.handle, str) else None
    # staff may take staff-like handles; nobody the words the forum shows itself
    if new_handle is not None and (reserved.reserved_handle(new_handle) if not viewer.is_coach
                                   else reserved.system_word(new_handle)):
        raise Conflict(reserved.RESERVED_DETAIL)
    if new_handle is not None:  # a rename shows at once on every published comment
        await refuse_banned_handle(new_handle)
    new_email: str | None = None
    if isinstance(patch.email, str) and patch.email.strip():
        new_email = clean_email(patch.email)
    if new_handle is not None and viewer.is_suspended:  # a rename is a public write
        raise Forbidden(suspension_detail(viewer), suspended_until=(
            rfc3339(viewer.suspended_until) if viewer.suspended_until else None))

    if wants_password or wants_email:
        # outside the transaction: the attempt must count even when it fails (and argon2 is slow)
        verified = await _check_current_password(await _user_row(viewer.id), patch.current_password)
    async with sql.transaction():
        row = await _user_row(viewer.id, for_update=True)
        if (wants_password or wants_email) and row["password_hash"] != verified:
            raise Forbidden("current_password: does not match.")  # changed meanwhile by another request
        if new_password is not None:
            passwords.check_policy(new_password, handle=new_handle or row["handle"],
                                   email=new_email if wants_email else row["email"])
        try:
            if new_handle is not None and new_handle != row["handle"]:
                if await _handle_taken(new_handle, except_user=viewer.id):
                    raise Conflict("handle: already taken; choose another.")
                await sql.execute("UPDATE forum_user SET handle = $2 WHERE id = $1", viewer.id, new_handle)
            if wants_email and new_email is None:
                await addresses.drop_requests(viewer.id)
                if row["email"] is not None:
                    await sql.execute("UPDATE forum_user SET email = NULL WHERE id = $1", viewer.id)
                    # a reset link mailed to the old address must not outlive the change
                    await sql.execute('DELETE FROM password_reset WHERE "user" = $1 AND used_at IS NULL', viewer.id)
            elif wants_email and new_email is not None:
                if new_email == row["email"]:
                    await addresses.drop_requests(viewer.id)  # keeping the address: no change waits
                else:  # the same answer whether or not the address is taken
                    await addresses.request_address(viewer.id, new_email)
        except asyncpg.UniqueViolationError as exc:
            raise _conflict_from(exc) from None
        if isinstance(patch.notify_email, bool):
            await sql.execute("UPDATE forum_user SET notify_email = $2 WHERE id = $1", viewer.id,
                              patch.notify_email)
        if new_password is not None:
            new_hash = await passwords.hash_password(new_password)
            await sql.execute("UPDATE forum_user SET password_hash = $2 WHERE id = $1", viewer.id, new_hash)
            await revoke_sessions(viewer.id, keep_session_id=viewer.session_id)
            await sql.execute('DELETE FROM password_reset WHERE "user" = $1 AND used_at IS NULL', viewer.id)
        row = await _user_row(viewer.id)
    return _me_out(row)


async def _check_current_password(row: asyncpg.Record, current: object,
                                  needed_for: str = "to change the password or the email address") -> str | None:
    """The stored hash the password was verified against; 400 missing, 403 wrong."""
    if not isinstance(current, str) or current == "":
        raise BadRequest(f"current_password: required {needed_for}.")
    # Guessing the current password with a stolen token is limited per account.
    await ratelimit.hit(f"check:user:{row['id']}", CHECK_LIMIT, LOGIN_WINDOW_S, LOGIN_LIMITED)
    if not await passwords.verify(row["password_hash"], current):
        raise Forbidden("current_password: does not match.")
    return row["password_hash"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- profiles and roles


async def get_profile(user_id: int) -> ProfileOut:
    row = await sql.fetchrow(
        "SELECT id, handle, role, created_at FROM forum_user WHERE id = $1::bigint AND status <> 'erased'", user_id)
    if row is None:
        raise NotFound("No such user.")
    return ProfileOut(id=row["id"], handle=row["handle"], role=row["role"], created_at=row["created_at"])


async def change_role(admin: Viewer, user_id: int, role: str) -> AdminUserOut:
    """Admin only. One audit entry per change, in the same transaction; it applies from the
    next request (roles are read per request). The last admin cannot be demoted."""
    role = clean_role(role)
    from moderation import audit

    async with sql.transaction():
        row = await sql.fetchrow(
            "SELECT id, handle, role, status, created_at FROM forum_user"  # ids are int4: 2**40 is a 404
            " WHERE id = $1::bigint AND status NOT IN ('erased', 'system') FOR UPDATE", user_id)
        if row is None:
            raise NotFound("No such user.")
        before = row["role"]
        if before != role:
            if before == "admin":
                # serialise concurrent demotions of admins: the lock is on every admin row
                others = await sql.fetchval(
                    "SELECT count(*) FROM (SELECT id FROM forum_user WHERE role = 'admin'"
                    " AND status <> 'erased' AND id <> $1 FOR UPDATE) a", user_id)
                if not others:
                    raise Conflict("role: the last admin cannot be demoted; make another admin first.")
            await sql.execute("UPDATE forum_user SET role = $2 WHERE id = $1", user_id, role)
            await audit.write(admin.id, "role_change", "user", user_id, None, {"before": before, "after": role})
            log.info("user %s role %s -> %s by admin %s", user_id, before, role, admin.id)
    return AdminUserOut(id=row["id"], handle=row["handle"], role=cast("Role", role), status=_effective_status(row),
                        created_at=row["created_at"])


# ---------------------------------------------------------------- erasure


def personal_rate_keys(user_id: int, handle: str | None, email: str | None) -> list[str]:
    """The rate-limit buckets that name this person (its handle, email or id). Buckets keyed
    by a client address alone are not tied to anyone; they expire (forum/ratelimit.sweep)."""
    keys = [f"{kind}:user:{user_id}" for kind in ("check", "flag")]
    keys += [f"post:user:{user_id}", f"post:user-hour:{user_id}"]
    for name in (handle, email):
        if name:
            keys += [f"login:name:{name.lower()}", f"pwreset:login:{name.lower()}"]
    if email:
        keys.append(f"mail:address:{email}")
    return keys


async def _hold_handle(handle: str | None) -> None:
    """Keep an erased handle from anyone else for FORUM_ERASED_HANDLE_HOLD_DAYS (as a keyed hash)."""
    if handle is None or _handle_hold_days <= 0:
        return
    await sql.execute(
        "INSERT INTO erased_handle (handle_hash, held_until) VALUES ($1, now() + $2 * interval '1 day')"
        " ON CONFLICT (handle_hash) DO UPDATE SET held_until = greatest(erased_handle.held_until, EXCLUDED.held_until)",
        handle_hash(handle), _handle_hold_days)


async def erase_account(viewer: Viewer, current_password: str | None = None) -> None:
    """DELETE /api/me: all or nothing, in one transaction. An account with a password must
    give it (`current_password`: 400 missing, 403 wrong, limited like every password check):
    a stolen token alone must not erase someone.

    Content first (the comments and moderation domains know their own rules), then
    everything else that names or reaches the user, then the user row becomes a husk
    (kept for foreign keys: no handle, no email, no password, status `erased`).
    """
    from forum.comments.erasure import erase_user_content
    from moderation.services import remove_flags_of

    user_id = viewer.id
    found = await sql.fetchrow("SELECT id, password_hash FROM forum_user WHERE id = $1", user_id)
    verified = None
    if found is not None and found["password_hash"] is not None:
        verified = await _check_current_password(found, current_password, "to delete the account")
    async with sql.transaction():
        row = await sql.fetchrow(
            "SELECT id, handle, email, password_hash FROM forum_user WHERE id = $1 AND status <> 'erased' FOR UPDATE",
            user_id)
        if row is None:
            raise NotFound("No such user.")
        if row["password_hash"] != verified:
            raise Forbidden("current_password: does not match.")  # changed meanwhile by another request
        await _hold_handle(row["handle"])
        await ratelimit.forget(*personal_rate_keys(user_id, row["handle"], row["email"]))
        await addresses.drop_requests(user_id)
        await erase_user_content(user_id)
        await remove_flags_of(user_id)
        # Replayable responses may carry the user's text and handle.
        await sql.execute("DELETE FROM idempotency_key WHERE scope = $1", f"user:{user_id}")
        # Emails about the user's actions to other people quote them: drop those not yet sent
        # and those kept after sending; the notifications themselves stay, without the actor.
        await sql.execute(
            'DELETE FROM email_outbox WHERE notification IN (SELECT id FROM notification WHERE actor = $1)',
            user_id)
        await sql.execute('DELETE FROM email_outbox WHERE "user" = $1', user_id)
        await sql.execute('DELETE FROM notification WHERE "user" = $1', user_id)
        await sql.execute("UPDATE notification SET actor = NULL WHERE actor = $1", user_id)
        await sql.execute('DELETE FROM password_reset WHERE "user" = $1', user_id)
        await secondfactor.erase(user_id)
        await sql.execute("DELETE FROM question_claim WHERE coach = $1", user_id)
        await sql.execute(
            "UPDATE moderation_item SET claimed_by = NULL, claim_expires_at = NULL WHERE claimed_by = $1", user_id)
        await revoke_sessions(user_id)
        await sql.execute(
            "UPDATE forum_user SET handle = NULL, email = NULL, password_hash = NULL, status = 'erased',"
            " role = 'reader', suspended_until = NULL, suspension_reason = NULL, notify_email = false,"
            " erased_at = now() WHERE id = $1", user_id)
    log.info("account %s erased", user_id)


# ---------------------------------------------------------------- export


def _records(rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [dict(r) for r in rows]


async def export_me(viewer: Viewer) -> ExportOut:
    """Everything stored about the caller, nothing of anyone else: other people's text,
    handles and emails stay out (notifications carry ids and the topic's public slug)."""
    user_id = viewer.id
    async with sql.transaction():  # one consistent snapshot
        await sql.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        row = await _user_row(user_id)
        profile = msgspec.to_builtins(_me_out(row))
        sessions = _records(await sql.fetch(
            'SELECT created_at, last_seen_at, expires_at, idle_expires_at, id = $2 AS current'
            ' FROM user_session WHERE "user" = $1 ORDER BY id', user_id, viewer.session_id))
        topics = _records(await sql.fetch(
            "SELECT id, slug, kind, title, url, body, status, comments_mode AS comments, created_at, updated_at"
            " FROM topic WHERE author = $1 ORDER BY id", user_id))
        comments = _records(await sql.fetch(
            "SELECT c.id, t.slug AS topic_slug, c.parent AS parent_id, c.depth, c.kind, c.status, c.private,"
            " c.guest_name, c.body, c.body_html, c.score, c.accepted, c.question_status, c.created_at,"
            " c.edited_at, c.deleted_at, c.pending_body AS pending_edit_body, c.pending_edited_at"
            " FROM comment c JOIN topic t ON t.id = c.topic WHERE c.author = $1 ORDER BY c.id", user_id))
        revisions = await sql.fetch(
            "SELECT r.comment AS comment_id, r.id, r.body, r.body_html, r.created_at,"
            " (r.editor IS NOT DISTINCT FROM $1) AS edited_by_you"
            " FROM comment_revision r JOIN comment c ON c.id = r.comment"
            " WHERE c.author = $1 ORDER BY r.comment, r.id", user_id)
        by_comment: dict[int, list[dict[str, Any]]] = {}
        for rev in revisions:
            item = dict(rev)
            by_comment.setdefault(item.pop("comment_id"), []).append(item)
        for comment in comments:
            comment["revisions"] = by_comment.get(comment["id"], [])
        votes = _records(await sql.fetch(
            'SELECT v.comment AS comment_id, t.slug AS topic_slug, v.created_at FROM vote v'
            ' JOIN comment c ON c.id = v.comment JOIN topic t ON t.id = c.topic'
            ' WHERE v."user" = $1 ORDER BY v.id', user_id))
        flags = _records(await sql.fetch(
            'SELECT f.id, f.comment AS comment_id, f.reason, f.note, f.created_at FROM flag f'
            ' WHERE f."user" = $1 ORDER BY f.id', user_id))
        notifications = _records(await sql.fetch(
            "SELECT n.id, n.kind, n.comment AS comment_id, t.slug AS topic_slug, n.reason, n.created_at, n.read_at"
            " FROM notification n LEFT JOIN topic t ON t.id = n.topic"
            ' WHERE n."user" = $1 ORDER BY n.id', user_id))
    return ExportOut(exported_at=datetime.now(UTC), profile=profile, sessions=sessions, topics=topics,
                     comments=comments, votes=votes, flags=flags, notifications=notifications)


# ---------------------------------------------------------------- the operator's list


async def list_users(role: str | None, search: str | None, limit: int = 200) -> list[dict[str, Any]]:
    """Live accounts for the server operator (`forum users list`), oldest first: `role`
    exactly, `search` a part of the handle or a whole email address (case-insensitive)."""
    if role is not None:
        role = clean_role(role)
    pattern = None
    if search:
        pattern = "%" + search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await sql.fetch(
        f"SELECT {_USER_COLUMNS} FROM forum_user"
        " WHERE status NOT IN ('erased', 'system') AND ($1::text IS NULL OR role = $1)"
        "   AND ($2::text IS NULL OR handle ILIKE $2 OR email = lower($3))"
        " ORDER BY id LIMIT $4",
        role, pattern, (search or "").strip(), limit)
    return [{"id": r["id"], "handle": r["handle"], "role": r["role"], "status": _effective_status(r),
             "suspended_until": r["suspended_until"] if _effective_status(r) == "suspended" else None,
             "email": r["email"], "has_password": r["password_hash"] is not None,
             "created_at": r["created_at"]} for r in rows]
