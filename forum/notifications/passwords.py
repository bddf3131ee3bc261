"""Password reset by email: a single-use link valid one hour, stored as a SHA-256 hash.

The request answers the same whether or not the account exists; only an account with an
email address, on a site with mail configured, gets a link. Confirming sets the new
password and revokes every session of the account.

Invitations hand an account without a password (one brought in by `forum import json`:
exports never carry emails or password hashes) back to its person: an admin gives it an
email address, and the person gets the same kind of link, valid seven days, to choose a
password (`invite`).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from forum import ratelimit, sql
from forum.accounts import passwords
from forum.errors import BadRequest, Conflict, NotFound
from forum.notifications import mail

TOKEN_TTL_S = 3600
INVITE_TTL_S = 7 * 24 * 3600


def hash_reset_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def request_reset(login: str, client_ip: str) -> None:
    """Email a reset link when `login` names an account with an address. Silent otherwise."""
    login = login.strip()
    await ratelimit.hit(f"pwreset:ip:{client_ip}", 10, 3600,
                        "Too many password reset requests; try again later.")
    await ratelimit.hit(f"pwreset:login:{login.lower()}", 3, 3600,  # stored as a keyed hash
                        "Too many password reset requests; try again later.")
    if not login or not mail.enabled():
        return
    async with sql.transaction():
        user_id = await sql.fetchval(
            """
            SELECT id FROM forum_user
             WHERE (lower(handle) = lower($1) OR email = lower($1))
               AND email IS NOT NULL AND status <> 'erased'
             ORDER BY (email = lower($1)) DESC LIMIT 1
            """,
            login,
        )
        if user_id is None:
            return
        token = await _new_link(user_id, TOKEN_TTL_S)
        site, _ = mail.site_and_url()
        subject = f"Reset your password on {site}"
        body = (
            f"Hello,\n\nSomeone asked to reset the password of your account on {site}.\n"
            f"To choose a new password, open this link within one hour:\n{mail.link('/reset', token=token)}\n\n"
            "If you did not ask for this, ignore this email: your password stays as it is.\n"
        )
        await mail.enqueue(user_id, "password_reset", subject, body)


async def confirm_reset(token: str, password: str) -> int:
    """Set the new password for a live token; revoke every session. Returns the user id."""
    invalid = "token: this reset link is invalid, used or expired; ask for a new one."
    token_hash = hash_reset_token(token)
    owner = await sql.fetchrow(
        """
        SELECT u.id, u.handle, u.email FROM password_reset r JOIN forum_user u ON u.id = r."user"
         WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now() AND u.status <> 'erased'
        """,
        token_hash,
    )
    if owner is None:
        raise BadRequest(invalid)
    # The same rules and hasher as registration (hashing runs in a thread, outside the transaction).
    passwords.check_policy(password, handle=owner["handle"], email=owner["email"])
    password_hash = await passwords.hash_password(password)
    async with sql.transaction():
        used = await sql.fetchval(
            "UPDATE password_reset SET used_at = now()"
            " WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING id",
            token_hash)
        if used is None:  # used by a concurrent request meanwhile
            raise BadRequest(invalid)
        await sql.execute("UPDATE forum_user SET password_hash = $2 WHERE id = $1", owner["id"], password_hash)
        # Any other outstanding link of this account dies with this one.
        await sql.execute(
            'UPDATE password_reset SET used_at = now() WHERE "user" = $1 AND used_at IS NULL', owner["id"])
        await sql.execute('DELETE FROM user_session WHERE "user" = $1', owner["id"])
    return int(owner["id"])


async def _new_link(user_id: int, ttl_s: int, *, replace: bool = False) -> str:
    """A fresh single-use token for the account; `replace`: its older unused ones die (a new
    invitation replaces the last; reset requests leave earlier links working until one is used)."""
    if replace:
        await sql.execute('UPDATE password_reset SET used_at = now() WHERE "user" = $1 AND used_at IS NULL',
                          user_id)
    token = secrets.token_urlsafe(32)
    await sql.execute(
        'INSERT INTO password_reset ("user", token_hash, created_at, expires_at)'
        " VALUES ($1, $2, now(), now() + $3 * interval '1 second')",
        user_id, hash_reset_token(token), ttl_s,
    )
    return token


async def invite(actor_id: int | None, user_id: int, email: str, *, hand_over_link: bool = False) -> dict[str, Any]:
    """Give an account without a password `email` and a link to choose one (seven days).

    The link is mailed when mail is configured. Otherwise, with `hand_over_link` (the server
    operator at the command line), it is returned to be passed on in person; without it
    (the admin API), the invitation is refused: an admin must not hold a way into another
    person's account. Audited, without the address. 404 unknown or erased, 409 when the
    account has a password (its owner resets it) or the address belongs to another account."""
    from forum.accounts.services import clean_email, email_taken
    from moderation import audit

    email = clean_email(email)
    if not mail.enabled() and not hand_over_link:
        raise Conflict("Mail is not configured on this server: run `forum users invite` there instead.")
    async with sql.transaction():
        row = await sql.fetchrow(
            "SELECT id, handle, status, password_hash FROM forum_user WHERE id = $1::bigint FOR UPDATE", user_id)
        if row is None or row["status"] in ("erased", "system"):  # the site's system account never signs in
            raise NotFound("No such user.")
        if row["password_hash"] is not None:
            raise Conflict("This account has a password: its owner can reset it from the sign-in page.")
        if await email_taken(email, except_user=user_id):
            raise Conflict("email: already in use by another account.")
        await sql.execute("UPDATE forum_user SET email = $2 WHERE id = $1", user_id, email)
        token = await _new_link(user_id, INVITE_TTL_S, replace=True)
        await audit.write(actor_id, "invite", "user", user_id, None, {"valid_days": INVITE_TTL_S // 86400})
        if mail.enabled():
            site, _ = mail.site_and_url()
            await mail.enqueue(user_id, "invitation", f"Your account on {site}", (
                f"Hello,\n\nAn account on {site} was kept for you under the name {row['handle']}.\n"
                "To choose its password and sign in, open this link within seven days:\n"
                f"{mail.link('/reset', token=token)}\n\n"
                "If you do not know what this is about, ignore this email.\n"))
            return {"id": row["id"], "handle": row["handle"], "link": None}
    return {"id": row["id"], "handle": row["handle"], "link": f"/reset?token={token}"}


OPERATOR_RESET_TTL_S = 24 * 3600


async def operator_reset(user_id: int, actor_id: int | None = None, *, hand_over_link: bool = True) -> dict[str, Any]:
    """A single-use link (one day) to choose a new password, for the server operator at the
    command line (`forum users reset-password`) or an admin in the console (`actor_id`): for
    any live account, with a password or without. Mailed when mail is configured and the
    account has an address; otherwise returned, to be passed on in person. The current
    password keeps working until the link is used (then every session ends, as with any
    reset); a newer link replaces this one. Audited (actor: the admin, else the operator),
    without the address, with whether it was mailed. Without `hand_over_link` (the console:
    an admin must not hold a way into another person's account) a link that cannot be
    mailed is not made at all: 409."""
    from moderation import audit

    async with sql.transaction():
        row = await sql.fetchrow(
            "SELECT id, handle, status, email FROM forum_user WHERE id = $1::bigint FOR UPDATE", user_id)
        if row is None or row["status"] in ("erased", "system"):  # the site's system account never signs in
            raise NotFound("No such user.")
        mailed = mail.enabled() and row["email"] is not None
        if not mailed and not hand_over_link:
            raise Conflict("This link can only be emailed, and " + (
                "this account has no email address." if mail.enabled() else "mail is not configured on this server.")
                + " Whoever runs the server can make one with `forum users reset-password`.")
        token = await _new_link(user_id, OPERATOR_RESET_TTL_S, replace=True)
        await audit.write(audit.OPERATOR_ID if actor_id is None else actor_id, "password_reset_link", "user",
                          user_id, None,
                          {"valid_hours": OPERATOR_RESET_TTL_S // 3600, "mailed": mailed})
        if mailed:
            site, _ = mail.site_and_url()
            await mail.enqueue(user_id, "password_reset", f"Reset your password on {site}", (
                f"Hello,\n\nThe team of {site} made you a link to choose a new password for your account "
                f"{row['handle']}.\nOpen it within one day:\n{mail.link('/reset', token=token)}\n\n"
                "Until you use it, your current password keeps working.\n"))
            return {"id": row["id"], "handle": row["handle"], "link": None}
    return {"id": row["id"], "handle": row["handle"], "link": f"/reset?token={token}"}
