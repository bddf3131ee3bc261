"""The console over HTTP (cookies, CSRF, roles): sign-in, refusal, a decision, try a text."""

from __future__ import annotations

import re

import httpx

from forum import sql
from forum.accounts.passwords import hash_password_sync
from tests.helpers import unique

PASSWORD = "Correct-horse-9-battery"


async def _account(role: str) -> str:
    handle = unique("c")
    await sql.execute("INSERT INTO forum_user (handle, role, status, notify_email, created_at, password_hash)"
                      " VALUES ($1, $2, 'active', false, now(), $3)", handle, role, hash_password_sync(PASSWORD))
    return handle


def _csrf(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


async def _sign_in(client: httpx.AsyncClient, handle: str) -> httpx.Response:
    page = await client.get("/console")
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    r = await client.post("/console/sign-in", data={"login": handle, "password": PASSWORD,
                                                    "_csrf_token": _csrf(page.text)})
    assert r.status_code in (302, 303), r.text[:300]
    cookie = r.headers.get("set-cookie", "")
    assert "forum_console=" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    return r


async def test_reader_gets_the_team_page_and_nothing_else(client: httpx.AsyncClient) -> None:
    await _sign_in(client, await _account("reader"))
    for path in ("/console", "/console/queue", "/console/coach", "/console/log", "/console/rules", "/console/users"):
        r = await client.get(path)
        assert r.status_code == 403 and "This is for the team" in r.text, path
        assert "queue" not in r.text.lower().split("</header>")[-1] or path == "/console/queue"


async def test_post_without_csrf_is_refused(client: httpx.AsyncClient) -> None:
    handle = await _account("moderator")
    await _sign_in(client, handle)
    r = await client.post("/console/rules/try", data={"body": "hello"})
    assert r.status_code == 403
    page = await client.get("/console/rules")
    r = await client.post("/console/rules/try", data={"body": "hello", "author": "guest",
                                                      "_csrf_token": _csrf(page.text)})
    assert r.status_code == 200 and "It would wait for a moderator" in r.text


async def test_moderator_approves_a_guest_comment(client: httpx.AsyncClient) -> None:
    await sql.execute("INSERT INTO topic (slug, kind, title, body, body_html, status, comments_mode, created_at,"
                      " updated_at, comment_count) VALUES ('console-t', 'discussion', 'A topic', 'b', '<p>b</p>',"
                      " 'published', 'open', now(), now(), 0)")
    r = await client.post("/api/topics/console-t/comments", json={"body": "hello from a guest", "guest_name": "Ann"})
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    comment_id = r.json()["id"]
    await _sign_in(client, await _account("moderator"))
    queue = await client.get("/console/queue")
    assert "hello from a guest" in queue.text
    item_id = await sql.fetchval("SELECT id FROM moderation_item WHERE comment = $1", comment_id)
    item = await client.get(f"/console/queue/items/{item_id}")
    assert item.status_code == 200 and "is looking at this until" in item.text
    r = await client.post(f"/console/queue/items/{item_id}/decide",
                          data={"action": "approve", "queue": "pending", "_csrf_token": _csrf(item.text)})
    assert r.status_code in (302, 303)
    assert await sql.fetchval("SELECT status FROM comment WHERE id = $1", comment_id) == "published"
    out = await client.post("/console/sign-out", data={"_csrf_token": _csrf(queue.text)})
    assert out.status_code in (302, 303)
    assert (await client.get("/console/queue")).status_code in (302, 303)


def _link(html: str) -> str:
    found = re.search(r'id="link" readonly value="[^"]*(/reset\?token=[^"]+)"', html)
    assert found, html[:2000]
    return found.group(1).replace("&amp;", "&")


async def test_admin_makes_a_reset_link_shown_once_and_audited(client: httpx.AsyncClient) -> None:
    reader = await _account("reader")
    reader_id = await sql.fetchval("SELECT id FROM forum_user WHERE handle = $1", reader)
    admin = await _account("admin")
    admin_id = await sql.fetchval("SELECT id FROM forum_user WHERE handle = $1", admin)
    await _sign_in(client, admin)
    users = await client.get("/console/users")
    assert users.status_code == 200 and "Mail is off on this server" in users.text
    assert f'action="/console/users/{reader_id}/reset-link"' in users.text
    assert (await client.post(f"/console/users/{reader_id}/reset-link")).status_code == 403  # no CSRF token
    r = await client.post(f"/console/users/{reader_id}/reset-link", data={"_csrf_token": _csrf(users.text)})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "This link is shown only now" in r.text
    token = _link(r.text).split("token=", 1)[1]
    entry = await sql.fetchrow("SELECT actor_id, action FROM audit_log WHERE target_id = $1"
                               " AND action = 'password_reset_link' ORDER BY id DESC LIMIT 1", reader_id)
    assert entry is not None and entry["actor_id"] == admin_id
    r = await client.post("/api/auth/password-reset/confirm", json={"token": token, "password": "A-new-pass-77-word"})
    assert r.status_code == 204, r.text


async def test_admin_invites_an_imported_account(client: httpx.AsyncClient) -> None:
    handle = unique("imp")
    user_id = await sql.fetchval("INSERT INTO forum_user (handle, role, status, notify_email, created_at)"
                                 " VALUES ($1, 'reader', 'active', false, now()) RETURNING id", handle)
    with_password = await _account("reader")
    other_id = await sql.fetchval("SELECT id FROM forum_user WHERE handle = $1", with_password)
    admin = await _account("admin")
    await _sign_in(client, admin)
    users = await client.get("/console/users")
    assert f'action="/console/users/{user_id}/invite"' in users.text
    assert f'action="/console/users/{other_id}/invite"' not in users.text  # it has a password: a reset link
    r = await client.post(f"/console/users/{user_id}/invite",
                          data={"email": "Parent@Example.org", "_csrf_token": _csrf(users.text)})
    assert r.status_code == 200 and "/reset?token=" in _link(r.text)
    assert await sql.fetchval("SELECT email FROM forum_user WHERE id = $1", user_id) == "parent@example.org"
    assert await sql.fetchval("SELECT count(*) FROM audit_log WHERE action = 'invite' AND target_id = $1"
                              " AND actor_id = (SELECT id FROM forum_user WHERE handle = $2)", user_id, admin) == 1
    r = await client.post(f"/console/users/{other_id}/invite",
                          data={"email": "someone@example.org", "_csrf_token": _csrf(users.text)})
    assert r.status_code == 409 and "has a password" in r.text


async def test_a_moderator_cannot_make_links(client: httpx.AsyncClient) -> None:
    reader_id = await sql.fetchval("SELECT id FROM forum_user WHERE handle = $1", await _account("reader"))
    await _sign_in(client, await _account("moderator"))
    page = await client.get("/console/rules")
    r = await client.post(f"/console/users/{reader_id}/reset-link", data={"_csrf_token": _csrf(page.text)})
    assert r.status_code == 403 and "/reset?token=" not in r.text
    assert await sql.fetchval("SELECT count(*) FROM password_reset WHERE \"user\" = $1", reader_id) == 0


async def test_admin_downloads_the_site_export(client: httpx.AsyncClient) -> None:
    await sql.execute("INSERT INTO topic (slug, kind, title, body, body_html, status, comments_mode, created_at,"
                      " updated_at, comment_count) VALUES ('export-t', 'discussion', 'Exported', 'b', '<p>b</p>',"
                      " 'published', 'open', now(), now(), 0)")
    await _sign_in(client, await _account("moderator"))
    assert (await client.get("/console/settings/export")).status_code == 403
    client.cookies.clear()
    await _sign_in(client, await _account("admin"))
    page = await client.get("/console/settings")
    assert 'href="/console/settings/export"' in page.text
    r = await client.get("/console/settings/export")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.headers["cache-control"] == "no-store" and "attachment" in r.headers["content-disposition"]
    body = r.json()
    assert "export-t" in [t["slug"] for t in body["topics"]]
    assert all("email" not in u and "password_hash" not in u for u in body["users"])


async def test_the_queue_item_marks_the_words_the_rules_matched(client: httpx.AsyncClient) -> None:
    await sql.execute("UPDATE moderation_rules SET suspect_words = ARRAY['pills', 'dm me']")
    await sql.execute("INSERT INTO topic (slug, kind, title, body, body_html, status, comments_mode, created_at,"
                      " updated_at, comment_count) VALUES ('marks-t', 'discussion', 'A topic', 'b', '<p>b</p>',"
                      " 'published', 'open', now(), now(), 0)")
    r = await client.post("/api/topics/marks-t/comments",
                          json={"body": "Cheap P1LLS <b>here</b>, just DM me & wait.", "guest_name": "Ann"})
    assert r.status_code == 201, r.text
    item_id = await sql.fetchval("SELECT id FROM moderation_item WHERE comment = $1", r.json()["id"])
    await _sign_in(client, await _account("moderator"))
    page = await client.get(f"/console/queue/items/{item_id}")
    assert page.status_code == 200
    marked = page.text.split('<div class="marked-text">', 1)[1].split("</div>", 1)[0]
    assert marked == ('Cheap <mark class="rule-suspect">P1LLS</mark> &lt;b&gt;here&lt;/b&gt;, just'
                      ' <mark class="rule-suspect">DM</mark> <mark class="rule-suspect">me</mark> &amp; wait.')
    assert "Word to check found: pills, dm me" in page.text
    assert 'class="marked-text"' in (await client.get("/console/queue")).text
