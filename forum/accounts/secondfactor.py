"""Two-factor sign-in: TOTP (RFC 6238) codes from an authenticator app, and single-use
recovery codes.

- Enrolment: `start` stores a new secret (unconfirmed) and answers it with its otpauth://
  URI and a QR code made here (segno, SVG; no third party sees the secret); `confirm`
  takes the first good code, marks the factor confirmed and answers ten recovery codes,
  shown this once (only their keyed hashes are stored).
- Sign-in: an account with a confirmed factor gets no session from its password alone:
  `login` (forum/accounts/services.py) answers 401 `second_factor_required` with a
  challenge (valid CHALLENGE_MINUTES, CHALLENGE_FAILURES wrong codes), and `complete_login`
  trades the challenge and a code (or a recovery code) for a session. The same for the
  API and the console.
- A TOTP code is accepted once (`last_step`), within one step of the server's clock.
- Guessing codes is limited per account (CODE_FAILURES in CODE_WINDOW_S) on top of the
  challenge's own limit.
- Disabling needs the password and a code; an admin can reset a lost factor (audited).
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyotp
import segno

from forum import keyed, ratelimit, sql
from forum.accounts import passwords
from forum.auth import Viewer, hash_token
from forum.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized

ISSUER_DEFAULT = "forum"
STEP_S = 30
RECOVERY_CODES = 10
CHALLENGE_MINUTES = 5
CHALLENGE_FAILURES = 5
CODE_FAILURES, CODE_WINDOW_S = 10, 15 * 60
WRONG_CODE = "code: that code is not right; check the clock of your device and try the newest code."
CODE_LIMITED = "Too many wrong codes; try again later."

_issuer = ISSUER_DEFAULT
_staff_required = False


def configure(site_name: str, staff_required: bool) -> None:
    """Set at start-up (forum/accounts/lifecycle.py): the issuer shown in authenticator apps,
    and FORUM_STAFF_2FA."""
    global _issuer, _staff_required
    _issuer = site_name or ISSUER_DEFAULT
    _staff_required = staff_required


def staff_required() -> bool:
    return _staff_required


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg_data_uri: str


# ---------------------------------------------------------------- codes


def _normalise_code(code: str) -> str:
    return "".join(c for c in code if not c.isspace())


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (one either side of now) whose code this is, or None."""
    code = _normalise_code(code)
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_S)
    now = time.time() if now is None else now
    current = int(now // STEP_S)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


def _recovery_hash(user_id: int, code: str) -> str:
    clean = "".join(c for c in code.lower() if c.isalnum())
    return keyed.digest("recovery-code", f"{user_id}\x00{clean}")


def _new_recovery_codes() -> list[str]:
    """80 random bits each, written as four groups of four (base32, lower-case)."""
    out = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()
        out.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
    return out


def qr_data_uri(uri: str) -> str:
    """The otpauth URI as a QR code: an SVG data: URI (CSP img-src 'self' data:)."""
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2, dark="#000", light="#fff")


# ---------------------------------------------------------------- state


async def has_factor(user_id: int) -> bool:
    return bool(await sql.fetchval(
        'SELECT EXISTS (SELECT 1 FROM second_factor WHERE "user" = $1 AND confirmed_at IS NOT NULL)', user_id))


async def status(user_id: int) -> dict[str, Any]:
    row = await sql.fetchrow(
        'SELECT confirmed_at, (SELECT count(*) FROM recovery_code r WHERE r."user" = $1 AND r.used_at IS NULL)'
        ' AS left FROM second_factor WHERE "user" = $1', user_id)
    enabled = row is not None and row["confirmed_at"] is not None
    return {"enabled": enabled, "confirmed_at": row["confirmed_at"] if enabled and row else None,
            "recovery_codes_left": int(row["left"]) if enabled and row else 0,
            "required": _staff_required and await _is_staff(user_id)}


async def _is_staff(user_id: int) -> bool:
    role = await sql.fetchval("SELECT role FROM forum_user WHERE id = $1", user_id)
    return role in ("coach", "moderator", "admin")


# ---------------------------------------------------------------- enrolment


async def start(viewer: Viewer) -> Enrolment:
    """A new secret, waiting for its first code; replaces an unconfirmed one. 409 when a
    factor is already on (disable it first)."""
    secret = pyotp.random_base32(length=32)
    async with sql.transaction():
        confirmed = await sql.fetchval(
            'SELECT confirmed_at IS NOT NULL FROM second_factor WHERE "user" = $1 FOR UPDATE', viewer.id)
        if confirmed:
            raise Conflict("Two-factor sign-in is already on for this account; turn it off first to start again.")
        await sql.execute(
            'INSERT INTO second_factor ("user", secret, created_at) VALUES ($1, $2, now())'
            ' ON CONFLICT ("user") DO UPDATE SET secret = EXCLUDED.secret, created_at = now(),'
            ' confirmed_at = NULL, last_step = 0', viewer.id, secret)
    uri = pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(name=viewer.handle, issuer_name=_issuer)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg_data_uri=qr_data_uri(uri))


async def confirm(viewer: Viewer, code: str) -> list[str]:
    """The first good code turns the factor on; answers the recovery codes (shown once)."""
    await ratelimit.hit(f"2fa:user:{viewer.id}", CODE_FAILURES, CODE_WINDOW_S, CODE_LIMITED)
    codes = _new_recovery_codes()
    async with sql.transaction():
        row = await sql.fetchrow(
            'SELECT secret, confirmed_at FROM second_factor WHERE "user" = $1 FOR UPDATE', viewer.id)
        if row is None:
            raise NotFound("No two-factor set-up is waiting; start again.")
        if row["confirmed_at"] is not None:
            raise Conflict("Two-factor sign-in is already on for this account.")
        step = _matching_step(row["secret"], code)
        if step is None:
            raise BadRequest(WRONG_CODE)
        await sql.execute('UPDATE second_factor SET confirmed_at = now(), last_step = $2 WHERE "user" = $1',
                          viewer.id, step)
        await _store_recovery_codes(viewer.id, codes)
    return codes


async def _store_recovery_codes(user_id: int, codes: list[str]) -> None:
    await sql.execute('DELETE FROM recovery_code WHERE "user" = $1', user_id)
    for code in codes:
        await sql.execute('INSERT INTO recovery_code ("user", code_hash) VALUES ($1, $2)',
                          user_id, _recovery_hash(user_id, code))


async def _use_code(user_id: int, code: str | None, recovery_code: str | None) -> bool:
    """In the caller's transaction: True when the TOTP code (once) or an unused recovery
    code is good, which it then spends."""
    if recovery_code:
        status_ = await sql.execute(
            'UPDATE recovery_code SET used_at = now() WHERE "user" = $1 AND code_hash = $2 AND used_at IS NULL',
            user_id, _recovery_hash(user_id, recovery_code))
        return sql.rowcount(status_) == 1
    if not code:
        return False
    row = await sql.fetchrow(
        'SELECT secret, last_step FROM second_factor WHERE "user" = $1 AND confirmed_at IS NOT NULL FOR UPDATE',
        user_id)
    if row is None:
        return False
    step = _matching_step(row["secret"], code)
    if step is None or step <= row["last_step"]:
        return False  # wrong, or already used
    await sql.execute('UPDATE second_factor SET last_step = $2 WHERE "user" = $1', user_id, step)
    return True


async def _check_password(user_id: int, password: str) -> None:
    await ratelimit.hit(f"check:user:{user_id}", 10, CODE_WINDOW_S, "Too many attempts; try again later.")
    stored = await sql.fetchval("SELECT password_hash FROM forum_user WHERE id = $1", user_id)
    if not await passwords.verify(stored, password):
        raise Forbidden("current_password: does not match.")


async def disable(viewer: Viewer, current_password: str, code: str | None, recovery_code: str | None) -> None:
    """Needs the password and a code (or a recovery code)."""
    if not (code or recovery_code):
        raise BadRequest("code: required (or recovery_code).")
    await _check_password(viewer.id, current_password)
    await ratelimit.hit(f"2fa:user:{viewer.id}", CODE_FAILURES, CODE_WINDOW_S, CODE_LIMITED)
    async with sql.transaction():
        if not await has_factor(viewer.id):
            raise NotFound("Two-factor sign-in is not on for this account.")
        if not await _use_code(viewer.id, code, recovery_code):
            raise BadRequest(WRONG_CODE)
        await _remove(viewer.id)


async def regenerate_recovery_codes(viewer: Viewer, current_password: str, code: str) -> list[str]:
    """New recovery codes (the old ones stop working); needs the password and a code."""
    await _check_password(viewer.id, current_password)
    await ratelimit.hit(f"2fa:user:{viewer.id}", CODE_FAILURES, CODE_WINDOW_S, CODE_LIMITED)
    codes = _new_recovery_codes()
    async with sql.transaction():
        if not await has_factor(viewer.id):
            raise NotFound("Two-factor sign-in is not on for this account.")
        if not await _use_code(viewer.id, code, None):
            raise BadRequest(WRONG_CODE)
        await _store_recovery_codes(viewer.id, codes)
    return codes


async def _remove(user_id: int) -> None:
    await sql.execute('DELETE FROM second_factor WHERE "user" = $1', user_id)
    await sql.execute('DELETE FROM recovery_code WHERE "user" = $1', user_id)
    await sql.execute('DELETE FROM login_challenge WHERE "user" = $1', user_id)


async def admin_reset(admin: Viewer, user_id: int) -> None:
    """An admin removes a lost factor (audited); the person signs in with the password and
    may enrol again. Their sessions end, so whoever holds one signs in again."""
    from forum.accounts.services import revoke_sessions
    from moderation import audit

    async with sql.transaction():
        found = await sql.fetchval(
            "SELECT id FROM forum_user WHERE id = $1::bigint AND status <> 'erased' FOR UPDATE", user_id)
        if found is None:
            raise NotFound("No such user.")
        had = await has_factor(user_id)
        await _remove(user_id)
        await revoke_sessions(user_id)
        await audit.write(admin.id, "second_factor_reset", "user", user_id, None, {"had_factor": had})


async def erase(user_id: int) -> None:
    """Account erasure (in its transaction)."""
    await _remove(user_id)


# ---------------------------------------------------------------- sign-in


async def open_challenge(user_id: int) -> tuple[str, datetime]:
    """After a good password: a challenge token to trade with a code."""
    token = secrets.token_urlsafe(32)
    await sql.execute("DELETE FROM login_challenge WHERE expires_at < now()")
    expires = await sql.fetchval(
        'INSERT INTO login_challenge ("user", token_hash, expires_at)'
        " VALUES ($1, $2, now() + $3 * interval '1 minute') RETURNING expires_at",
        user_id, hash_token(token), CHALLENGE_MINUTES)
    return token, expires


async def complete_login(challenge: str, code: str | None, recovery_code: str | None) -> int:
    """The user id whose challenge and code are good (the challenge is spent); 401 for an
    unknown, expired or exhausted challenge, 400 for a wrong code."""
    if not (code or recovery_code):
        raise BadRequest("code: required (or recovery_code).")
    if len(challenge) > 200:
        raise Unauthorized("The sign-in has expired; sign in again.")
    row = await sql.fetchrow(
        'SELECT id, "user" FROM login_challenge WHERE token_hash = $1 AND expires_at > now()'
        " AND failures < $2", hash_token(challenge), CHALLENGE_FAILURES)
    if row is None:
        raise Unauthorized("The sign-in has expired; sign in again.")
    user_id = int(row["user"])
    await ratelimit.hit(f"2fa:user:{user_id}", CODE_FAILURES, CODE_WINDOW_S, CODE_LIMITED)
    async with sql.transaction():
        good = await _use_code(user_id, code, recovery_code)
        if good:
            spent = await sql.execute("DELETE FROM login_challenge WHERE id = $1", row["id"])
            if sql.rowcount(spent) != 1:  # a concurrent request used it
                raise Unauthorized("The sign-in has expired; sign in again.")
    if not good:
        await sql.execute("UPDATE login_challenge SET failures = failures + 1 WHERE id = $1", row["id"])
        raise BadRequest(WRONG_CODE if code else "recovery_code: not a recovery code of this account,"
                         " or already used.")
    return user_id
