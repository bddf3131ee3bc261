"""Test helpers shared by every domain's tests (users made directly in the database,
so a domain's tests do not depend on the accounts API)."""

from __future__ import annotations

import secrets
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any

from forum import sql
from forum.auth import hash_token


@dataclass
class Account:
    token: str
    id: int
    handle: str
    role: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def user(self) -> dict[str, Any]:
        return {"id": self.id, "handle": self.handle, "role": self.role}


def unique(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


async def make_user(role: str = "reader", *, handle: str | None = None, email: str | None = None,
                    status: str = "active") -> Account:
    """A user with a live session, inserted directly (no password: log in by token only)."""
    handle = handle or unique("u")
    user_id = await sql.fetchval(
        "INSERT INTO forum_user (handle, email, role, status, notify_email, created_at)"
        " VALUES ($1, $2, $3, $4, false, now()) RETURNING id",
        handle, email.lower() if email else None, role, status,
    )
    token = secrets.token_urlsafe(32)
    await sql.execute(
        'INSERT INTO user_session ("user", token_hash, created_at, last_seen_at, expires_at, idle_expires_at)'
        " VALUES ($1, $2, now(), now(), now() + interval '30 days', now() + interval '7 days')",
        user_id, hash_token(token),
    )
    return Account(token, user_id, handle, role, {"Authorization": f"Bearer {token}"})


def auth(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (for a server a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
