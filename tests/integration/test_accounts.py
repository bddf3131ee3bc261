"""Accounts: register, login, logout, /api/me, profiles, roles, rate limits, privacy."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from forum import ratelimit, sql
from forum.accounts import services
from forum.errors import BadRequest, Conflict
from tests.helpers import auth, make_user, unique

PASSWORD = "Correct-horse-9-battery"


def handle() -> str:
    return unique("h")


async def register(client: httpx.AsyncClient, **payload: object) -> httpx.Response:
    body = {"handle": handle(), "password": PASSWORD, **payload}
    return await client.post("/api/auth/register", json=body)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------- register


async def test_register_returns_token_and_reader(client: httpx.AsyncClient) -> None:
    h = handle()
    r = await client.post("/api/auth/register", json={"handle": h, "password": PASSWORD})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"token", "user"}
    assert body["user"]["handle"] == h and body["user"]["role"] == "reader"
    assert len(body["token"]) >= 43  # 32 random bytes, base64url
    me = await client.get("/api/me", headers=bearer(body["token"]))
    assert me.status_code == 200 and me.json()["id"] == body["user"]["id"]


async def test_register_stores_only_hashes(client: httpx.AsyncClient) -> None:
    r = await register(client)
    token = r.json()["token"]
    row = await sql.fetchrow("SELECT password_hash FROM forum_user WHERE id = $1", r.json()["user"]["id"])
    assert row["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in row["password_hash"]
    stored = await sql.fetch("SELECT token_hash FROM user_session")
    assert [s["token_hash"] for s in stored] != [token]
    assert all(token not in s["token_hash"] for s in stored)


async def test_register_ignores_role_and_unknown_fields(client: httpx.AsyncClient) -> None:
    r = await register(client, role="admin", is_admin=True, status="active", id=1)
    assert r.status_code == 201
    assert r.json()["user"]["role"] == "reader"
    role = await sql.fetchval("SELECT role FROM forum_user WHERE id = $1", r.json()["user"]["id"])
    assert role == "reader"


@pytest.mark.parametrize("payload,field", [
    ({"password": "short7!"}, "password"),
    ({"password": "x" * 129}, "password"),
    ({"password": "password"}, "password"),
    ({"password": "Qwertyuiop"}, "password"),  # common, whatever the case
    ({"password": "iloveyou"}, "password"),
    ({"handle": "ab"}, "handle"),
    ({"handle": "h" * 31}, "handle"),
    ({"handle": "has space"}, "handle"),
    ({"handle": "bad<handle>"}, "handle"),
    ({"handle": "someone@example.org"}, "handle"),
    ({"handle": "nul\u0000byte"}, "handle"),
    ({"handle": "..."}, "handle"),
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@b"}, "email"),
    ({"email": 42}, "email"),
    ({"handle": 123}, "handle"),
    ({"password": ["a", "list"]}, "password"),
], ids=lambda v: str(v)[:30])
async def test_register_refuses_invalid_input_naming_the_field(client: httpx.AsyncClient, payload: dict,
                                                               field: str) -> None:
    r = await register(client, **payload)
    assert r.status_code == 400, r.text
    assert field in r.json()["detail"].lower()
    assert await sql.fetchval("SELECT count(*) FROM forum_user") == 0


async def test_register_without_password_names_it(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/auth/register", json={"handle": handle()})
    assert r.status_code == 400 and "password" in r.json()["detail"]


async def test_password_equal_to_handle_refused(client: httpx.AsyncClient) -> None:
    h = "Sunflower_Meadow_77"
    r = await client.post("/api/auth/register", json={"handle": h, "password": h.lower()})
    assert r.status_code == 400 and "password" in r.json()["detail"]


async def test_boundaries_accepted(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/auth/register", json={"handle": "a.b", "password": "Zq9-xv.L"})
    assert r.status_code == 201, r.text
    r = await client.post("/api/auth/register", json={"handle": "t" * 30, "password": "Ab9-" * 32})
    assert r.status_code == 201, r.text


async def test_duplicate_handle_case_insensitive_409(client: httpx.AsyncClient) -> None:
    h = "Dup_" + uuid.uuid4().hex[:8]
    assert (await client.post("/api/auth/register", json={"handle": h, "password": PASSWORD})).status_code == 201
    for variant in (h.lower(), h.upper()):
        r = await client.post("/api/auth/register", json={"handle": variant, "password": PASSWORD})
        assert r.status_code == 409 and "handle" in r.json()["detail"]


async def test_email_lower_case_and_duplicate_not_revealed(client: httpx.AsyncClient) -> None:
    r = await register(client, email="MiXeD.Person@Example.ORG")
    assert r.status_code == 201
    assert "mixed.person" not in r.text.lower()  # the register response has no email
    me = (await client.get("/api/me", headers=bearer(r.json()["token"]))).json()
    assert me["email"] == "mixed.person@example.org"
    dup = await register(client, email="mixed.person@EXAMPLE.org")  # the same answer as a fresh address
    assert dup.status_code == 201 and sorted(dup.json()) == ["token", "user"]
    assert "mixed.person" not in dup.text.lower() and "example" not in dup.text.lower()
    # never attached twice (without mail: held for the new account, not attached)
    assert await sql.fetchval("SELECT count(*) FROM forum_user WHERE email = 'mixed.person@example.org'") == 1


async def test_concurrent_same_handle_one_wins(client: httpx.AsyncClient) -> None:
    import asyncio

    h = handle()
    results = await asyncio.gather(*[
        client.post("/api/auth/register", json={"handle": h, "password": PASSWORD}) for _ in range(3)])
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409]


# ---------------------------------------------------------------- login / logout


async def test_login_by_handle_any_case_and_by_email(client: httpx.AsyncClient) -> None:
    h = handle()
    reg = await client.post("/api/auth/register",
                            json={"handle": h, "password": PASSWORD, "email": "login.me@example.org"})
    uid = reg.json()["user"]["id"]
    for login in (h, h.upper(), "Login.Me@example.org"):
        r = await client.post("/api/auth/login", json={"login": login, "password": PASSWORD})
        assert r.status_code == 200, (login, r.text)
        assert r.json()["user"] == {"id": uid, "handle": h, "role": "reader"}
        assert r.json()["token"] != reg.json()["token"]


async def test_login_failures_are_indistinguishable(client: httpx.AsyncClient) -> None:
    h = handle()
    await client.post("/api/auth/register", json={"handle": h, "password": PASSWORD, "email": "x1@example.org"})
    passwordless = await make_user()  # no password hash at all
    attempts = [
        {"login": h, "password": "Wrong-password-1"},
        {"login": "x1@example.org", "password": "Wrong-password-1"},
        {"login": "nobody_" + uuid.uuid4().hex[:6], "password": "Wrong-password-1"},
        {"login": "nobody@example.org", "password": "Wrong-password-1"},
        {"login": passwordless.handle, "password": "Wrong-password-1"},
        {"login": "", "password": ""},
    ]
    bodies = []
    for payload in attempts:
        r = await client.post("/api/auth/login", json=payload)
        assert r.status_code == 401
        bodies.append(r.json())
    assert all(b == bodies[0] for b in bodies)


async def test_unknown_login_costs_a_full_verification(client: httpx.AsyncClient, monkeypatch) -> None:
    from forum.accounts import passwords

    calls: list[str] = []
    real = passwords.verify_sync

    def spy(stored: str, password: str) -> bool:
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(passwords, "verify_sync", spy)
    await client.post("/api/auth/login", json={"login": "ghost_" + uuid.uuid4().hex[:6], "password": "x" * 12})
    assert len(calls) == 1 and calls[0].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_logout_revokes_only_that_token(client: httpx.AsyncClient) -> None:
    h = handle()
    first = (await client.post("/api/auth/register", json={"handle": h, "password": PASSWORD})).json()["token"]
    second = (await client.post("/api/auth/login", json={"login": h, "password": PASSWORD})).json()["token"]
    r = await client.post("/api/auth/logout", headers=bearer(first))
    assert r.status_code == 204
    assert (await client.get("/api/me", headers=bearer(first))).status_code == 401
    assert (await client.get("/api/me", headers=bearer(second))).status_code == 200
    assert (await client.post("/api/auth/logout", headers=bearer(first))).status_code == 401


async def test_login_rehashes_weaker_hash(client: httpx.AsyncClient) -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    h = handle()
    uid = await sql.fetchval(
        "INSERT INTO forum_user (handle, password_hash, role, status, notify_email, created_at)"
        " VALUES ($1, $2, 'reader', 'active', false, now()) RETURNING id", h, weak)
    r = await client.post("/api/auth/login", json={"login": h, "password": PASSWORD})
    assert r.status_code == 200
    stored = await sql.fetchval("SELECT password_hash FROM forum_user WHERE id = $1", uid)
    assert stored != weak and stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    r = await client.post("/api/auth/login", json={"login": h, "password": PASSWORD})
    assert r.status_code == 200
    assert await sql.fetchval("SELECT password_hash FROM forum_user WHERE id = $1", uid) == stored


# ---------------------------------------------------------------- sessions


async def test_expired_and_idle_expired_tokens_are_refused(client: httpx.AsyncClient) -> None:
    a, b = await make_user(), await make_user()
    await sql.execute("UPDATE user_session SET expires_at = now() - interval '1 second' WHERE \"user\" = $1", a.id)
    await sql.execute("UPDATE user_session SET idle_expires_at = now() - interval '1 second'"
                      " WHERE \"user\" = $1", b.id)
    for acct in (a, b):
        r = await client.get("/api/me", headers=auth(acct))
        assert r.status_code == 401 and r.json()["detail"] == "Invalid or expired token."


async def test_new_session_lifetimes_follow_settings(client: httpx.AsyncClient) -> None:
    r = await register(client)
    row = await sql.fetchrow(
        "SELECT extract(epoch FROM expires_at - created_at) AS abs_s,"
        " extract(epoch FROM idle_expires_at - created_at) AS idle_s FROM user_session WHERE \"user\" = $1",
        r.json()["user"]["id"])
    assert abs(float(row["abs_s"]) - 30 * 86400) < 5
    assert abs(float(row["idle_s"]) - 7 * 86400) < 5


async def test_idle_expiry_slides_but_never_past_absolute(client: httpx.AsyncClient) -> None:
    acct = await make_user()
    await sql.execute(
        "UPDATE user_session SET last_seen_at = now() - interval '1 hour', expires_at = now() + interval '1 day',"
        " idle_expires_at = now() + interval '1 minute' WHERE \"user\" = $1", acct.id)
    assert (await client.get("/api/me", headers=auth(acct))).status_code == 200
    row = await sql.fetchrow("SELECT expires_at, idle_expires_at, last_seen_at FROM user_session"
                             " WHERE \"user\" = $1", acct.id)
    assert row["idle_expires_at"] == row["expires_at"]


async def test_bad_authorization_headers(client: httpx.AsyncClient) -> None:
    for header in ("Bearer nope", "Basic abc", "Bearer " + "a" * 300):
        r = await client.get("/api/me", headers={"Authorization": header})
        assert r.status_code == 401


# ---------------------------------------------------------------- /api/me


async def test_me_fields_and_privacy(client: httpx.AsyncClient) -> None:
    r = await register(client, email="me.fields@example.org")
    me = (await client.get("/api/me", headers=bearer(r.json()["token"]))).json()
    assert {"id", "handle", "email", "role", "status", "created_at", "notify_email", "suspended_until"} <= set(me)
    assert me["status"] == "active" and me["email"] == "me.fields@example.org" and me["notify_email"] is False
    assert "password_hash" not in json.dumps(me)


async def test_me_reports_suspension_and_its_end(client: httpx.AsyncClient) -> None:
    acct = await make_user()
    await sql.execute("UPDATE forum_user SET status = 'suspended', suspended_until = now() + interval '2 days',"
                      " suspension_reason = 'cool down' WHERE id = $1", acct.id)
    me = (await client.get("/api/me", headers=auth(acct))).json()
    assert me["status"] == "suspended" and me["suspended_until"] and me["suspension_reason"] == "cool down"
    await sql.execute("UPDATE forum_user SET suspended_until = now() - interval '1 minute' WHERE id = $1", acct.id)
    me = (await client.get("/api/me", headers=auth(acct))).json()
    assert me["status"] == "active" and me["suspended_until"] is None


async def test_patch_handle_and_notify_email(client: httpx.AsyncClient) -> None:
    acct = await make_user()
    other = await make_user()
    new = handle()
    r = await client.patch("/api/me", headers=auth(acct), json={"handle": new, "notify_email": True})
    assert r.status_code == 200, r.text
    assert r.json()["handle"] == new and r.json()["notify_email"] is True
    assert (await client.get(f"/api/users/{acct.id}")).json()["handle"] == new
    r = await client.patch("/api/me", headers=auth(acct), json={"handle": other.handle.upper()})
    assert r.status_code == 409
    r = await client.patch("/api/me", headers=auth(acct), json={"handle": "x y"})
    assert r.status_code == 400 and "handle" in r.json()["detail"]
    # changing only the case of one's own handle is allowed
    r = await client.patch("/api/me", headers=auth(acct), json={"handle": new.upper()})
    assert r.status_code == 200 and r.json()["handle"] == new.upper()


@pytest.mark.parametrize("name", ["coach_maria", "Moderator", "adm1n", "deleted"])
async def test_staff_titles_and_system_words_are_not_self_chosen(client: httpx.AsyncClient, name: str) -> None:
    r = await register(client, handle=name)
    assert r.status_code == 409 and r.json()["detail"].startswith("handle: not available"), r.text
    reader = await make_user()
    r = await client.patch("/api/me", headers=auth(reader), json={"handle": f"{name}"})
    assert r.status_code == 409 and "staff title" in r.json()["detail"]
    assert (await client.get(f"/api/users/{reader.id}")).json()["handle"] == reader.handle


async def test_staff_may_take_staff_handles_but_not_system_words(client: httpx.AsyncClient) -> None:
    coach = await make_user("coach")
    r = await client.patch("/api/me", headers=auth(coach), json={"handle": f"coach_{unique('c')[-6:]}"})
    assert r.status_code == 200 and r.json()["handle"].startswith("coach_")
    r = await client.patch("/api/me", headers=auth(coach), json={"handle": "Guest"})
    assert r.status_code == 409
    user = await services.create_user_cli("Coach_Anna", PASSWORD, None, "coach")  # the organisation names its staff
    assert user["handle"] == "Coach_Anna"


async def test_suspended_user_cannot_rename_but_can_change_preferences(client: httpx.AsyncClient) -> None:
    acct = await make_user(status="suspended")
    r = await client.patch("/api/me", headers=auth(acct), json={"handle": handle()})
    assert r.status_code == 403 and "suspended" in r.json()["detail"]
    r = await client.patch("/api/me", headers=auth(acct), json={"notify_email": True})
    assert r.status_code == 200


async def test_password_change_rules_and_revocation(client: httpx.AsyncClient) -> None:
    h = handle()
    first = (await client.post("/api/auth/register", json={"handle": h, "password": PASSWORD})).json()["token"]
    second = (await client.post("/api/auth/login", json={"login": h, "password": PASSWORD})).json()["token"]
    new = "Another-Good-Passphrase-5"
    r = await client.patch("/api/me", headers=bearer(first), json={"password": new})
    assert r.status_code == 400 and "current_password" in r.json()["detail"]
    r = await client.patch("/api/me", headers=bearer(first), json={"password": new, "current_password": "Nope-nope-1"})
    assert r.status_code == 403 and "current_password" in r.json()["detail"]
    r = await client.patch("/api/me", headers=bearer(first), json={"password": "password1",
                                                                    "current_password": PASSWORD})
    assert r.status_code == 400 and "password" in r.json()["detail"]
    assert (await client.get("/api/me", headers=bearer(second))).status_code == 200  # nothing changed yet
    r = await client.patch("/api/me", headers=bearer(first), json={"password": new, "current_password": PASSWORD})
    assert r.status_code == 200
    assert (await client.get("/api/me", headers=bearer(second))).status_code == 401
    assert (await client.get("/api/me", headers=bearer(first))).status_code == 200
    assert (await client.post("/api/auth/login", json={"login": h, "password": PASSWORD})).status_code == 401
    assert (await client.post("/api/auth/login", json={"login": h, "password": new})).status_code == 200


async def test_email_change_needs_current_password_and_can_remove(client: httpx.AsyncClient) -> None:
    reg = await register(client, email="old.addr@example.org")
    token = reg.json()["token"]
    taken = await register(client, email="taken.addr@example.org")
    assert taken.status_code == 201
    r = await client.patch("/api/me", headers=bearer(token), json={"email": "new.addr@example.org"})
    assert r.status_code == 400 and "current_password" in r.json()["detail"]
    r = await client.patch("/api/me", headers=bearer(token),
                           json={"email": "Taken.Addr@example.org", "current_password": PASSWORD})
    assert r.status_code == 200 and r.json()["email"] == "taken.addr@example.org"  # as if it were free
    assert await sql.fetchval("SELECT email FROM forum_user WHERE id = $1", reg.json()["user"]["id"]) \
        == "old.addr@example.org"  # but not attached: another account has it
    r = await client.patch("/api/me", headers=bearer(token),
                           json={"email": "New.Addr@example.org", "current_password": PASSWORD})
    assert r.status_code == 200 and r.json()["email"] == "new.addr@example.org"
    r = await client.patch("/api/me", headers=bearer(token), json={"email": None, "current_password": PASSWORD})
    assert r.status_code == 200 and r.json()["email"] is None


# ---------------------------------------------------------------- profiles


async def test_public_profile(client: httpx.AsyncClient) -> None:
    acct = await make_user("coach", email="coach.private@example.org")
    r = await client.get(f"/api/users/{acct.id}")
    assert r.status_code == 200
    assert set(r.json()) == {"id", "handle", "role", "created_at"}
    assert r.json()["role"] == "coach"
    assert "coach.private" not in r.text
    assert (await client.get("/api/users/987654321")).status_code == 404
    assert (await client.get("/api/users/987654321098")).status_code == 404  # beyond the int4 id column
    assert (await client.get("/api/users/0")).status_code == 400
    assert (await client.get(f"/api/users/{2**63}")).status_code == 400


# ---------------------------------------------------------------- roles


@pytest.mark.parametrize("role", ["reader", "coach", "moderator"])
async def test_only_admins_change_roles(client: httpx.AsyncClient, role: str) -> None:
    actor, victim = await make_user(role), await make_user()
    r = await client.patch(f"/api/admin/users/{victim.id}", headers=auth(actor), json={"role": "admin"})
    assert r.status_code == 403
    r = await client.patch(f"/api/admin/users/{actor.id}", headers=auth(actor), json={"role": "admin"})
    assert r.status_code == 403
    assert await sql.fetchval("SELECT role FROM forum_user WHERE id = $1", actor.id) == role
    anon = await client.patch(f"/api/admin/users/{victim.id}", json={"role": "admin"})
    assert anon.status_code == 401


async def test_admin_changes_role_with_audit_and_it_applies_next_request(client: httpx.AsyncClient) -> None:
    admin, target = await make_user("admin"), await make_user(email="promoted@example.org")
    assert (await client.get("/api/me", headers=auth(target))).json()["role"] == "reader"
    r = await client.patch(f"/api/admin/users/{target.id}", headers=auth(admin), json={"role": "moderator"})
    assert r.status_code == 200 and r.json()["role"] == "moderator"
    assert (await client.get("/api/me", headers=auth(target))).json()["role"] == "moderator"
    entries = await sql.fetch("SELECT actor_id, action, target_type, target_id, details FROM audit_log")
    assert len(entries) == 1
    e = entries[0]
    assert (e["actor_id"], e["action"], e["target_type"], e["target_id"]) == (admin.id, "role_change", "user",
                                                                              target.id)
    assert json.loads(e["details"]) == {"before": "reader", "after": "moderator"}
    assert "promoted" not in e["details"] and target.handle not in e["details"]
    # the same role again changes nothing and writes nothing
    r = await client.patch(f"/api/admin/users/{target.id}", headers=auth(admin), json={"role": "moderator"})
    assert r.status_code == 200
    assert await sql.fetchval("SELECT count(*) FROM audit_log") == 1


async def test_role_change_refusals(client: httpx.AsyncClient) -> None:
    admin, target = await make_user("admin"), await make_user()
    r = await client.patch(f"/api/admin/users/{target.id}", headers=auth(admin), json={"role": "overlord"})
    assert r.status_code == 400 and "role" in r.json()["detail"]
    for missing in (987654321, 987654321098):
        r = await client.patch(f"/api/admin/users/{missing}", headers=auth(admin), json={"role": "coach"})
        assert r.status_code == 404
    r = await client.patch(f"/api/admin/users/{2**63}", headers=auth(admin), json={"role": "coach"})
    assert r.status_code == 400
    # the only admin cannot demote themselves; with a second admin they can
    r = await client.patch(f"/api/admin/users/{admin.id}", headers=auth(admin), json={"role": "reader"})
    assert r.status_code == 409
    await make_user("admin")
    r = await client.patch(f"/api/admin/users/{admin.id}", headers=auth(admin), json={"role": "reader"})
    assert r.status_code == 200
    r = await client.patch(f"/api/admin/users/{target.id}", headers=auth(admin), json={"role": "coach"})
    assert r.status_code == 403  # no longer an admin, on the very next request
    assert await sql.fetchval("SELECT count(*) FROM audit_log") == 1


# ---------------------------------------------------------------- every route x role


ROUTES = [
    ("GET", "/api/me", None),
    ("PATCH", "/api/me", {"notify_email": True}),
    ("GET", "/api/me/export", None),
    ("POST", "/api/auth/logout", None),
    ("DELETE", "/api/me", None),
]


@pytest.mark.parametrize("role", ["reader", "coach", "moderator", "admin"])
async def test_user_routes_work_for_every_role_and_refuse_anonymous(client: httpx.AsyncClient, role: str) -> None:
    for method, path, payload in ROUTES:
        anon = await client.request(method, path, json=payload)
        assert anon.status_code == 401, (method, path)
        acct = await make_user(role)
        r = await client.request(method, path, json=payload, headers=auth(acct))
        assert r.status_code in (200, 204), (method, path, r.text)


@pytest.mark.parametrize("role", [None, "reader", "coach", "moderator", "admin"])
async def test_public_routes_for_everyone(client: httpx.AsyncClient, role: str | None) -> None:
    target = await make_user("coach")
    headers = auth(await make_user(role)) if role else {}
    assert (await client.get(f"/api/users/{target.id}", headers=headers)).status_code == 200
    r = await client.post("/api/auth/register", headers=headers, json={"handle": handle(), "password": PASSWORD})
    assert r.status_code == 201


# ---------------------------------------------------------------- CLI


async def test_create_user_cli_validates_like_register(client: httpx.AsyncClient) -> None:
    user = await services.create_user_cli("First_Admin", PASSWORD, "Admin@Example.org", "admin")
    assert user["role"] == "admin" and user["handle"] == "First_Admin"
    r = await client.post("/api/auth/login", json={"login": "admin@example.org", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["user"]["role"] == "admin"
    with pytest.raises(Conflict):
        await services.create_user_cli("first_admin", PASSWORD, None, "reader")
    with pytest.raises(BadRequest, match="password"):
        await services.create_user_cli(handle(), "12345678", None, "reader")
    with pytest.raises(BadRequest, match="role"):
        await services.create_user_cli(handle(), PASSWORD, None, "root")
    with pytest.raises(BadRequest, match="email"):
        await services.create_user_cli(handle(), PASSWORD, "nope", "reader")


# ---------------------------------------------------------------- rate limits


async def test_login_failures_limited_per_login_and_address(app, client: httpx.AsyncClient,
                                                          rate_limits_on: None) -> None:
    h = handle()
    await client.post("/api/auth/register", json={"handle": h, "password": PASSWORD})
    for _ in range(10):
        r = await client.post("/api/auth/login", json={"login": h, "password": "Wrong-password-1"})
        assert r.status_code == 401
    # forget the per-address count of all attempts: the (login, address) failure limit alone refuses
    await sql.execute("DELETE FROM rate_limit_bucket WHERE key = $1", ratelimit.stored_key("login:ip:127.0.0.1"))
    r = await client.post("/api/auth/login", json={"login": h, "password": PASSWORD})
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 15 * 60
    assert r.json()["status_code"] == 429
    # the owner, from another address, is not locked out
    transport = httpx.ASGITransport(app=app, client=("10.20.30.40", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        r = await other.post("/api/auth/login", json={"login": h, "password": PASSWORD})
        assert r.status_code == 200


async def test_login_rate_limited_per_address(app, client: httpx.AsyncClient, rate_limits_on: None) -> None:
    for i in range(10):
        r = await client.post("/api/auth/login", json={"login": f"nobody{i}_{uuid.uuid4().hex[:6]}",
                                                       "password": "Wrong-password-1"})
        assert r.status_code == 401
    r = await client.post("/api/auth/login", json={"login": "nobody_else", "password": "Wrong-password-1"})
    assert r.status_code == 429 and r.headers["retry-after"]
    # another address is not affected
    transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        r = await other.post("/api/auth/login", json={"login": "nobody_else2", "password": "Wrong-password-1"})
        assert r.status_code == 401


async def test_registration_rate_limited_per_address(client: httpx.AsyncClient, rate_limits_on: None) -> None:
    for _ in range(20):
        r = await client.post("/api/auth/register", json={"handle": handle(), "password": "short"})
        assert r.status_code == 400
    r = await client.post("/api/auth/register", json={"handle": handle(), "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert await sql.fetchval("SELECT count(*) FROM forum_user") == 0


async def test_current_password_guesses_are_rate_limited(client: httpx.AsyncClient, rate_limits_on: None) -> None:
    token = (await register(client)).json()["token"]
    for _ in range(10):
        r = await client.patch("/api/me", headers=bearer(token),
                               json={"password": "Another-Good-1", "current_password": "Wrong-guess-1"})
        assert r.status_code == 403
    r = await client.patch("/api/me", headers=bearer(token),
                           json={"password": "Another-Good-1", "current_password": PASSWORD})
    assert r.status_code == 429


async def test_openapi_lists_account_routes(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/schema/openapi.json")).json()
    paths = doc["paths"]
    for path, method in [("/api/auth/register", "post"), ("/api/auth/login", "post"), ("/api/auth/logout", "post"),
                         ("/api/me", "get"), ("/api/me", "patch"), ("/api/me", "delete"),
                         ("/api/me/export", "get"), ("/api/users/{user_id}", "get"),
                         ("/api/admin/users/{user_id}", "patch")]:
        assert method in paths[path], (path, method)
