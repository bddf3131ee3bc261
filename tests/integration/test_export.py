"""Export: the documented JSON, privacy (no emails, no password hashes, erased users
without handle), admin-only HTTP route, and the round trip export -> import json -> export."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from forum import sql
from forum.comments.tree import child_path
from forum.errors import BadRequest, NotFound
from forum.transfer.commands import run_export, run_import
from tests.helpers import auth, make_user

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


async def add_comment(topic_id: int, body: str, *, author: int | None = None, parent: int | None = None,
                      status: str = "published", private: bool = False, kind: str = "comment",
                      guest: str | None = None, **extra: Any) -> int:
    cid = await sql.fetchval("SELECT nextval('comment_id_seq')")
    path, root, depth = child_path(None, cid), cid, 0
    if parent is not None:
        p = await sql.fetchrow("SELECT path, root_id, depth FROM comment WHERE id = $1", parent)
        path, root, depth = child_path(p["path"], cid), p["root_id"], p["depth"] + 1
    cols = {"id": cid, "topic": topic_id, "parent": parent, "root_id": root, "path": path, "depth": depth,
            "kind": kind, "private": private, "status": status, "author": author, "guest_name": guest,
            "body": body, "body_html": f"<p>{body}</p>", **extra}
    names = ", ".join(f'"{k}"' for k in cols)
    marks = ", ".join(f"${i + 1}" for i in range(len(cols)))
    await sql.execute(f"INSERT INTO comment ({names}, created_at) VALUES ({marks}, clock_timestamp())",
                      *cols.values())
    return cid


async def build_site() -> dict[str, Any]:
    await run_import("wordpress", FIXTURES / "wordpress.xml")
    coach = await make_user("coach", email="coach.secret@example.org")
    reader = await make_user("reader", email="reader.secret@example.org")
    gone = await make_user("reader")
    await sql.execute("UPDATE forum_user SET password_hash = 'argon2-HASH-SECRET' WHERE id = $1", reader.id)
    topic_id = await sql.fetchval(
        "INSERT INTO topic (slug, kind, title, url, body, body_html, author, comments_mode, status, created_at,"
        " updated_at) VALUES ('a-discussion', 'discussion', 'A discussion', NULL, 'Hello **all**',"
        " '<p>Hello <strong>all</strong></p>', $1, 'premoderated', 'published', now(), now()) RETURNING id",
        reader.id)
    q = await add_comment(topic_id, "private question", author=reader.id, kind="question", private=True,
                          audience=reader.id, question_status="answered")
    answer = await add_comment(topic_id, "coach answer", author=coach.id, parent=q, private=True,
                               audience=reader.id, author_badge="coach")
    stone = await add_comment(topic_id, "", author=None, status="deleted", deleted_at=None)
    await add_comment(topic_id, "reply under a tombstone", author=coach.id, parent=stone, author_badge="coach",
                      score=1, edited_at=None)
    await add_comment(topic_id, "still pending", author=reader.id, status="pending")
    await add_comment(topic_id, "rejected one", author=reader.id, status="rejected")
    await sql.execute('INSERT INTO vote (comment, "user", created_at) VALUES ($1, $2, now())', answer, reader.id)
    await sql.execute("INSERT INTO comment_revision (comment, body, body_html, editor, created_at)"
                      " VALUES ($1, 'first draft', '<p>first draft</p>', $2, now())", answer, coach.id)
    await sql.execute("UPDATE forum_user SET handle = NULL, email = NULL, status = 'erased', erased_at = now()"
                      " WHERE id = $1", gone.id)
    await add_comment(topic_id, "", author=gone.id, status="deleted")
    return {"coach": coach, "reader": reader, "gone": gone, "topic_id": topic_id}


async def export_text(slug: str | None = None) -> str:
    out = io.StringIO()
    await run_export(slug, out)
    return out.getvalue()


def normalized(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with ids replaced by their rank in each list (ids may be remapped)."""
    users = {u["id"]: i for i, u in enumerate(sorted(doc["users"], key=lambda u: u["id"]))}
    topics = {t["id"]: i for i, t in enumerate(sorted(doc["topics"], key=lambda t: t["id"]))}
    comments = {c["id"]: i for i, c in enumerate(sorted(doc["comments"], key=lambda c: c["id"]))}

    def ref(table: dict[int, int], value: int | None) -> int | None:
        return None if value is None else table[value]

    out = {k: v for k, v in doc.items() if k != "exported_at"}
    out["users"] = [{**u, "id": users[u["id"]]} for u in doc["users"]]
    out["topics"] = [{**t, "id": topics[t["id"]], "author_id": ref(users, t["author_id"])} for t in doc["topics"]]
    out["comments"] = [{**c, "id": comments[c["id"]], "topic_id": topics[c["topic_id"]],
                        "parent_id": ref(comments, c["parent_id"]), "author_id": ref(users, c["author_id"]),
                        "audience_id": ref(users, c["audience_id"])} for c in doc["comments"]]
    out["votes"] = [{**v, "comment_id": comments[v["comment_id"]], "user_id": users[v["user_id"]]}
                    for v in doc["votes"]]
    out["revisions"] = [{**r, "comment_id": comments[r["comment_id"]], "editor_id": ref(users, r["editor_id"])}
                        for r in doc["revisions"]]
    return out


async def wipe(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL forum.allow_audit_truncate = 'on'")
            await conn.execute("TRUNCATE topic, comment, forum_user, import_source, moderation_item, vote,"
                               " comment_revision CASCADE")
    finally:
        await conn.close()


async def test_export_is_documented_json_without_secrets(client: httpx.AsyncClient) -> None:
    site = await build_site()
    text = await export_text()
    doc = json.loads(text)
    assert doc["format"] == "forum-export" and doc["version"] == 1 and doc["topic"] is None
    assert set(doc) >= {"users", "topics", "comments", "votes", "revisions", "exported_at"}
    for secret in ("coach.secret@example.org", "reader.secret@example.org", "argon2-HASH-SECRET", "email",
                   "password", "@example.com"):
        assert secret not in text, secret
    users = {u["id"]: u for u in doc["users"]}
    assert set(users[site["coach"].id]) == {"id", "handle", "role", "status", "created_at", "suspended_until",
                                            "erased_at"}
    assert users[site["gone"].id]["handle"] is None and users[site["gone"].id]["status"] == "erased"
    comments = {c["body"]: c for c in doc["comments"]}
    answer = comments["coach answer"]
    assert answer["parent_id"] == comments["private question"]["id"] and answer["private"] is True
    assert answer["author_id"] == site["coach"].id and answer["author_badge"] == "coach"
    assert comments["still pending"]["status"] == "pending" and comments["rejected one"]["status"] == "rejected"
    assert comments["<p>This helped our family a lot.</p><p>Thank you for the <a rel=\"nofollow ugc noopener\">"
                    "checklist</a> and <a href=\"https://example.org/x\" rel=\"nofollow ugc noopener\">this link"
                    "</a>.</p>"]["guest_name"] == "Maria"
    assert len(doc["votes"]) == 1 and doc["revisions"][0]["body"] == "first draft"


async def test_round_trip_export_import_export(client: httpx.AsyncClient, migrated: str, tmp_path: Path) -> None:
    await build_site()
    first = await export_text()
    path = tmp_path / "site.json"
    path.write_text(first)
    await wipe(migrated)
    report = await run_import("json", path)
    assert "comments:  13" in report
    second = json.loads(await export_text())
    assert normalized(second) == normalized(json.loads(first))
    # derived columns are rebuilt: the tree and the public counts
    q = await sql.fetchrow("SELECT * FROM comment WHERE body = 'private question'")
    a = await sql.fetchrow("SELECT * FROM comment WHERE body = 'coach answer'")
    assert a["parent"] == q["id"] and a["root_id"] == q["id"] and a["depth"] == 1
    assert a["path"].startswith(q["path"])
    stone = await sql.fetchrow("SELECT c.* FROM comment c JOIN comment r ON r.parent = c.id"
                               " WHERE r.body = 'reply under a tombstone'")
    assert stone["status"] == "deleted" and stone["reply_count"] == 1
    assert await sql.fetchval("SELECT comment_count FROM topic WHERE slug = 'talking-with-a-teenager'") == 4
    assert await sql.fetchval("SELECT comment_count FROM topic WHERE slug = 'a-discussion'") == 1
    assert await sql.fetchval(
        "SELECT count(*) FROM forum_user WHERE email IS NOT NULL OR password_hash IS NOT NULL") == 0


async def test_json_import_refuses_a_database_with_content(client: httpx.AsyncClient, tmp_path: Path) -> None:
    await build_site()
    path = tmp_path / "site.json"
    path.write_text(await export_text())
    before = await sql.fetchval("SELECT count(*) FROM comment")
    with pytest.raises(BadRequest) as info:
        await run_import("json", path)
    assert "already has topics or comments" in info.value.detail
    assert await sql.fetchval("SELECT count(*) FROM comment") == before


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"format": "other", "version": 1, "users": [], "topics": [], "comments": []}', "expected 'forum-export'"),
    ('{"format": "forum-export", "version": 1, "users": [], "topics": [], "comments": [{"id": 1}]}', "comments"),
    ('{"format": "forum-export", "version": 1, "users": [], "topics": [{"id": 1, "slug": "s", "kind": "article",'
     ' "title": "t", "url": null, "body": "", "body_html": "", "author_id": 9, "comments": "open",'
     ' "status": "published", "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z"}],'
     ' "comments": []}', "author 9"),
])
async def test_malformed_json_changes_nothing(client: httpx.AsyncClient, tmp_path: Path, content: str,
                                              message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(BadRequest) as info:
        await run_import("json", path)
    assert message in info.value.detail, info.value.detail
    assert await sql.fetchval("SELECT count(*) FROM topic") == 0


async def test_topic_export_holds_only_that_topic(client: httpx.AsyncClient) -> None:
    site = await build_site()
    doc = json.loads(await export_text("a-discussion"))
    assert doc["topic"] == "a-discussion" and [t["slug"] for t in doc["topics"]] == ["a-discussion"]
    assert {c["topic_id"] for c in doc["comments"]} == {site["topic_id"]}
    assert {u["id"] for u in doc["users"]} == {site["coach"].id, site["reader"].id, site["gone"].id}
    with pytest.raises(NotFound):
        await export_text("no-such-topic")


async def test_admin_export_route_is_admin_only_and_streams_the_same_format(client: httpx.AsyncClient) -> None:
    await build_site()
    admin, moderator = await make_user("admin"), await make_user("moderator")
    assert (await client.get("/api/admin/export")).status_code == 401
    r = await client.get("/api/admin/export", headers=auth(moderator))
    assert r.status_code == 403 and r.json()["status_code"] == 403
    r = await client.get("/api/admin/export", headers=auth(admin))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert normalized(doc) == normalized(json.loads(await export_text()))
    assert "secret@example.org" not in r.text
    r = await client.get("/api/admin/export", params={"topic": "nope"}, headers=auth(admin))
    assert r.status_code == 404
    r = await client.get("/api/admin/export", params={"topic": "a-discussion"}, headers=auth(admin))
    assert [t["slug"] for t in r.json()["topics"]] == ["a-discussion"]


async def test_export_of_thousands_of_comments_is_whole(client: httpx.AsyncClient) -> None:
    """Every one of 4,000 comments, in one answer (its speed is scenario 12 of bench/)."""
    admin = await make_user("admin")
    topic_id = await sql.fetchval(
        "INSERT INTO topic (slug, kind, title, url, status, created_at, updated_at)"
        " VALUES ('big', 'article', 'Big', NULL, 'published', now(), now()) RETURNING id")
    ids = [r["id"] for r in await sql.fetch("SELECT nextval('comment_id_seq') AS id FROM generate_series(1, 4000)")]
    rows = []
    for n, cid in enumerate(sorted(ids)):
        rows.append((cid, topic_id, child_path(None, cid), f"comment number {n} " + "text " * 40))
    async with sql.transaction() as conn:
        await conn.executemany(
            "INSERT INTO comment (id, topic, root_id, path, depth, kind, status, guest_name, body, body_html,"
            " created_at) VALUES ($1, $2, $1, $3, 0, 'comment', 'published', 'G', $4, $4, now())", rows)
    r = await client.get("/api/admin/export", headers=auth(admin))
    assert r.status_code == 200 and len(r.json()["comments"]) == 4000
    assert sorted(c["id"] for c in r.json()["comments"]) == sorted(ids)
