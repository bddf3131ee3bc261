"""Two-factor sign-in: enrolment, login with a code or a recovery code, replay, limits,
disabling, the admin's audited reset, erasure."""

from __future__ import annotations

import time

import httpx
import pyotp

from forum import sql
from forum.accounts import secondfactor
from tests.helpers import auth, make_user, unique

PASSWORD = "Correct-horse-9-battery"


async def _register(client: httpx.AsyncClient, role: str = "reader") -> tuple[str, dict[str, str], int]:
    handle = unique("tf")
    r = await client.post("/api/auth/register", json={"handle": handle, "password": PASSWORD})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    if role != "reader":
        await sql.execute("UPDATE forum_user SET role = $2 WHERE id = $1", uid, role)
    return handle, {"Authorization": f"Bearer {r.json()['token']}"}, uid


def _code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset_steps * 30)


async def _enrol(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, list[str]]:
    start = await client.post("/api/me/second-factor", headers=headers)
    assert start.status_code == 201, start.text
    body = start.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/") and body["secret"] in body["otpauth_uri"]
    assert body["qr_svg"].startswith("data:image/svg+xml")
    confirm = await client.post("/api/me/second-factor/confirm", headers=headers,
                                json={"code": _code(body["secret"])})
    assert confirm.status_code == 200, confirm.text
    codes = confirm.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return body["secret"], codes


async def test_enrol_then_every_login_needs_a_code(client: httpx.AsyncClient) -> None:
    handle, headers, uid = await _register(client)
    status = (await client.get("/api/me/second-factor", headers=headers)).json()
    assert status == {"enabled": False, "confirmed_at": None, "recovery_codes_left": 0, "required": False}
    secret, codes = await _enrol(client, headers)
    # stored: the secret, and only hashes of the recovery codes
    stored = await sql.fetch('SELECT code_hash FROM recovery_code WHERE "user" = $1', uid)
    assert len(stored) == 10 and not {r["code_hash"] for r in stored} & set(codes)
    status = (await client.get("/api/me/second-factor", headers=headers)).json()
    assert status["enabled"] is True and status["recovery_codes_left"] == 10

    r = await client.post("/api/auth/login", json={"login": handle, "password": PASSWORD})
    assert r.status_code == 401
    body = r.json()
    assert body["second_factor_required"] is True and "token" not in body
    challenge = body["challenge"]
    assert body["challenge_expires_at"].endswith("Z")
    sessions_before = await sql.fetchval('SELECT count(*) FROM user_session WHERE "user" = $1', uid)

    wrong = await client.post("/api/auth/login/second-factor", json={"challenge": challenge, "code": "000000"})
    assert wrong.status_code == 400 and "code" in wrong.json()["detail"]
    assert await sql.fetchval('SELECT count(*) FROM user_session WHERE "user" = $1', uid) == sessions_before

    # the code used at confirmation is spent: the next step's code is needed
    good = await client.post("/api/auth/login/second-factor",
                             json={"challenge": challenge, "code": _code(secret, 1)})
    assert good.status_code == 200, good.text
    token = good.json()["token"]
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["id"] == uid
    # the challenge is spent
    again = await client.post("/api/auth/login/second-factor",
                              json={"challenge": challenge, "code": _code(secret, 1)})
    assert again.status_code == 401


async def test_a_code_is_good_once(client: httpx.AsyncClient) -> None:
    handle, headers, _ = await _register(client)
    secret, _ = await _enrol(client, headers)
    code = _code(secret, 1)
    for expected in (200, 400):
        challenge = (await client.post("/api/auth/login", json={"login": handle, "password": PASSWORD})
                     ).json()["challenge"]
        r = await client.post("/api/auth/login/second-factor", json={"challenge": challenge, "code": code})
        assert r.status_code == expected, r.text


async def test_recovery_codes_are_single_use(client: httpx.AsyncClient) -> None:
    handle, headers, _ = await _register(client)
    _, codes = await _enrol(client, headers)
    for expected in (200, 400):
        challenge = (await client.post("/api/auth/login", json={"login": handle, "password": PASSWORD})
                     ).json()["challenge"]
        r = await client.post("/api/auth/login/second-factor",
                              json={"challenge": challenge, "recovery_code": codes[0].upper()})
        assert r.status_code == expected, r.text
    assert (await client.get("/api/me/second-factor", headers=headers)).json()["recovery_codes_left"] == 9


async def test_a_challenge_dies_after_five_wrong_codes(client: httpx.AsyncClient) -> None:
    handle, headers, _ = await _register(client)
    secret, _ = await _enrol(client, headers)
    challenge = (await client.post("/api/auth/login", json={"login": handle, "password": PASSWORD})
                 ).json()["challenge"]
    for _ in range(secondfactor.CHALLENGE_FAILURES):
        r = await client.post("/api/auth/login/second-factor", json={"challenge": challenge, "code": "123456"})
        assert r.status_code == 400
    r = await client.post("/api/auth/login/second-factor", json={"challenge": challenge, "code": _code(secret, 1)})
    assert r.status_code == 401


async def test_wrong_password_never_opens_a_challenge(client: httpx.AsyncClient) -> None:
    handle, headers, uid = await _register(client)
    await _enrol(client, headers)
    r = await client.post("/api/auth/login", json={"login": handle, "password": "wrong-" + PASSWORD})
    assert r.status_code == 401 and "challenge" not in r.json()
    assert await sql.fetchval('SELECT count(*) FROM login_challenge WHERE "user" = $1', uid) == 0


async def test_confirm_refuses_a_wrong_code_and_start_refuses_when_on(client: httpx.AsyncClient) -> None:
    _, headers, _ = await _register(client)
    assert (await client.post("/api/me/second-factor/confirm", headers=headers,
                              json={"code": "123456"})).status_code == 404
    await client.post("/api/me/second-factor", headers=headers)
    r = await client.post("/api/me/second-factor/confirm", headers=headers, json={"code": "12"})
    assert r.status_code == 400
    # not confirmed: the password alone still signs in
    assert (await client.get("/api/me/second-factor", headers=headers)).json()["enabled"] is False
    await sql.execute("DELETE FROM second_factor")
    await _enrol(client, headers)
    assert (await client.post("/api/me/second-factor", headers=headers)).status_code == 409


async def test_disable_needs_password_and_code(client: httpx.AsyncClient) -> None:
    handle, headers, _ = await _register(client)
    secret, _ = await _enrol(client, headers)
    r = await client.post("/api/me/second-factor/disable", headers=headers,
                          json={"current_password": "nope-" + PASSWORD, "code": _code(secret, 1)})
    assert r.status_code == 403
    r = await client.post("/api/me/second-factor/disable", headers=headers, json={"current_password": PASSWORD})
    assert r.status_code == 400
    r = await client.post("/api/me/second-factor/disable", headers=headers,
                          json={"current_password": PASSWORD, "code": "000000"})
    assert r.status_code == 400
    r = await client.post("/api/me/second-factor/disable", headers=headers,
                          json={"current_password": PASSWORD, "code": _code(secret, 1)})
    assert r.status_code == 204
    login = await client.post("/api/auth/login", json={"login": handle, "password": PASSWORD})
    assert login.status_code == 200 and "token" in login.json()


async def test_new_recovery_codes_replace_the_old(client: httpx.AsyncClient) -> None:
    handle, headers, _ = await _register(client)
    secret, old = await _enrol(client, headers)
    r = await client.post("/api/me/second-factor/recovery-codes", headers=headers,
                          json={"current_password": PASSWORD, "code": _code(secret, 1)})
    assert r.status_code == 200
    new = r.json()["recovery_codes"]
    assert not set(new) & set(old)
    challenge = (await client.post("/api/auth/login", json={"login": handle, "password": PASSWORD})
                 ).json()["challenge"]
    r = await client.post("/api/auth/login/second-factor", json={"challenge": challenge, "recovery_code": old[0]})
    assert r.status_code == 400
    r = await client.post("/api/auth/login/second-factor", json={"challenge": challenge, "recovery_code": new[0]})
    assert r.status_code == 200


async def test_admin_reset_is_audited_and_ends_sessions(client: httpx.AsyncClient) -> None:
    handle, headers, uid = await _register(client, "moderator")
    await _enrol(client, headers)
    admin = await make_user("admin")
    other = await make_user("moderator")
    r = await client.delete(f"/api/admin/users/{uid}/second-factor", headers=auth(other))
    assert r.status_code == 403
    r = await client.delete(f"/api/admin/users/{uid}/second-factor", headers=auth(admin))
    assert r.status_code == 204
    entry = await sql.fetchrow("SELECT actor_id, action, target_type, target_id FROM audit_log"
                               " WHERE action = 'second_factor_reset'")
    assert dict(entry) == {"actor_id": admin.id, "action": "second_factor_reset", "target_type": "user",
                           "target_id": uid}
    assert (await client.get("/api/me", headers=headers)).status_code == 401  # sessions ended
    login = await client.post("/api/auth/login", json={"login": handle, "password": PASSWORD})
    assert login.status_code == 200
    assert (await client.delete("/api/admin/users/999999/second-factor", headers=auth(admin))).status_code == 404


async def test_staff_required_shows_in_status(client: httpx.AsyncClient) -> None:
    _, headers, _ = await _register(client, "coach")
    secondfactor.configure("forum", True)
    try:
        assert (await client.get("/api/me/second-factor", headers=headers)).json()["required"] is True
    finally:
        secondfactor.configure("forum", False)


async def test_erasure_removes_the_factor(client: httpx.AsyncClient) -> None:
    _, headers, uid = await _register(client)
    await _enrol(client, headers)
    erase = {"current_password": PASSWORD}
    assert (await client.request("DELETE", "/api/me", headers=headers, json=erase)).status_code == 204
    for table in ("second_factor", "recovery_code", "login_challenge"):
        assert await sql.fetchval(f'SELECT count(*) FROM {table} WHERE "user" = $1', uid) == 0
