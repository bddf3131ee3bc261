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
