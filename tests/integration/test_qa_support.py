"""Helpers for the Q&A, notification and live-update tests (no tests here).

`publish_comment` writes a comment the way forum.comments.visibility publishes one: the
row, then (when published) the first-publication hook and the topic event, in one
transaction. Tests of these domains thus do not depend on the comment-posting API.
"""

from __future__ import annotations

from typing import Any

from forum import sql
from forum.comments.tree import child_path
from forum.events import COMMENT, topic_changed
from forum.qa.hooks import on_comment_published
from tests.helpers import Account, unique


async def make_topic(author: Account | None = None) -> dict[str, Any]:
    slug = unique("topic").replace("_", "-")
    row = await sql.fetchrow(
        "INSERT INTO topic (slug, kind, title, body, body_html, author, comments_mode, status, comment_count,"
        " version, created_at, updated_at) VALUES ($1, 'article', 'A title', '', '', $2, 'open', 'published',"
        " 0, 1, now(), now()) RETURNING id, slug",
        slug, author.id if author else None)
    return dict(row)


async def publish_comment(topic: dict[str, Any], author: Account | None, *, parent: dict[str, Any] | None = None,
                          kind: str = "comment", private: bool = False, status: str = "published",
                          body: str = "text") -> dict[str, Any]:
    badge = author.role if author is not None and author.role != "reader" else None
    if parent is not None:
        private = parent["private"]
    async with sql.transaction():
        cid = await sql.fetchval("SELECT nextval(pg_get_serial_sequence('comment', 'id'))")
        path = child_path(parent["path"] if parent else None, cid)
        audience = parent["audience"] if parent else (author.id if private and author else None)
        row = await sql.fetchrow(
            """
            INSERT INTO comment (id, topic, parent, root_id, path, depth, kind, private, audience, status, author,
                                 author_badge, body, body_html, score, reply_count, accepted, question_status,
                                 urgent, first_published_at, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::varchar, $11, $12, $13, $14, 0, 0, false, $15, false,
                    CASE WHEN $10::varchar = 'published' THEN now() END, clock_timestamp())
            RETURNING *
            """,
            cid, topic["id"], parent["id"] if parent else None, parent["root_id"] if parent else cid, path,
            parent["depth"] + 1 if parent else 0, kind, private, audience, status,
            author.id if author else None, badge, body, f"<p>{body}</p>",
            "unanswered" if kind == "question" else None,
        )
        if status == "published":
            await on_comment_published(row)
            if not private:
                await topic_changed(topic["id"], kind=COMMENT, comment_id=cid)
    return dict(row)


async def approve(comment: dict[str, Any]) -> dict[str, Any]:
    """A moderator approves a pending comment: its first publication."""
    async with sql.transaction():
        row = await sql.fetchrow(
            "UPDATE comment SET status = 'published', first_published_at = now() WHERE id = $1 RETURNING *",
            comment["id"])
        assert row is not None
        await on_comment_published(row)
        if not row["private"]:
            await topic_changed(row["topic"], kind=COMMENT, comment_id=row["id"])
    return dict(row)


async def notifications_of(client: Any, account: Account) -> dict[str, Any]:
    r = await client.get("/api/me/notifications", headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()
