"""Email addresses are attached only once their owner confirms them.

Registration and email changes answer the same whether or not the address already belongs
to an account: for this community, "this address has an account here" says that a family
is dealing with addiction. Every requested address goes through `request_address`:

- mail configured: the address waits in `email_confirmation`. When nobody has it, a
  single-use link (valid CONFIRM_TTL_S, only its SHA-256 stored) is mailed to it; opening
  `{FORUM_PUBLIC_URL}/confirm-email?token=...` calls `POST /api/auth/confirm-email`, which
  attaches it (`confirm`). When another account has it, that account's owner gets a short
  notice instead, and the row has no token (it can never be confirmed). Either way the
  caller sees the same `pending_email`.
- mail not configured: a free address is attached at once, as before. A taken one is held
  in `email_confirmation` without a token and never attached (no duplicate), and the owner
  of the account sees it as `email` all the same, so the answer does not differ. Login by
  that address and mail to it do not work (there is no mail anyway); see docs/security.md.

Mail to an address (links, notices) is limited per address, so the forum cannot be used to
flood someone's inbox; past the limit the request still answers the same, silently unsent.
"""

from __future__ import annotations

import hashlib
import secrets

import asyncpg

from forum import ratelimit, sql
from forum.errors import BadRequest, Conflict, RateLimited
from forum.notifications import mail

CONFIRM_TTL_S = 24 * 3600
HELD_TTL_DAYS = 3650  # without mail a held address stays as the owner gave it
MAILS_PER_ADDRESS, MAILS_WINDOW_S = 3, 3600
INVALID = "token: this confirmation link is invalid, used or expired; save your address again for a new one."


def hash_confirm_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _mail_limit(email: str) -> ratelimit.Window:
    return ratelimit.Window(f"mail:address:{email}", MAILS_PER_ADDRESS, MAILS_WINDOW_S)


async def _may_mail(email: str) -> bool:
    """Count one email to `email`; False past the limit (the request answers the same)."""
    try:
        await ratelimit.check(_mail_limit(email))
    except RateLimited:  # nothing is sent, nothing is said
        return False
    return True


async def _attach(user_id: int, email: str) -> bool:
    """Attach `email` now (a savepoint: a racing account may have taken it). False if taken."""
    try:
        async with sql.transaction():
            await sql.execute("UPDATE forum_user SET email = $2 WHERE id = $1", user_id, email)
    except asyncpg.UniqueViolationError:
        return False
    # a reset link mailed to an older address must not outlive the change
    await sql.execute('DELETE FROM password_reset WHERE "user" = $1 AND used_at IS NULL', user_id)
    return True


async def _hold(user_id: int, email: str, *, token_hash: str | None, ttl_s: int) -> int:
    found: int = await sql.fetchval(
        'INSERT INTO email_confirmation ("user", email, token_hash, created_at, expires_at)'
        " VALUES ($1, $2, $3, now(), now() + $4 * interval '1 second') RETURNING id",
        user_id, email, token_hash, ttl_s)
    return found


async def request_address(user_id: int, email: str) -> None:
    """`email` (clean, lower-case) for the account `user_id`, inside the caller's transaction.
    Nothing here changes what the caller is answered."""
    await sql.execute('DELETE FROM email_confirmation WHERE "user" = $1 AND used_at IS NULL', user_id)
    owner = await sql.fetchval("SELECT id FROM forum_user WHERE email = $1 AND id <> $2", email, user_id)
    if not mail.enabled():
        if owner is None and await _attach(user_id, email):
            return
        await _hold(user_id, email, token_hash=None, ttl_s=HELD_TTL_DAYS * 86400)
        return
    site, _ = mail.site_and_url()
    if owner is not None:
        await _hold(user_id, email, token_hash=None, ttl_s=CONFIRM_TTL_S)
        if await _may_mail(email):
            await mail.enqueue(owner, "address_in_use", f"Someone tried to use your address on {site}", (
                f"Hello,\n\nSomeone just tried to use this email address for an account on {site}.\n"
                "If it was you: you already have an account with this address. Sign in, or choose a new "
                f"password here:\n{mail.link('/reset')}\n\n"
                "If it was not you, there is nothing to do: the address stays with your account only.\n"))
        return
    token = secrets.token_urlsafe(32)
    confirmation = await _hold(user_id, email, token_hash=hash_confirm_token(token), ttl_s=CONFIRM_TTL_S)
    if await _may_mail(email):
        await mail.enqueue(user_id, "email_confirmation", f"Confirm your email address on {site}", (
            f"Hello,\n\nSomeone asked to use this email address for an account on {site}.\n"
            "If it was you, open this link within 24 hours to confirm it:\n"
            f"{mail.link('/confirm-email', token=token)}\n\n"
            "If it was not you, ignore this email: the address will not be used.\n"),
            confirmation=confirmation)


async def drop_requests(user_id: int) -> None:
    """Forget the account's addresses waiting for confirmation (address removed, account erased)."""
    await sql.execute('DELETE FROM email_confirmation WHERE "user" = $1', user_id)


async def confirm(token: str) -> int:
    """Attach the address of a live confirmation link. Returns the account's id.
    400 for an unknown, used or expired link; 409 when another account took the address
    meanwhile (only the address's owner holds the link, so this tells nobody else anything)."""
    if not token or len(token) > 200:
        raise BadRequest(INVALID)
    async with sql.transaction():
        row = await sql.fetchrow(
            'SELECT c.id, c."user", c.email FROM email_confirmation c JOIN forum_user u ON u.id = c."user"'
            " WHERE c.token_hash = $1 AND c.used_at IS NULL AND c.expires_at > now() AND u.status <> 'erased'"
            " FOR UPDATE OF c", hash_confirm_token(token))
        if row is None:
            raise BadRequest(INVALID)
        if not await _attach(row["user"], row["email"]):
            raise Conflict("email: this address now belongs to another account; sign in to that one instead.")
        # this link and every other waiting address of the account are done
        await sql.execute('UPDATE email_confirmation SET used_at = now() WHERE "user" = $1 AND used_at IS NULL',
                          row["user"])
    return int(row["user"])
