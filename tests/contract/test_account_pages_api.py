"""The API routes the reader's account pages use (issue 17): sign out everywhere, erasure
that needs the password, one-click unsubscribe by a signed token."""

from __future__ import annotations

from forumtest import assert_error, expect, jbody


def test_logout_everywhere_ends_every_session(api, forum, register):
    acct = register()
    second = jbody(forum.login(acct.handle, acct.password), 200)["token"]
    expect(forum.me(acct.token), 200)  # signing in again signed nobody out
    expect(api.post("/api/auth/logout-everywhere", token=second), 204)
    expect(forum.me(acct.token), 401)
    expect(forum.me(second), 401)
    expect(api.post("/api/auth/logout-everywhere"), 401)


def test_erasure_asks_for_the_password(api, forum, register):
    acct = register()
    assert_error(api.delete("/api/me", token=acct.token), 400)
    assert_error(api.delete("/api/me", token=acct.token, json={"current_password": "not-the-password-1"}), 403)
    expect(forum.me(acct.token), 200)
    expect(api.delete("/api/me", token=acct.token, json={"current_password": acct.password}), 204)
    expect(forum.me(acct.token), 401)


def test_unsubscribe_refuses_forged_tokens(api):
    for token in ("x", "1.0123456789abcdef0123456789abcdef", "99999999.deadbeefdeadbeefdeadbeefdeadbeef"):
        r = api.post("/api/unsubscribe", json={"token": token})
        assert_error(r, 400)
        assert "token" in r.json()["detail"]
        assert_error(api.post("/unsubscribe", params={"token": token}, content=b"List-Unsubscribe=One-Click",
                              headers={"Content-Type": "application/x-www-form-urlencoded"}), 400)
    assert_error(api.post("/api/unsubscribe", json={}), 400)
