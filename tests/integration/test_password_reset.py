"""Password reset by email: same answer for every login, single-use hashed tokens, sessions revoked."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from forum import sql
from forum.accounts.passwords import verify_sync
from forum.notifications import mail
from forum.settings import Settings
from tests.helpers import make_user

GOOD_PASSWORD = "quiet-harbour-lantern-42"


@pytest.fixture
async def mail_on(settings: Settings) -> AsyncIterator[None]:
    # The outbox only: delivery is test_mail's business; no sender runs here.
    mail.configure(settings.with_overrides(smtp_url="smtp://127.0.0.1:9", mail_from="forum@example.org",
                                           public_url="https://forum.example.org"))
    try:
        yield
    finally:
        mail.configure(settings)


async def _token_from_outbox(user_id: int) -> str:
    body = await sql.fetchval(
        "SELECT body FROM email_outbox WHERE \"user\" = $1 AND kind = 'password_reset' ORDER BY id DESC LIMIT 1",
        user_id)
    assert body is not None
    match = re.search(r"https://forum\.example\.org/reset\?token=([A-Za-z0-9_\-]+)", body)
    assert match, body
    return match.group(1)


async def test_request_answers_the_same_and_mails_only_real_accounts(client: httpx.AsyncClient,
                                                                    mail_on: None) -> None:
    user = await make_user(email="mum@example.net")
    answers = []
    for login in (user.handle, "mum@example.net", "nobody-here", "ghost@example.net"):
        r = await client.post("/api/auth/password-reset", json={"login": login})
        assert r.status_code == 202
        answers.append(r.json())
    assert all(a == answers[0] for a in answers)
    rows = await sql.fetch("SELECT \"user\", kind, notification, subject FROM email_outbox")
    assert [(r["user"], r["kind"], r["notification"]) for r in rows] == [(user.id, "password_reset", None)] * 2
    assert "@" not in rows[0]["subject"]
    stored = await sql.fetch("SELECT token_hash, expires_at - created_at AS ttl FROM password_reset")
    token = await _token_from_outbox(user.id)
    assert hashlib.sha256(token.encode()).hexdigest() in {r["token_hash"] for r in stored}
    assert all(r["ttl"].total_seconds() == 3600 for r in stored)
    assert token not in {r["token_hash"] for r in stored}  # only the hash is kept


async def test_no_email_no_mail(client: httpx.AsyncClient, mail_on: None, settings: Settings) -> None:
    no_email = await make_user()
    assert (await client.post("/api/auth/password-reset", json={"login": no_email.handle})).status_code == 202
    mail.configure(settings)  # mail not configured
    with_email = await make_user(email="x@example.net")
    assert (await client.post("/api/auth/password-reset", json={"login": with_email.handle})).status_code == 202
    assert await sql.fetchval("SELECT count(*) FROM email_outbox") == 0
    assert await sql.fetchval("SELECT count(*) FROM password_reset") == 0


async def test_confirm_sets_password_revokes_sessions_and_is_single_use(client: httpx.AsyncClient,
                                                                        mail_on: None) -> None:
    user = await make_user(email="dad@example.net")
    assert (await client.get("/api/me/notifications", headers=user.headers)).status_code == 200
    await client.post("/api/auth/password-reset", json={"login": user.handle})
    token = await _token_from_outbox(user.id)

    r = await client.post("/api/auth/password-reset/confirm", json={"token": token, "password": "short"})
    assert r.status_code == 400 and "password" in r.json()["detail"]
    r = await client.post("/api/auth/password-reset/confirm", json={"token": token, "password": GOOD_PASSWORD})
    assert r.status_code == 204, r.text
    stored = await sql.fetchval("SELECT password_hash FROM forum_user WHERE id = $1", user.id)
    assert verify_sync(stored, GOOD_PASSWORD)
    assert (await client.get("/api/me/notifications", headers=user.headers)).status_code == 401
    assert await sql.fetchval('SELECT count(*) FROM user_session WHERE "user" = $1', user.id) == 0

    again = await client.post("/api/auth/password-reset/confirm", json={"token": token, "password": GOOD_PASSWORD})
    assert again.status_code == 400 and "token" in again.json()["detail"]


async def test_expired_or_unknown_token_is_refused(client: httpx.AsyncClient, mail_on: None) -> None:
    user = await make_user(email="late@example.net")
    await client.post("/api/auth/password-reset", json={"login": "late@example.net"})
    token = await _token_from_outbox(user.id)
    before = await sql.fetchval("SELECT password_hash FROM forum_user WHERE id = $1", user.id)
    await sql.execute("UPDATE password_reset SET expires_at = now() - interval '1 second'")
    for t in (token, "not-a-token"):
        r = await client.post("/api/auth/password-reset/confirm", json={"token": t, "password": GOOD_PASSWORD})
        assert r.status_code == 400
    assert await sql.fetchval("SELECT password_hash FROM forum_user WHERE id = $1", user.id) == before


async def test_requests_are_rate_limited(client: httpx.AsyncClient, mail_on: None, rate_limits_on: None) -> None:
    user = await make_user(email="many@example.net")
    codes = [(await client.post("/api/auth/password-reset", json={"login": user.handle})).status_code
             for _ in range(4)]
    assert codes == [202, 202, 202, 429]
    assert await sql.fetchval("SELECT count(*) FROM email_outbox") == 3


# ---------------------------------------------------------------- invitations (accounts without a password)


async def _imported(handle: str) -> int:
    """An account as `forum import json` leaves it: no password, no email."""
    return int(await sql.fetchval(
        "INSERT INTO forum_user (handle, email, password_hash, role, status, notify_email, created_at)"
        " VALUES ($1, NULL, NULL, 'reader', 'active', false, now()) RETURNING id", handle))


async def test_an_invited_account_chooses_its_password_and_signs_in(client: httpx.AsyncClient,
                                                                    mail_on: None) -> None:
    admin = await make_user("admin")
    user_id = await _imported("old_friend")
    r = await client.post(f"/api/admin/users/{user_id}/invite", headers=admin.headers,
                          json={"email": "Friend@Example.net"})
    assert r.status_code == 202 and r.json() == {"id": user_id, "handle": "old_friend"}, r.text
    assert "token" not in r.text and "Friend" not in r.text  # the link goes to the person, not to the admin
    body = await sql.fetchval("SELECT body FROM email_outbox WHERE \"user\" = $1 AND kind = 'invitation'", user_id)
    assert "old_friend" in body and "seven days" in body
    token = re.search(r"reset\?token=([A-Za-z0-9_\-]+)", body).group(1)  # type: ignore[union-attr]
    ttl = await sql.fetchval("SELECT expires_at - created_at FROM password_reset WHERE \"user\" = $1", user_id)
    assert ttl.days == 7
    r = await client.post("/api/auth/password-reset/confirm", json={"token": token, "password": GOOD_PASSWORD})
    assert r.status_code == 204, r.text
    r = await client.post("/api/auth/login", json={"login": "friend@example.net", "password": GOOD_PASSWORD})
    assert r.status_code == 200 and r.json()["user"]["id"] == user_id
    [entry] = await sql.fetch("SELECT actor_id, action, details::text FROM audit_log WHERE target_id = $1", user_id)
    assert (entry["actor_id"], entry["action"]) == (admin.id, "invite") and "@" not in entry["details"]
    # now it has a password: its owner resets it like anyone else
    r = await client.post(f"/api/admin/users/{user_id}/invite", headers=admin.headers, json={"email": "x@example.net"})
    assert r.status_code == 409 and "password" in r.json()["detail"]


async def test_invitation_refusals(client: httpx.AsyncClient, mail_on: None, settings: Settings) -> None:
    admin, moderator = await make_user("admin"), await make_user("moderator")
    taken = await make_user(email="taken@example.net")
    user_id = await _imported("quiet_one")
    url = f"/api/admin/users/{user_id}/invite"
    assert (await client.post(url, headers=moderator.headers, json={"email": "a@example.net"})).status_code == 403
    r = await client.post(url, headers=admin.headers, json={"email": "taken@example.net"})
    assert r.status_code == 409 and r.json()["detail"].startswith("email:")
    assert (await client.post(url, headers=admin.headers, json={"email": "not an address"})).status_code == 400
    assert (await client.post(f"/api/admin/users/{2**40}/invite", headers=admin.headers,
                              json={"email": "a@example.net"})).status_code == 404
    mail.configure(settings)  # no mail: an admin never receives the link instead
    r = await client.post(url, headers=admin.headers, json={"email": "a@example.net"})
    assert r.status_code == 409 and "forum users invite" in r.json()["detail"]
    assert await sql.fetchval("SELECT email FROM forum_user WHERE id = $1", user_id) is None
    assert taken.id and await sql.fetchval("SELECT count(*) FROM password_reset") == 0


async def test_a_new_invitation_replaces_the_last_and_the_cli_hands_the_link_over(client: httpx.AsyncClient) -> None:
    from forum.notifications.passwords import invite

    user_id = await _imported("far_away")
    first = await invite(None, user_id, "far@example.net", hand_over_link=True)
    second = await invite(None, user_id, "far@example.net", hand_over_link=True)
    assert first["link"] and second["link"] and first["link"] != second["link"]
    old = first["link"].split("token=")[1]
    r = await client.post("/api/auth/password-reset/confirm", json={"token": old, "password": GOOD_PASSWORD})
    assert r.status_code == 400
    new = second["link"].split("token=")[1]
    r = await client.post("/api/auth/password-reset/confirm", json={"token": new, "password": GOOD_PASSWORD})
    assert r.status_code == 204


async def test_cli_invite_prints_the_link_without_mail(client: httpx.AsyncClient, database_url: str) -> None:
    import asyncio
    import os
    import subprocess
    import sys

    user_id = await _imported("cli_friend")
    env = {**os.environ, "DATABASE_URL": database_url, "FORUM_PUBLIC_URL": "https://forum.example.org"}
    env.pop("FORUM_SMTP_URL", None)
    done = await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "forum", "users", "invite", "--handle", "CLI_Friend", "--email", "cli@example.net"],
        env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r"https://forum\.example\.org/reset\?token=([A-Za-z0-9_\-]+)", done.stdout)
    assert match, done.stdout
    r = await client.post("/api/auth/password-reset/confirm", json={"token": match.group(1), "password": GOOD_PASSWORD})
    assert r.status_code == 204
    assert await sql.fetchval("SELECT email FROM forum_user WHERE id = $1", user_id) == "cli@example.net"
    missing = await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "forum", "users", "invite", "--handle", "nobody_at_all", "--email", "n@example.net"],
        env=env, capture_output=True, text=True, timeout=120)
    assert missing.returncode != 0 and "no account is called" in missing.stderr
