"""Make a reader and a moderator (and an article with a comment) directly in the database,
print their tokens as shell variables: used by the schemathesis runs.

    eval "$(DATABASE_URL=... python tests/slow/fuzz_accounts.py)"
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid

import asyncpg

from forum.auth import hash_token


async def make(conn: asyncpg.Connection, role: str) -> tuple[int, str]:
    uid = await conn.fetchval(
        "INSERT INTO forum_user (handle, email, role, status, notify_email, created_at)"
        " VALUES ($1, NULL, $2, 'active', false, now()) RETURNING id", f"fz_{role[:3]}_{uuid.uuid4().hex[:8]}", role)
    token = secrets.token_urlsafe(32)
    await conn.execute(
        'INSERT INTO user_session ("user", token_hash, created_at, last_seen_at, expires_at, idle_expires_at)'
        " VALUES ($1, $2, now(), now(), now() + interval '1 day', now() + interval '1 day')",
        uid, hash_token(token))
    return uid, token


async def main() -> None:
    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        _, reader = await make(conn, "reader")
        mod_id, moderator = await make(conn, "moderator")
        slug = f"fuzz-{uuid.uuid4().hex[:8]}"
        await conn.execute(
            "INSERT INTO topic (slug, kind, title, url, body, body_html, author, comments_mode, status)"
            " VALUES ($1, 'article', 'Fuzz', NULL, 'x', '<p>x</p>', $2, 'open', 'published')", slug, mod_id)
    finally:
        await conn.close()
    print(f"READER_TOKEN={reader}\nMODERATOR_TOKEN={moderator}\nFUZZ_SLUG={slug}")


if __name__ == "__main__":
    asyncio.run(main())
