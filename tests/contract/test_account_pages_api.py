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


PAGES = ("/signin", "/register", "/reset", "/reset?token=abc", "/confirm-email?token=abc", "/notifications",
         "/account", "/unsubscribe?token=abc")


def test_account_pages_are_html_with_a_strict_policy(api):
    for path in PAGES:
        r = api.get(path)
        expect(r, 200)
        assert r.headers["content-type"].startswith("text/html"), path
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
        assert r.headers.get("referrer-policy") == "no-referrer", path  # tokens in links stay here
        assert "<script type=\"module\"" in r.text and "set-cookie" not in r.headers, path


def test_a_get_of_the_unsubscribe_page_changes_nothing(api, forum, register):
    acct = register(email=True)
    expect(api.patch("/api/me", token=acct.token, json={"notify_email": True}), 200)
    expect(api.get("/unsubscribe", params={"token": f"{acct.id}.{'0' * 32}"}), 200)
    assert jbody(forum.me(acct.token), 200)["notify_email"] is True
