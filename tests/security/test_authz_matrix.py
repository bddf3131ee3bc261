"""Authorization matrix, generated from the app's own route table.

Every method+path the app serves (except /schema*) is sent as each persona, and the
outcome (allowed, or refused with 401/403/404) is compared with ONE explicit table,
EXPECTED, written from the contract (docs/api.md). A route missing from the table,
or a table entry for a route that no longer exists, fails the test.

Personas act on objects owned by OWNER (a reader): their comment, their private
question, their notifications, their account. OTHER is another reader. Fresh objects are
made for every route (and for every persona on routes that consume them: erasure,
logout, deleting a comment), so one persona's success never hides another's outcome.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from forum import sql
from forum.accounts.passwords import hash_password_sync
from moderation import crisis
from tests.helpers import Account, make_user
from tests.security.support import stream_start, strip_types

ANON, GUEST, OWNER, OTHER, SUSP, COACH, MOD, ADMIN = (
    "anon", "guest", "owner", "other", "susp", "coach", "mod", "admin")
PERSONAS = (ANON, GUEST, OWNER, OTHER, SUSP, COACH, MOD, ADMIN)
ALL = frozenset(PERSONAS)
USERS = frozenset({OWNER, OTHER, SUSP, COACH, MOD, ADMIN})
ACTIVE = USERS - {SUSP}
COACH_UP = frozenset({COACH, MOD, ADMIN})
MOD_UP = frozenset({MOD, ADMIN})

# Who may do what (everyone else is refused with 401, 403 or 404).
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/health"): ALL,
    ("GET", "/health/live"): ALL,
    ("GET", "/health/ready"): ALL,
    ("GET", "/metrics"): ALL,
    # accounts
    ("POST", "/api/auth/register"): ALL,
    ("POST", "/api/auth/login"): ALL,
    ("POST", "/api/auth/logout"): USERS,
    ("POST", "/api/auth/password-reset"): ALL,
    ("POST", "/api/auth/password-reset/confirm"): ALL,
    ("POST", "/api/auth/confirm-email"): ALL,
    ("GET", "/api/me"): USERS,
    ("PATCH", "/api/me"): ACTIVE,  # no handle changes while suspended (no evading moderation)
    ("DELETE", "/api/me"): USERS,  # erasure stays possible while suspended
    ("GET", "/api/me/export"): USERS,
    ("GET", "/api/me/notifications"): USERS,
    ("POST", "/api/me/notifications/read"): USERS,
    ("GET", "/api/me/notifications/events"): USERS,
    ("GET", "/api/users/{user_id}"): ALL,
    # the reader's account pages (issue 17): sign out everywhere, one-click unsubscribe by token
    ("POST", "/api/auth/logout-everywhere"): USERS,
    ("POST", "/api/unsubscribe"): ALL,  # the signed token decides, not a session
    ("POST", "/unsubscribe"): ALL,  # RFC 8058 one-click POST from a mail client
    # the account pages: the same HTML shell for everyone (the page's script signs in with the API)
    ("GET", "/signin"): ALL,
    ("GET", "/register"): ALL,
    ("GET", "/reset"): ALL,
    ("GET", "/confirm-email"): ALL,
    ("GET", "/notifications"): ALL,
    ("GET", "/account"): ALL,
    ("GET", "/unsubscribe"): ALL,
    ("PATCH", "/api/admin/users/{user_id}"): frozenset({ADMIN}),
    ("POST", "/api/admin/users/{user_id}/invite"): frozenset({ADMIN}),
    ("GET", "/api/admin/export"): frozenset({ADMIN}),
    # two-factor sign-in (forum/accounts/secondfactor.py)
    ("POST", "/api/auth/login/second-factor"): ALL,
    ("GET", "/api/me/second-factor"): USERS,
    ("POST", "/api/me/second-factor"): USERS,
    ("POST", "/api/me/second-factor/confirm"): USERS,
    ("POST", "/api/me/second-factor/disable"): USERS,
    ("POST", "/api/me/second-factor/recovery-codes"): USERS,
    ("DELETE", "/api/admin/users/{user_id}/second-factor"): frozenset({ADMIN}),
    ("POST", "/api/moderation/rules/try"): MOD_UP,
    # topics (the article belongs to a coach who is none of the personas)
    ("GET", "/api/topics"): ALL,
    ("POST", "/api/topics"): ACTIVE,  # a discussion: any active user
    ("GET", "/api/topics/{slug}"): ALL,
    ("PATCH", "/api/topics/{slug}"): MOD_UP,
    ("GET", "/api/topics/{slug}/events"): ALL,
    # comments (OWNER's published comment)
    ("GET", "/api/topics/{slug}/comments"): ALL,
    ("POST", "/api/topics/{slug}/comments"): ACTIVE | {GUEST},
    ("GET", "/api/comments/{comment_id}"): ALL,
    ("GET", "/api/comments/{comment_id}/replies"): ALL,
    ("PATCH", "/api/comments/{comment_id}"): frozenset({OWNER}) | MOD_UP,
    ("DELETE", "/api/comments/{comment_id}"): frozenset({OWNER}) | MOD_UP,
    ("GET", "/api/comments/{comment_id}/revisions"): frozenset({OWNER}) | MOD_UP,
    ("POST", "/api/comments/{comment_id}/vote"): ACTIVE - {OWNER},  # not on one's own comment
    ("DELETE", "/api/comments/{comment_id}/vote"): ACTIVE,
    ("POST", "/api/comments/{comment_id}/flags"): ACTIVE - {OWNER},  # not one's own comment
    ("POST", "/api/comments/{comment_id}/accept"): frozenset({OWNER}) | COACH_UP,  # the asker, coach+
    # coach Q&A (OWNER's private question)
    ("GET", "/api/coach/questions"): COACH_UP,
    ("POST", "/api/coach/questions/{question_id}/claim"): COACH_UP,
    ("GET", "/api/coach/stats"): COACH_UP,
    # crisis care (an urgent item on OWNER's comment): coaches work it, not readers
    ("GET", "/api/coach/worklist"): COACH_UP,
    ("POST", "/api/coach/urgent/{item_id}/claim"): COACH_UP,
    ("POST", "/api/coach/urgent/{item_id}/release"): COACH_UP,
    ("POST", "/api/coach/urgent/{item_id}/hide"): COACH_UP,
    ("POST", "/api/coach/urgent/{item_id}/resolve"): COACH_UP,
    # search
    ("GET", "/api/search"): ALL,
    # the comment widget's reads and preview (issue 15)
    ("GET", "/api/topics/by-url"): ALL,
    ("POST", "/api/topics/by-url"): ALL,  # finds the world's article (creation: listed origins only)
    ("POST", "/api/admin/topics/{slug}/merge"): frozenset({ADMIN}),  # into itself: the admin's 400
    ("DELETE", "/api/admin/topics/{slug}"): frozenset({ADMIN}),  # has comments: the admin's 409
    ("GET", "/api/counts"): ALL,
    ("POST", "/api/counts"): ALL,
    ("GET", "/api/site"): ALL,
    ("GET", "/api/comments/{comment_id}/context"): ALL,
    ("POST", "/api/preview"): ALL - {SUSP},  # as posting: a suspended user cannot post
    # the browser front end's assets and loaders (forum/frontend)
    ("GET", "/static/{version}/{file_path}"): ALL,
    ("GET", "/embed.js"): ALL,
    ("GET", "/count.js"): ALL,
    ("GET", "/embed/thread"): ALL,  # the widget's page (it reads the thread through the API)
    ("GET", "/api/topics/{slug}/feed.atom"): ALL,  # the thread's public comments
    ("GET", "/api/guest-challenge"): ALL,  # the guest spam check
    # moderation
    ("GET", "/api/moderation/queues"): MOD_UP,
    ("GET", "/api/moderation/queue"): MOD_UP,
    ("POST", "/api/moderation/items/{item_id}/claim"): MOD_UP,
    ("POST", "/api/moderation/items/{item_id}/release"): MOD_UP,
    ("POST", "/api/moderation/items/{item_id}/decision"): MOD_UP,
    ("POST", "/api/moderation/bulk"): MOD_UP,
    ("GET", "/api/moderation/log"): MOD_UP,
    ("GET", "/api/moderation/users/{user_id}"): MOD_UP,
    ("POST", "/api/moderation/users/{user_id}/suspend"): MOD_UP,
    ("POST", "/api/moderation/users/{user_id}/unsuspend"): MOD_UP,
    ("GET", "/api/moderation/rules"): MOD_UP,
    ("PUT", "/api/moderation/rules"): frozenset({ADMIN}),
}
# Routes whose objects one persona's success would use up: a fresh world per persona.
CONSUMING = {("DELETE", "/api/me"), ("POST", "/api/auth/logout"), ("POST", "/api/auth/logout-everywhere"),
             ("DELETE", "/api/comments/{comment_id}")}
PASSWORD = "Pw-matrix-" + uuid.uuid4().hex[:12]
ARTICLE_URL = "https://blog.example/matrix"  # + the world's slug: its article's address


def served_routes(app: Any) -> set[tuple[str, str]]:
    out = set()
    for route in app.routes:
        path = strip_types(route.path)
        if path.startswith("/schema"):
            continue
        if path.startswith("/console"):  # cookie sessions + CSRF: tests/integration/test_console.py
            continue
        for method in getattr(route, "methods", ()):
            if method not in ("OPTIONS", "HEAD"):
                out.add((method, path))
    return out


@dataclass
class World:
    users: dict[str, Account]
    slug: str
    comment_id: int
    question_id: int
    answer_id: int
    item_id: int
    urgent_item_id: int


async def build_world(c: httpx.AsyncClient) -> World:
    users = {OWNER: await make_user("reader"), OTHER: await make_user("reader"),
             SUSP: await make_user("reader", status="suspended"), COACH: await make_user("coach"),
             MOD: await make_user("moderator"), ADMIN: await make_user("admin")}
    await sql.execute("UPDATE forum_user SET suspended_until = now() + interval '3 days' WHERE id = $1",
                      users[SUSP].id)
    author = await make_user("coach")
    slug = f"matrix-{uuid.uuid4().hex[:10]}"
    r = await c.post("/api/topics", headers=author.headers,
                     json={"kind": "article", "title": "Matrix", "body": "An article.", "slug": slug,
                           "url": f"{ARTICLE_URL}/{slug}"})
    assert r.status_code == 201, r.text
    owner = users[OWNER].headers
    r = await c.post(f"/api/topics/{slug}/comments", headers=owner, json={"body": f"mine {uuid.uuid4().hex}"})
    assert r.status_code == 201 and r.json()["status"] == "published", r.text
    comment_id = r.json()["id"]
    r = await c.post(f"/api/topics/{slug}/comments", headers=owner,
                     json={"body": f"my private question {uuid.uuid4().hex}?", "kind": "question", "private": True})
    assert r.status_code == 201, r.text
    question_id = r.json()["id"]
    r = await c.post(f"/api/topics/{slug}/comments", headers=author.headers,
                     json={"body": f"an answer {uuid.uuid4().hex}", "parent_id": question_id})
    assert r.status_code == 201, r.text
    answer_id = r.json()["id"]
    r = await c.post(f"/api/comments/{comment_id}/flags", headers=users[OTHER].headers, json={"reason": "spam"})
    assert r.status_code == 201, r.text
    item_id = await sql.fetchval("SELECT max(id) FROM moderation_item")
    async with sql.transaction():
        urgent_item_id = await crisis.open_urgent(comment_id=comment_id, reason="self_harm_risk")
    return World(users, slug, comment_id, question_id, answer_id, item_id, urgent_item_id)


async def stream_status(app: Any, path: str, headers: dict[str, str]) -> int:
    """The status of a streaming response (its first message), then disconnect."""
    return int((await stream_start(app, path, headers))["status"])


def request_for(method: str, path: str, w: World, persona: str, login_handle: str,
                rules: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
    """(url, json body, query params) for one route, acting on OWNER's objects."""
    url = path.replace("{item_id}", str(w.urgent_item_id)) if path.startswith("/api/coach/urgent/") else path
    url = (url.replace("{slug}", w.slug).replace("{user_id}", str(w.users[OWNER].id))
           .replace("{question_id}", str(w.question_id)).replace("{item_id}", str(w.item_id)))
    url = url.replace("{comment_id}", str(w.answer_id if path.endswith("/accept") else w.comment_id))
    url = url.replace("{version}", "v").replace("{file_path}", "css/base.css")  # a static asset
    u = uuid.uuid4().hex[:10]
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/api/auth/register"): {"handle": f"m_{u}", "password": PASSWORD},
        ("POST", "/api/auth/login"): {"login": login_handle, "password": PASSWORD},
        ("POST", "/api/auth/password-reset"): {"login": "nobody-here"},
        ("POST", "/api/auth/password-reset/confirm"): {"token": secrets.token_urlsafe(32), "password": PASSWORD},
        ("POST", "/api/auth/confirm-email"): {"token": secrets.token_urlsafe(32)},
        ("PATCH", "/api/me"): {"handle": f"m_{u}"},
        ("POST", "/api/me/notifications/read"): {"all": True},
        ("PATCH", "/api/admin/users/{user_id}"): {"role": "coach"},
        ("POST", "/api/admin/users/{user_id}/invite"): {"email": f"m{u}@example.org"},
        ("POST", "/api/topics"): {"kind": "discussion", "title": f"A discussion {u}", "body": f"Body {u}"},
        ("PATCH", "/api/topics/{slug}"): {"title": f"Retitled {u}"},
        ("POST", "/api/topics/{slug}/comments"): {"body": f"a comment {u}"},
        ("PATCH", "/api/comments/{comment_id}"): {"body": f"edited {u}"},
        ("POST", "/api/comments/{comment_id}/flags"): {"reason": "off_topic"},
        ("POST", "/api/moderation/items/{item_id}/decision"): {"action": "dismiss"},
        ("POST", "/api/moderation/bulk"): {"item_ids": [w.item_id], "action": "dismiss"},
        ("POST", "/api/moderation/users/{user_id}/suspend"): {"reason": "matrix", "days": 1},
        ("POST", "/api/moderation/users/{user_id}/unsuspend"): {},
        ("PUT", "/api/moderation/rules"): rules,
        ("POST", "/api/counts"): {"topics": [w.slug]},
        ("POST", "/api/topics/by-url"): {"url": f"{ARTICLE_URL}/{w.slug}/?utm_source=matrix"},
        ("POST", "/api/admin/topics/{slug}/merge"): {"into": w.slug},
        ("POST", "/api/preview"): {"body": f"a preview {u}"},
        ("POST", "/api/moderation/rules/try"): {"body": f"a trial {u}"},
    }
    body = bodies.get((method, path))
    if body is None and method in ("POST", "PUT", "PATCH"):
        body = {}
    if persona == GUEST and (method, path) == ("POST", "/api/topics/{slug}/comments"):
        body = {**(body or {}), "guest_name": "A guest"}
    params = {"q": "comment"} if path == "/api/search" else {"queue": "reported"} \
        if path == "/api/moderation/queue" else {}
    if path in ("/api/topics/by-url", "/api/counts"):  # the world's article, by its address
        params = {"url" if path.endswith("by-url") else "topic": f"{ARTICLE_URL}/{w.slug}/?utm_source=matrix"}
    return url, body, params




def allowed(status: int) -> bool:
    """Not an authorization refusal. 400/409/422 are business answers to an allowed caller."""
    return status not in (401, 403, 404)


async def test_authorization_matrix(client: httpx.AsyncClient, app: Any) -> None:
    served = served_routes(app)
    missing = sorted(served - set(EXPECTED))
    stale = sorted(set(EXPECTED) - served)
    assert not missing, f"routes without an entry in EXPECTED (add who may use them): {missing}"
    assert not stale, f"EXPECTED names routes the app no longer serves: {stale}"

    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0")
    login_handle = f"login_{uuid.uuid4().hex[:8]}"
    await sql.execute("INSERT INTO forum_user (handle, email, role, status, notify_email, created_at, password_hash)"
                      " VALUES ($1, NULL, 'reader', 'active', false, now(), $2)",
                      login_handle, hash_password_sync(PASSWORD))
    rules = dict((await sql.fetchrow("SELECT * FROM moderation_rules")) or {})
    rules_body = {k: rules[k] for k in (
        "banned_words", "suspect_words", "crisis_words", "max_links_untrusted", "trusted_after_approved",
        "flag_hide_threshold", "edit_window_minutes", "premoderate_all", "crisis_message")}

    failures: list[str] = []
    observed: dict[tuple[str, str], dict[str, int]] = {}
    for method, path in sorted(served, key=lambda mp: (mp[1], mp[0])):
        world = await build_world(client)
        for persona in PERSONAS:
            if (method, path) in CONSUMING and persona != PERSONAS[0]:
                world = await build_world(client)
            account = world.users.get(persona)
            headers = dict(account.headers) if account else {}
            url, body, params = request_for(method, path, world, persona, login_handle, rules_body)
            if path.endswith("/events"):
                status = await stream_status(app, url, headers)
            else:
                r = await client.request(method, url, json=body, params=params, headers=headers)
                status = r.status_code
            observed.setdefault((method, path), {})[persona] = status
            want = persona in EXPECTED[(method, path)]
            if status >= 500:
                failures.append(f"{method} {path} as {persona}: {status} {r.text[:200]}")
            elif allowed(status) != want:
                failures.append(f"{method} {path} as {persona}: {'expected allowed' if want else 'expected refused'},"
                                f" got {status}: {r.text[:160] if not path.endswith('/events') else ''}")
    print("\n" + "\n".join(f"{m:6} {p:48} " + " ".join(f"{k}={v}" for k, v in row.items())
                           for (m, p), row in sorted(observed.items(), key=lambda kv: (kv[0][1], kv[0][0]))))
    assert not failures, f"{len(failures)} authorization mismatches:\n" + "\n".join(failures)


# ---------------------------------------------------------------- object-level checks


async def test_one_reader_cannot_touch_anothers_objects(client: httpx.AsyncClient) -> None:
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0")
    w = await build_world(client)
    owner, other = w.users[OWNER], w.users[OTHER]
    await sql.execute("UPDATE forum_user SET email = $2 WHERE id = $1", owner.id,
                      f"owner-{uuid.uuid4().hex[:6]}@example.org")
    owner_email = await sql.fetchval("SELECT email FROM forum_user WHERE id = $1", owner.id)
    c = client
    refused = {
        "edit": await c.patch(f"/api/comments/{w.comment_id}", headers=other.headers, json={"body": "hijacked"}),
        "delete": await c.delete(f"/api/comments/{w.comment_id}", headers=other.headers),
        "revisions": await c.get(f"/api/comments/{w.comment_id}/revisions", headers=other.headers),
        "private question": await c.get(f"/api/comments/{w.question_id}", headers=other.headers),
        "private question (anonymous)": await c.get(f"/api/comments/{w.question_id}"),
        "answer in the private thread": await c.get(f"/api/comments/{w.answer_id}", headers=other.headers),
        "replies of the private question": await c.get(f"/api/comments/{w.question_id}/replies",
                                                       headers=other.headers),
        "accept on another's question": await c.post(f"/api/comments/{w.answer_id}/accept", headers=other.headers),
        "role change by a reader": await c.patch(f"/api/admin/users/{other.id}", headers=other.headers,
                                                 json={"role": "admin"}),
        "article by a reader": await c.post("/api/topics", headers=other.headers,
                                            json={"kind": "article", "title": "Mine", "body": "x"}),
    }
    for what, r in refused.items():
        assert r.status_code in (401, 403, 404), f"{what}: {r.status_code} {r.text[:200]}"
        if r.status_code == 404:
            assert "private" not in r.text.lower() or what.startswith("private")
    # nothing changed
    row = await sql.fetchrow("SELECT status, body FROM comment WHERE id = $1", w.comment_id)
    assert row["status"] == "published" and "hijacked" not in row["body"]
    assert await sql.fetchval("SELECT role FROM forum_user WHERE id = $1", other.id) == "reader"
    # the private question appears nowhere the other reader looks
    thread = (await c.get(f"/api/topics/{w.slug}/comments", headers=other.headers)).text
    assert f'"id":{w.question_id},' not in thread.replace(" ", "")
    assert "my private question" not in thread
    search = (await c.get("/api/search", headers=other.headers, params={"q": "private question"})).text
    assert "my private question" not in search
    # exports: one's own data only; the owner's email appears in no other reader's view
    export = await c.get("/api/me/export", headers=other.headers)
    assert export.status_code == 200
    assert owner_email not in export.text and "my private question" not in export.text
    profile = await c.get(f"/api/users/{owner.id}", headers=other.headers)
    assert owner_email not in profile.text and "email" not in profile.json()
    # the owner still sees their own question
    assert (await c.get(f"/api/comments/{w.question_id}", headers=owner.headers)).status_code == 200


@pytest.mark.parametrize("who", [COACH, MOD])
async def test_staff_see_the_private_question(client: httpx.AsyncClient, who: str) -> None:
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0")
    w = await build_world(client)
    r = await client.get(f"/api/comments/{w.question_id}", headers=w.users[who].headers)
    assert r.status_code == 200, r.text
