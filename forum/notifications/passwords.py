"""Password reset by email: a single-use link valid one hour, stored as a SHA-256 hash.

The request answers the same whether or not the account exists; only an account with an
email address, on a site with mail configured, gets a link. Confirming sets the new
password and revokes every session of the account.
"""

from __future__ import annotations

import hashlib
import secrets

from forum import ratelimit, sql
from forum.accounts import passwords
from forum.errors import BadRequest
from forum.notifications import mail

TOKEN_TTL_S = 3600


def hash_reset_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def request_reset(login: str, client_ip: str) -> None:
    """Email a reset link when `login` names an account with an address. Silent otherwise."""
    login = login.strip()
    await ratelimit.hit(f"pwreset:ip:{client_ip}", 10, 3600,
                        "Too many password reset requests; try again later.")
    await ratelimit.hit(f"pwreset:login:{hash_reset_token(login.lower())}", 3, 3600,
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
        token = secrets.token_urlsafe(32)
        await sql.execute(
            'INSERT INTO password_reset ("user", token_hash, created_at, expires_at)'
            " VALUES ($1, $2, now(), now() + $3 * interval '1 second')",
            user_id, hash_reset_token(token), TOKEN_TTL_S,
        )
        site, url = mail.site_and_url()
        subject = f"Reset your password on {site}"
        body = (
            f"Hello,\n\nSomeone asked to reset the password of your account on {site}.\n"
            f"To choose a new password, open this link within one hour:\n{url}/reset?token={token}\n\n"
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
