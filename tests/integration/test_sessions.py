"""Bearer sessions: resolution, sliding idle expiry, revocation, guards."""

from __future__ import annotations

import httpx

from forum import sql
from forum.auth import hash_token
from tests.helpers import auth, make_user

PASSWORD = "Correct-horse-9-battery"


async def test_scheme_is_case_insensitive_and_token_hash_is_looked_up(client: httpx.AsyncClient) -> None:
    acct = await make_user()
    r = await client.get("/api/me", headers={"Authorization": f"bearer {acct.token}"})
    assert r.status_code == 200 and r.json()["id"] == acct.id
    stored = await sql.fetchval('SELECT token_hash FROM user_session WHERE "user" = $1', acct.id)
    assert stored == hash_token(acct.token) and len(stored) == 64


async def test_idle_refresh_is_throttled(client: httpx.AsyncClient) -> None:
    acct = await make_user()
    before = await sql.fetchrow('SELECT last_seen_at, idle_expires_at FROM user_session WHERE "user" = $1', acct.id)
    assert (await client.get("/api/me", headers=auth(acct))).status_code == 200
    after = await sql.fetchrow('SELECT last_seen_at, idle_expires_at FROM user_session WHERE "user" = $1', acct.id)
    assert dict(after) == dict(before)  # seen less than five minutes ago: no write
    await sql.execute("UPDATE user_session SET last_seen_at = now() - interval '10 minutes',"
                      " idle_expires_at = now() + interval '1 hour' WHERE \"user\" = $1", acct.id)
    assert (await client.get("/api/me", headers=auth(acct))).status_code == 200
    slid = await sql.fetchval("SELECT idle_expires_at - now() FROM user_session WHERE \"user\" = $1", acct.id)
    assert slid.days >= 6


async def test_tokens_of_erased_accounts_are_refused(client: httpx.AsyncClient) -> None:
    acct = await make_user()
    await sql.execute("UPDATE forum_user SET status = 'erased', handle = NULL WHERE id = $1", acct.id)
    assert (await client.get("/api/me", headers=auth(acct))).status_code == 401


async def test_suspended_user_can_sign_in_read_and_leave(client: httpx.AsyncClient) -> None:
    handle = "suspended_reader"
    reg = await client.post("/api/auth/register", json={"handle": handle, "password": PASSWORD})
    uid = reg.json()["user"]["id"]
    await sql.execute("UPDATE forum_user SET status = 'suspended', suspended_until = NULL WHERE id = $1", uid)
    r = await client.post("/api/auth/login", json={"login": handle, "password": PASSWORD})
    assert r.status_code == 200
    token = r.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = (await client.get("/api/me", headers=headers)).json()
    assert me["status"] == "suspended" and me["suspended_until"] is None
    assert (await client.get("/api/me/export", headers=headers)).status_code == 200
    assert (await client.request("DELETE", "/api/me", headers=headers,
                                json={"current_password": PASSWORD})).status_code == 204


async def test_each_login_is_a_separate_session(client: httpx.AsyncClient) -> None:
    handle = "many_devices"
    await client.post("/api/auth/register", json={"handle": handle, "password": PASSWORD})
    tokens = {(await client.post("/api/auth/login", json={"login": handle, "password": PASSWORD})).json()["token"]
              for _ in range(3)}
    assert len(tokens) == 3
    uid = await sql.fetchval("SELECT id FROM forum_user WHERE handle = $1", handle)
    assert await sql.fetchval('SELECT count(*) FROM user_session WHERE "user" = $1', uid) == 4
    for token in tokens:
        r = await client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 204
    assert await sql.fetchval('SELECT count(*) FROM user_session WHERE "user" = $1', uid) == 1
