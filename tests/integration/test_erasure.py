"""Erasure (DELETE /api/me) leaves no trace of the user, and export (GET /api/me/export)
returns everything about the caller and nothing about anyone else."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from forum import sql
from forum.comments import tree
from tests.helpers import Account, auth, make_user

PASSWORD = "Correct-horse-9-battery"


async def _topic(kind: str = "article", author: int | None = None, title: str = "A topic",
                 slug: str | None = None) -> int:
    slug = slug or f"topic-{uuid.uuid4().hex[:10]}"
    return int(await sql.fetchval(
        "INSERT INTO topic (slug, kind, title, url, body, body_html, author, comments_mode, status, comment_count,"
        " version, created_at, updated_at) VALUES ($1, $2, $3, NULL, 'topic body', '<p>topic body</p>', $4, 'open',"
        " 'published', 0, 1, now(), now()) RETURNING id", slug, kind, title, author))


async def _comment(topic_id: int, author: int | None, body: str, parent: int | None = None,
                   status: str = "published") -> int:
    parent_path = await sql.fetchval("SELECT path FROM comment WHERE id = $1", parent) if parent else None
    root = await sql.fetchval("SELECT root_id FROM comment WHERE id = $1", parent) if parent else None
    depth = (await sql.fetchval("SELECT depth FROM comment WHERE id = $1", parent) + 1) if parent else 0
    cid = int(await sql.fetchval(
        "INSERT INTO comment (topic, parent, path, depth, kind, private, status, author, body, body_html, score,"
        " reply_count, accepted, urgent, created_at) VALUES ($1, $2, '', $3, 'comment', false, $4, $5, $6,"
        " $7, 0, 0, false, false, now()) RETURNING id",
        topic_id, parent, depth, status, author, body, f"<p>{body}</p>"))
    await sql.execute("UPDATE comment SET path = $2, root_id = $3 WHERE id = $1",
                      cid, tree.child_path(parent_path, cid), root or cid)
    return cid


async def _register(client: httpx.AsyncClient, email: str) -> Account:
    handle = f"victim_{uuid.uuid4().hex[:8]}"
    r = await client.post("/api/auth/register", json={"handle": handle, "password": PASSWORD, "email": email})
    assert r.status_code == 201
    body = r.json()
    return Account(body["token"], body["user"]["id"], handle, "reader",
                   {"Authorization": f"Bearer {body['token']}"})


async def _tables_containing(needle: str) -> list[str]:
    """Every text, varchar, json/jsonb and array column of every table, searched for `needle`."""
    columns = await sql.fetch(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c"
        " JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
        " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
        " AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')")
    assert len(columns) > 20  # the search really covers the schema
    hits = []
    for col in columns:
        table, column = col["table_name"].replace('"', '""'), col["column_name"].replace('"', '""')
        found = await sql.fetchval(
            f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE \'%\' || $1 || \'%\'', needle)
        if found:
            hits.append(f"{col['table_name']}.{col['column_name']}")
    return hits


async def _victim_world(client: httpx.AsyncClient) -> dict[str, Any]:
    """A victim with email, comments (one replied to), a revision, a vote, a flag with a note,
    notifications both ways, an email outbox entry quoting them, a reset token, a claim,
    an idempotent response and a discussion they started; plus another user's content."""
    email = f"victim.{uuid.uuid4().hex[:8]}@example.org"
    victim = await _register(client, email)
    other = await make_user("coach", email="other.person@example.org")
    topic = await _topic()
    replied_text = f"victimtext{uuid.uuid4().hex[:8]} my son"
    alone_text = f"victimalone{uuid.uuid4().hex[:8]}"
    old_text = f"victimold{uuid.uuid4().hex[:8]}"
    discussion_text = f"victimdisc{uuid.uuid4().hex[:8]}"
    other_text = f"othertext{uuid.uuid4().hex[:8]}"
    replied = await _comment(topic, victim.id, replied_text)
    alone = await _comment(topic, victim.id, alone_text)
    reply = await _comment(topic, other.id, other_text, parent=replied)
    own_reply = await _comment(topic, victim.id, alone_text + " again", parent=reply)
    await sql.execute("INSERT INTO comment_revision (comment, body, body_html, editor, created_at)"
                      " VALUES ($1, $2, $3, $4, now())", replied, old_text, f"<p>{old_text}</p>", victim.id)
    await sql.execute('INSERT INTO vote (comment, "user", created_at) VALUES ($1, $2, now())', reply, victim.id)
    await sql.execute("UPDATE comment SET score = 1 WHERE id = $1", reply)
    await sql.execute('INSERT INTO vote (comment, "user", created_at) VALUES ($1, $2, now())', replied, other.id)
    await sql.execute('INSERT INTO flag (comment, "user", reason, note, created_at)'
                      " VALUES ($1, $2, 'other', $3, now())", reply, victim.id, f"flagnote by {victim.handle}")
    await sql.execute('INSERT INTO flag (comment, "user", reason, note, created_at)'
                      " VALUES ($1, $2, 'spam', 'other user note', now())", alone, other.id)
    n_to_victim = await sql.fetchval(
        'INSERT INTO notification ("user", kind, comment, topic, actor, reason, created_at)'
        " VALUES ($1, 'reply', $2, $3, $4, NULL, now()) RETURNING id", victim.id, reply, topic, other.id)
    n_to_other = await sql.fetchval(
        'INSERT INTO notification ("user", kind, comment, topic, actor, reason, created_at)'
        " VALUES ($1, 'reply', $2, $3, $4, NULL, now()) RETURNING id", other.id, own_reply, topic, victim.id)
    await sql.execute(
        'INSERT INTO email_outbox (notification, "user", kind, subject, body, attempts, next_attempt_at, created_at)'
        " VALUES ($1, $2, 'notification', $3, $4, 0, now(), now())",
        n_to_other, other.id, f"{victim.handle} replied", f"{victim.handle} wrote: {alone_text}")
    await sql.execute(
        'INSERT INTO email_outbox (notification, "user", kind, subject, body, attempts, next_attempt_at, created_at)'
        " VALUES ($1, $2, 'notification', 'A reply', $3, 0, now(), now())", n_to_victim, victim.id,
        f"Hello {victim.handle}")
    await sql.execute('INSERT INTO password_reset ("user", token_hash, created_at, expires_at)'
                      " VALUES ($1, $2, now(), now() + interval '1 hour')", victim.id, uuid.uuid4().hex * 2)
    await sql.execute("INSERT INTO idempotency_key (scope, key, request_hash, status_code, response, created_at)"
                      " VALUES ($1, 'k1', 'h', 201, $2::jsonb, now())", f"user:{victim.id}",
                      json.dumps({"body_html": alone_text, "author": {"handle": victim.handle}}))
    # like a generated slug, it carries the author's own words
    discussion = await _topic("discussion", victim.id, title=f"Title {discussion_text}",
                              slug=f"title-{discussion_text}")
    await sql.execute("UPDATE topic SET body = $2, body_html = $2 WHERE id = $1", discussion, discussion_text)
    return dict(victim=victim, email=email, other=other, topic=topic, replied=replied, alone=alone,
                reply=reply, own_reply=own_reply, texts=[replied_text, alone_text, old_text, discussion_text],
                other_text=other_text, n_to_other=n_to_other)


async def test_erasure_leaves_no_trace_in_any_table(client: httpx.AsyncClient) -> None:
    w = await _victim_world(client)
    victim: Account = w["victim"]
    # the search finds them before: it would catch a leak
    assert await _tables_containing(w["email"]) == ["forum_user.email"]
    assert "comment.body" in await _tables_containing(w["texts"][0])

    r = await client.request("DELETE", "/api/me", headers=auth(victim), json={"current_password": PASSWORD})
    assert r.status_code == 204

    for needle in [w["email"], victim.handle, *w["texts"]]:
        assert await _tables_containing(needle) == [], needle
    husk = await sql.fetchrow("SELECT * FROM forum_user WHERE id = $1", victim.id)
    assert husk["handle"] is None and husk["email"] is None and husk["password_hash"] is None
    assert husk["status"] == "erased" and husk["erased_at"] is not None
    for table, column in [("user_session", '"user"'), ("notification", '"user"'), ("notification", "actor"),
                          ("email_outbox", '"user"'), ("password_reset", '"user"'), ("vote", '"user"'),
                          ("flag", '"user"'), ("comment", "author"), ("topic", "author")]:
        assert await sql.fetchval(f"SELECT count(*) FROM {table} WHERE {column} = $1", victim.id) == 0, table
    # the reply keeps its place under a tombstone; the lonely comment is gone
    stone = await sql.fetchrow("SELECT status, body, body_html, author FROM comment WHERE id = $1", w["replied"])
    assert dict(stone) == {"status": "deleted", "body": "", "body_html": "", "author": None}
    assert await sql.fetchval("SELECT count(*) FROM comment WHERE id = $1", w["alone"]) == 0
    assert await sql.fetchval("SELECT count(*) FROM comment WHERE id = $1", w["reply"]) == 1
    assert await sql.fetchval("SELECT score FROM comment WHERE id = $1", w["reply"]) == 0
    # the other user's things stay
    assert await _tables_containing(w["other_text"]) == ["comment.body", "comment.body_html"]
    assert await _tables_containing("other.person@example.org") == ["forum_user.email"]
    assert await sql.fetchval("SELECT count(*) FROM flag WHERE \"user\" = $1", w["other"].id) == 0  # on a gone comment
    # and the user can neither use the token nor log in again
    assert (await client.get("/api/me", headers=auth(victim))).status_code == 401
    for login in (victim.handle, w["email"]):
        r = await client.post("/api/auth/login", json={"login": login, "password": PASSWORD})
        assert r.status_code == 401
    assert (await client.get(f"/api/users/{victim.id}")).status_code == 404


async def test_erasure_revokes_every_session_frees_the_email_and_holds_the_handle(client: httpx.AsyncClient) -> None:
    victim = await _register(client, "leaving@example.org")
    other = (await client.post("/api/auth/login", json={"login": victim.handle, "password": PASSWORD})).json()
    erase = {"current_password": PASSWORD}
    assert (await client.request("DELETE", "/api/me", headers=auth(victim), json=erase)).status_code == 204
    assert (await client.get("/api/me", headers={"Authorization": f"Bearer {other['token']}"})).status_code == 401
    assert await sql.fetchval("SELECT count(*) FROM user_session") == 0
    # a second DELETE with the dead token is refused, not repeated
    assert (await client.request("DELETE", "/api/me", headers=auth(victim), json=erase)).status_code == 401
    r = await client.post("/api/auth/register", json={"handle": victim.handle, "password": PASSWORD})
    assert r.status_code == 409  # held for FORUM_ERASED_HANDLE_HOLD_DAYS (test_privacy.py)
    r = await client.post("/api/auth/register", json={"handle": victim.handle + "2", "password": PASSWORD,
                                                      "email": "leaving@example.org"})
    assert r.status_code == 201 and r.json()["user"]["id"] != victim.id
    assert await sql.fetchval("SELECT id FROM forum_user WHERE email = 'leaving@example.org'") == r.json()["user"]["id"]


async def test_erasure_is_all_or_nothing(client: httpx.AsyncClient, monkeypatch: Any) -> None:
    import moderation.services

    victim = await _register(client, "atomic@example.org")
    topic = await _topic()
    await _comment(topic, victim.id, "atomic text")

    async def boom(user_id: int) -> None:
        raise RuntimeError("flags could not be removed")

    monkeypatch.setattr(moderation.services, "remove_flags_of", boom)
    r = await client.request("DELETE", "/api/me", headers=auth(victim), json={"current_password": PASSWORD})
    assert r.status_code == 500
    assert await sql.fetchval("SELECT handle FROM forum_user WHERE id = $1", victim.id) == victim.handle
    assert await sql.fetchval("SELECT body FROM comment WHERE author = $1", victim.id) == "atomic text"
    assert (await client.get("/api/me", headers=auth(victim))).status_code == 200


# ---------------------------------------------------------------- export


async def test_export_is_complete_and_only_about_the_caller(client: httpx.AsyncClient) -> None:
    w = await _victim_world(client)
    victim: Account = w["victim"]
    r = await client.get("/api/me/export", headers=auth(victim))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    data = r.json()
    assert set(data) >= {"profile", "comments", "votes", "flags", "notifications", "sessions", "topics"}
    assert data["profile"]["email"] == w["email"] and data["profile"]["handle"] == victim.handle
    assert {c["id"] for c in data["comments"]} == {w["replied"], w["alone"], w["own_reply"]}
    replied = next(c for c in data["comments"] if c["id"] == w["replied"])
    assert [rev["body"] for rev in replied["revisions"]] == [w["texts"][2]]
    assert replied["revisions"][0]["edited_by_you"] is True
    assert [v["comment_id"] for v in data["votes"]] == [w["reply"]]
    assert [f["comment_id"] for f in data["flags"]] == [w["reply"]]
    assert data["flags"][0]["note"].startswith("flagnote")
    assert [n["comment_id"] for n in data["notifications"]] == [w["reply"]]
    assert len(data["sessions"]) == 1 and data["sessions"][0]["current"] is True
    assert [t["body"] for t in data["topics"]] == [w["texts"][3]]
    for text in w["texts"][:3]:
        assert text in r.text
    # nothing of anyone else
    assert w["other_text"] not in r.text
    assert "other.person" not in r.text
    assert w["other"].handle not in r.text
    assert "other user note" not in r.text
    assert "password_hash" not in r.text and "token_hash" not in r.text and "$argon2" not in r.text


async def test_export_of_a_fresh_account(client: httpx.AsyncClient) -> None:
    acct = await make_user()
    data = (await client.get("/api/me/export", headers=auth(acct))).json()
    assert data["profile"]["id"] == acct.id and data["profile"]["email"] is None
    assert data["comments"] == data["votes"] == data["flags"] == data["notifications"] == data["topics"] == []
    assert (await client.get("/api/me/export")).status_code == 401
