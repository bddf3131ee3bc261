"""The console over HTTP (cookies, CSRF, roles): sign-in, refusal, a decision, try a text."""

from __future__ import annotations

import re

import httpx

from forum import sql
from forum.accounts.passwords import hash_password_sync
from forum.settings import Settings
from tests.helpers import unique
from tests.integration.test_mail import Inbox, smtp  # noqa: F401  (the fixture)

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


async def test_without_mail_the_console_makes_no_link(client: httpx.AsyncClient) -> None:
    """An admin must not hold a way into another person's account: without mail, neither an
    invitation nor a reset link is made (the server's operator has the CLI for that)."""
    reader_id = await sql.fetchval("SELECT id FROM forum_user WHERE handle = $1", await _account("reader"))
    imported = await sql.fetchval("INSERT INTO forum_user (handle, role, status, notify_email, created_at)"
                                  " VALUES ($1, 'reader', 'active', false, now()) RETURNING id", unique("imp"))
    await _sign_in(client, await _account("admin"))
    users = await client.get("/console/users")
    assert users.status_code == 200 and "cannot be sent from here" in users.text
    assert (await client.post(f"/console/users/{reader_id}/reset-link")).status_code == 403  # no CSRF token
    r = await client.post(f"/console/users/{reader_id}/reset-link", data={"_csrf_token": _csrf(users.text)})
    assert r.status_code == 409 and "forum users reset-password" in r.text and "token=" not in r.text
    r = await client.post(f"/console/users/{imported}/invite",
                          data={"email": "parent@example.org", "_csrf_token": _csrf(users.text)})
    assert r.status_code == 409 and "token=" not in r.text
    assert await sql.fetchval('SELECT count(*) FROM password_reset WHERE "user" = ANY($1::bigint[])',
                              [reader_id, imported]) == 0
    assert await sql.fetchval("SELECT email FROM forum_user WHERE id = $1", imported) is None


async def test_with_mail_the_links_are_emailed_and_audited(
        client: httpx.AsyncClient, smtp: tuple[Inbox, Settings]) -> None:  # noqa: F811
    reader = await _account("reader")
    reader_id = await sql.fetchval("SELECT id FROM forum_user WHERE handle = $1", reader)
    await sql.execute("UPDATE forum_user SET email = $2 WHERE id = $1", reader_id, f"{reader}@example.org")
    imported = await sql.fetchval("INSERT INTO forum_user (handle, role, status, notify_email, created_at)"
                                  " VALUES ($1, 'reader', 'active', false, now()) RETURNING id", unique("imp"))
    admin = await _account("admin")
    admin_id = await sql.fetchval("SELECT id FROM forum_user WHERE handle = $1", admin)
    await _sign_in(client, admin)
    users = await client.get("/console/users")
    r = await client.post(f"/console/users/{reader_id}/reset-link", data={"_csrf_token": _csrf(users.text)})
    assert r.status_code in (302, 303) and "token=" not in r.text
    r = await client.post(f"/console/users/{imported}/invite",
                          data={"email": "Parent@Example.org", "_csrf_token": _csrf(users.text)})
    assert r.status_code in (302, 303) and "token=" not in r.text
    assert await sql.fetchval("SELECT email FROM forum_user WHERE id = $1", imported) == "parent@example.org"
    outbox = await sql.fetch('SELECT "user", kind FROM email_outbox ORDER BY id')
    assert [(o["user"], o["kind"]) for o in outbox] == [(reader_id, "password_reset"), (imported, "invitation")]
    audited = await sql.fetch("SELECT action, target_id FROM audit_log WHERE actor_id = $1 ORDER BY id", admin_id)
    assert [(a["action"], a["target_id"]) for a in audited][-2:] == [("password_reset_link", reader_id),
                                                                     ("invite", imported)]


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
