"""One-click unsubscribe from notification emails (RFC 8058), without signing in.

Every notification email carries `List-Unsubscribe: <{FORUM_PUBLIC_URL}/unsubscribe?token=...>`
and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. The token is `<user id>.<mac>`:
an HMAC under the secret key (forum.keyed, purpose `unsubscribe`) of the account id and the
address the email went to. Nothing is stored; the link keeps working as long as the account
has that address, and dies when the address changes (whoever reads an old mailbox cannot
change the account's settings) or the account is erased. All it can do is turn email
notifications off: a leaked link costs the reader nothing but emails.

A mail client's one-click POST (`POST /unsubscribe?token=...`) and the confirmation page's
button (`POST /api/unsubscribe`) both go through `unsubscribe()`; a GET never changes
anything (link scanners open links).
"""

from __future__ import annotations

import hmac

from forum import keyed, sql
from forum.errors import BadRequest

INVALID = ("token: this unsubscribe link does not work any more (it may be for an address this account no "
           "longer uses); sign in to change your email settings.")
_MAC_CHARS = 32


def _mac(user_id: int, email: str) -> str:
    return keyed.digest("unsubscribe", f"{user_id}\x00{email.lower()}")[:_MAC_CHARS]


def token_for(user_id: int, email: str) -> str:
    """The token of the unsubscribe link in an email to `email` for account `user_id`."""
    return f"{user_id}.{_mac(user_id, email)}"


async def unsubscribe(token: str) -> None:
    """Turn email notifications off for the token's account (the same answer when they are
    already off). 400 for a token that is malformed, forged, or for another address."""
    user_part, _, mac = (token or "").partition(".")
    if not user_part.isdigit() or len(user_part) > 19 or len(mac) != _MAC_CHARS:
        raise BadRequest(INVALID)
    user_id = int(user_part)
    email = await sql.fetchval(
        "SELECT email FROM forum_user WHERE id = $1::bigint AND status <> 'erased' AND email IS NOT NULL", user_id)
    if email is None or not hmac.compare_digest(mac, _mac(user_id, email)):
        raise BadRequest(INVALID)
    await sql.execute("UPDATE forum_user SET notify_email = false WHERE id = $1::bigint", user_id)
