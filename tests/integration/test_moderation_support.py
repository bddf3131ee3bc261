"""Shared setup for the moderation tests: topics and comments written straight to the
database (so these tests do not depend on the comments API), and small readers."""

from __future__ import annotations

from typing import Any

from forum import sql
from forum.comments.tree import child_path
from moderation import policy
from tests.helpers import Account, unique


async def make_topic(mode: str = "open", author: Account | None = None, status: str = "published") -> dict[str, Any]:
    slug = unique("topic")
    row = await sql.fetchrow(
        "INSERT INTO topic (slug, url, kind, title, body, body_html, author, comments_mode, status, comment_count,"
        " version, created_at, updated_at) VALUES ($1, NULL, 'article', $2, 'b', '<p>b</p>', $3, $4, $5, 0, 1,"
        " now(), now()) RETURNING id, slug",
        slug, f"Title {slug}", author.id if author else None, mode, status)
    return dict(row)


async def make_comment(topic: dict[str, Any], author: Account | None, body: str | None = None, *,
                       status: str = "published", parent: dict[str, Any] | None = None,
                       guest_name: str | None = None, created_ago_days: int = 0) -> dict[str, Any]:
    body = body or f"comment {unique('w')}"
    cid = await sql.fetchval("SELECT nextval(pg_get_serial_sequence('comment', 'id'))")
    path = child_path(parent["path"] if parent else None, cid)
    row = await sql.fetchrow(
        "INSERT INTO comment (id, topic, parent, root_id, path, depth, kind, private, status, author, guest_name,"
        " body, body_html, score, reply_count, accepted, urgent, first_published_at, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, 'comment', false, $7::varchar, $8, $9, $10, $11, 0, 0, false, false,"
        " CASE WHEN $7::varchar = 'published' THEN now() END, now() - make_interval(days => $12))"
        " RETURNING id, path, status, topic",
        cid, topic["id"], parent["id"] if parent else None, parent["id"] if parent else cid, path,
        0 if parent is None else parent.get("depth", 0) + 1,
        status, author.id if author else None, guest_name if author is None else None, body, f"<p>{body}</p>",
        created_ago_days)
    if status == "published":
        await sql.execute("UPDATE topic SET comment_count = comment_count + 1 WHERE id = $1", topic["id"])
    return {**dict(row), "depth": 0 if parent is None else parent.get("depth", 0) + 1, "body": body}


async def held_comment(topic: dict[str, Any], author: Account | None, reasons: list[str] | None = None,
                       body: str | None = None) -> tuple[dict[str, Any], int]:
    """A pending comment with its open `pending` item, as the comments domain would leave it."""
    c = await make_comment(topic, author, body, status="pending",
                           guest_name=None if author else f"Guest {unique('g')[:8]}")
    verdict = policy.Verdict(status="pending", reasons=reasons or (["new_author"] if author else ["guest"]))
    await policy.record(verdict, comment_id=c["id"])
    item_id = await sql.fetchval(
        "SELECT id FROM moderation_item WHERE comment = $1 AND queue = 'pending' AND status = 'open'", c["id"])
    return c, int(item_id)


async def comment_status(comment_id: int) -> str:
    return str(await sql.fetchval("SELECT status FROM comment WHERE id = $1", comment_id))


async def audit_entries(**where: Any) -> list[dict[str, Any]]:
    clauses, args = [], []
    for key, value in where.items():
        args.append(value)
        clauses.append(f"{key} = ${len(args)}")
    rows = await sql.fetch(
        "SELECT * FROM audit_log" + (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY id", *args)
    return [dict(r) for r in rows]


async def set_rules(**changes: Any) -> None:
    for key, value in changes.items():
        assert key.isidentifier()
        await sql.execute(f"UPDATE moderation_rules SET {key} = $1", value)
