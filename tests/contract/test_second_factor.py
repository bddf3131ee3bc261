"""Two-factor sign-in over HTTP: enrol, every login needs a code, recovery codes, the admin's reset."""

from __future__ import annotations

import time

import pyotp
from forumtest import assert_error, expect, jbody


def _code(secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def _enrol(api, token):
    start = jbody(api.post("/api/me/second-factor", token=token), 201)
    assert start["otpauth_uri"].startswith("otpauth://totp/")
    assert start["qr_svg"].startswith("data:image/svg+xml")
    codes = jbody(api.post("/api/me/second-factor/confirm", token=token, json={"code": _code(start["secret"])}),
                  200)["recovery_codes"]
    assert len(codes) == 10
    return start["secret"], codes


def test_login_with_a_second_factor(api, forum, register):
    acct = register()
    secret, codes = _enrol(api, acct.token)
    status = jbody(api.get("/api/me/second-factor", token=acct.token), 200)
    assert status["enabled"] is True and status["recovery_codes_left"] == 10
    r = forum.login(acct.handle, acct.password)
    body = assert_error(r, 401)
    assert body["second_factor_required"] is True and "token" not in body
    challenge = body["challenge"]
    assert_error(api.post("/api/auth/login/second-factor", json={"challenge": challenge, "code": "000000"}), 400)
    done = jbody(api.post("/api/auth/login/second-factor",
                          json={"challenge": challenge, "code": _code(secret, 1)}), 200)
    assert jbody(forum.me(done["token"]), 200)["id"] == acct.id
    # a recovery code, once
    challenge = assert_error(forum.login(acct.handle, acct.password), 401)["challenge"]
    expect(api.post("/api/auth/login/second-factor", json={"challenge": challenge, "recovery_code": codes[0]}), 200)
    challenge = assert_error(forum.login(acct.handle, acct.password), 401)["challenge"]
    assert_error(api.post("/api/auth/login/second-factor",
                          json={"challenge": challenge, "recovery_code": codes[0]}), 400)


def test_unknown_challenge_is_401(api):
    assert_error(api.post("/api/auth/login/second-factor", json={"challenge": "nope", "code": "123456"}), 401)


def test_disable_and_admin_reset(api, forum, register, admin):
    acct = register()
    secret, _ = _enrol(api, acct.token)
    assert_error(api.post("/api/me/second-factor/disable", token=acct.token,
                          json={"current_password": "wrong-Pw-123456", "code": _code(secret, 1)}), 403)
    expect(api.post("/api/me/second-factor/disable", token=acct.token,
                    json={"current_password": acct.password, "code": _code(secret, 1)}), 204)
    assert "token" in jbody(forum.login(acct.handle, acct.password), 200)

    other = register()
    _enrol(api, other.token)
    assert_error(api.delete(f"/api/admin/users/{other.id}/second-factor", token=acct.token), 403)
    expect(api.delete(f"/api/admin/users/{other.id}/second-factor", token=admin.token), 204)
    assert "token" in jbody(forum.login(other.handle, other.password), 200)
