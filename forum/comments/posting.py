"""Comment writes: post, edit, delete, helpful votes, revisions. Rules live here; status
changes and counts go through `forum.comments.visibility`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from forum import events, pagination, sql
from forum.auth import Viewer
from forum.comments import tree, visibility
from forum.comments.services import ROW, iso, to_json, visible_row, written_comment
from forum.comments.validation import clean_body, clean_guest_name
from forum.comments.viewer import edit_deadline
from forum.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from forum.markup import render
from moderation import audit, policy

KINDS = ("comment", "question")


@dataclass(frozen=True)
class NewComment:
    body: str
    parent_id: int | None = None
    kind: str = "comment"
    private: bool = False
    guest_name: str | None = None


def topic_visible(topic: Any, viewer: Viewer | None) -> bool:
    if topic["status"] == "published":
        return True
    if viewer is None:
        return False
    if viewer.is_moderator:
        return True
    return topic["status"] == "pending" and topic["author"] == viewer.id


async def create_comment(slug: str, draft: NewComment, viewer: Viewer | None, client_ip: str) -> dict[str, Any]:
    """Post a comment (inside the caller's transaction). Returns the comment JSON, plus
    `support` when the moderation rules answer with a crisis message."""
    body = clean_body(draft.body)
    if draft.kind not in KINDS:
        raise BadRequest("kind: must be comment or question")
    guest_name = None
    if viewer is None:
        if draft.guest_name is None:
            raise Unauthorized("Sign in, or give a guest_name to comment as a guest.")
        guest_name = clean_guest_name(draft.guest_name)
        await policy.refuse_banned_name("guest_name", guest_name)
    if draft.private and draft.kind != "question":
        raise BadRequest("private: only a question can be private")
    if draft.private and viewer is None:
        raise BadRequest("private: sign in to ask a private question")

    # One statement: the topic, the new comment's id, and the moderation policy's facts
    # (rules version, repeat post, author standing) for this draft.
    facts_sql, facts_args = policy.facts_columns(target="comment", author=viewer, guest_name=guest_name, body=body)
    topic = await sql.fetchrow(
        f"SELECT id, slug, status, author, comments_mode, nextval(pg_get_serial_sequence('comment', 'id')) AS next_id,"
        f" {', '.join(facts_sql)} FROM topic WHERE slug = ${len(facts_args) + 1}", *facts_args, slug)
    if topic is None or not topic_visible(topic, viewer):
        raise NotFound("No such topic.")
    if topic["comments_mode"] == "closed":
        raise Forbidden("Comments are closed on this topic.")

    parent: dict[str, Any] | None = None
    if draft.parent_id is not None:
        parent = await _reply_parent(draft.parent_id, topic["id"], viewer)
        if parent["topic"] != topic["id"]:
            raise BadRequest("parent_id: that comment belongs to another topic")
        visibility.check_reply_target(parent)

    private = draft.private or bool(parent and parent["private"])
    if parent is not None and parent["private"]:
        audience = parent["audience"]
    elif private and viewer is not None:
        audience = viewer.id
    else:
        audience = None

    comment_id = topic["next_id"]
    try:
        path = tree.child_path(parent["path"] if parent else None, comment_id)
    except tree.PathTooDeep as exc:
        raise BadRequest(f"parent_id: {exc}") from None
    # the policy renders the Markdown itself, after its rate limits (off the event loop)
    verdict = await policy.evaluate(policy.Draft(
        author=viewer, guest_name=guest_name, body=body, body_html=None, target="comment",
        topic_id=topic["id"], topic_mode=topic["comments_mode"], client_ip=client_ip, kind=draft.kind,
    ), policy.facts_from(topic, viewer))
    row = await sql.fetchrow(
        f"""
        INSERT INTO comment (id, topic, parent, root_id, path, depth, kind, private, audience, status, author,
                             guest_name, author_badge, body, body_html, score, reply_count, accepted,
                             question_status, urgent, created_at, first_published_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 0, 0, false, $16, $17,
                clock_timestamp(), CASE WHEN $18::boolean THEN clock_timestamp() END)
        RETURNING {ROW}
        """,
        comment_id, topic["id"], parent["id"] if parent else None,
        parent["root_id"] if parent else comment_id, path, parent["depth"] + 1 if parent else 0,
        draft.kind, private, audience, verdict.status, viewer.id if viewer else None, guest_name,
        viewer.role if viewer is not None and viewer.role != "reader" else None, body, verdict.body_html,
        "unanswered" if draft.kind == "question" else None, verdict.urgent, verdict.status == "published",
    )
    if row is None:
        raise RuntimeError("unexpected: no row")
    await policy.record(verdict, comment_id=comment_id)
    settled = await visibility.settle(row, was_public=False, first_publication=verdict.status == "published")
    # the comment JSON from the row as stored (no re-read): its author is the viewer
    result = to_json({**settled, "author_handle": viewer.handle if viewer else None,
                      "author_role": viewer.role if viewer else None}, topic["slug"])
    if verdict.support:
        result["support"] = verdict.support
    return result


async def _reply_parent(parent_id: int, topic_id: int, viewer: Viewer | None) -> dict[str, Any]:
    """The comment a reply goes under. A comment awaiting moderation in this topic takes
    replies from staff (a coach answers a held message); others are told it is waiting (409),
    not that it does not exist."""
    try:
        return await visible_row(parent_id, viewer)
    except NotFound:
        pass
    held = await sql.fetchrow(f"SELECT {ROW} FROM comment WHERE id = $1 AND topic = $2 AND status = 'pending'",
                              parent_id, topic_id)
    if held is None or (held["private"] and (
            viewer is None or not (viewer.is_coach or viewer.id in (held["audience"], held["author"])))):
        raise NotFound("parent_id: no such comment in this topic")
    if viewer is not None and viewer.is_coach:
        return dict(held)
    raise Conflict(AWAITING_MODERATION)


AWAITING_MODERATION = ("parent_id: this comment is awaiting moderation; replies open once a moderator"
                       " approves it.")


def _may_moderate(viewer: Viewer) -> bool:
    return viewer.is_moderator


async def edit_comment(comment_id: int, body: str, viewer: Viewer, reason: str | None = None) -> dict[str, Any]:
    """An edit is a new draft: the author's edit goes through the posting policy like a new
    post (banned -> 422; crisis -> the urgent path, `support` in the answer). On a published
    comment, an edit the rules would hold waits as a pending revision (the author reads it,
    marked `edit_pending`; everyone else the published text) until a moderator decides; while
    one waits, later edits replace it. A moderator's edit of someone else's comment is not
    held (it is checked for banned words) and is audited with the optional `reason`."""
    row = await visible_row(comment_id, viewer)
    if row["status"] == "deleted":
        raise Conflict("A deleted comment cannot be edited.")
    own = row["author"] == viewer.id
    if not own and not _may_moderate(viewer):
        raise Forbidden("Only the author or a moderator may edit this comment.")
    text = clean_body(body)
    if not own:
        html = await render(text)
        await policy.evaluate_edit(text, viewer, html)
        await visibility.replace_body(comment_id, text, viewer.id, html=html)
        await audit.staff_action(viewer.id, row["author"], "comment_edit", "comment", comment_id, reason,
                                 {"topic_id": row["topic"], "status": row["status"]})
        return await written_comment(comment_id, viewer)

    facts_sql, facts_args = policy.facts_columns(target="comment", author=viewer, guest_name=None, body=text,
                                                 edit=True)
    topic = await sql.fetchrow(
        f"SELECT comments_mode, (SELECT edit_window_minutes FROM moderation_rules LIMIT 1) AS window_minutes,"
        f" {', '.join(facts_sql)} FROM topic WHERE id = ${len(facts_args) + 1}", *facts_args, row["topic"])
    if topic is None:
        raise NotFound("No such comment.")
    if not _may_moderate(viewer):
        window = topic["window_minutes"]
        if datetime.now(UTC) >= edit_deadline(row["created_at"], window):
            raise Forbidden(f"The edit window ({window} minutes) has closed.")
    # the policy renders the text (off the event loop) once its checks allow it
    verdict = await policy.evaluate(policy.Draft(
        author=viewer, guest_name=None, body=text, body_html=None, target="comment", topic_id=row["topic"],
        topic_mode=topic["comments_mode"], kind=row["kind"], is_edit=True,
    ), policy.facts_from(topic, viewer))
    html = verdict.body_html
    held = verdict.status == "pending" or row["pending_body"] is not None
    if row["status"] == "published" and held:
        await visibility.hold_revision(comment_id, text, html)
        verdict.status = "pending"
        verdict.reasons = ["edit", *verdict.reasons]
    else:  # published and clean, or not yet published (its own item decides it)
        await visibility.replace_body(comment_id, text, viewer.id, html=html, drop_pending=True)
    # the same queue items (and urgent path) as a new post
    await policy.record(verdict, comment_id=comment_id)
    result = await written_comment(comment_id, viewer)
    if verdict.support:
        result["support"] = verdict.support
    return result


async def delete_comment(comment_id: int, viewer: Viewer, reason: str | None = None) -> None:
    """The author (even while suspended: a person can always remove what they wrote) or a
    moderator; a moderator's deletion of another's comment is audited."""
    row = await visible_row(comment_id, viewer)
    if row["status"] == "deleted":
        raise NotFound("No such comment.")
    if row["author"] != viewer.id and not _may_moderate(viewer):
        if viewer.is_suspended:
            raise Forbidden("While your account is suspended you can delete only your own comments.")
        raise Forbidden("Only the author or a moderator may delete this comment.")
    outcome = await visibility.delete(comment_id, actor_id=viewer.id)
    await audit.staff_action(viewer.id, row["author"], "comment_delete", "comment", comment_id, reason,
                             {"topic_id": row["topic"], "status": row["status"], "outcome": outcome})


async def revisions(comment_id: int, viewer: Viewer | None, *, limit: int, cursor: str | None) -> dict[str, Any]:
    if viewer is None:
        raise Unauthorized("Sign in to see the edit history.")
    row = await visible_row(comment_id, viewer)
    if row["author"] != viewer.id and not _may_moderate(viewer):
        raise Forbidden("Only the author or a moderator may see the edit history.")
    position = pagination.decode_cursor("revisions", cursor)
    after = int(position.get("i", 0)) if position else 0
    rows = await sql.fetch(
        "SELECT r.id, r.body, r.body_html, r.created_at, r.editor, u.handle, u.role"
        " FROM comment_revision r LEFT JOIN forum_user u ON u.id = r.editor"
        " WHERE r.comment = $1 AND r.id > $2 ORDER BY r.id LIMIT $3", comment_id, after, limit + 1)
    rows, more = pagination.page(rows, limit)
    items = [{
        "id": r["id"], "comment_id": comment_id, "body": r["body"], "body_html": r["body_html"],
        "editor": {"id": r["editor"], "handle": r["handle"], "role": r["role"]} if r["handle"] else None,
        "created_at": iso(r["created_at"]),
    } for r in rows]
    return {"items": items,
            "next_cursor": pagination.encode_cursor("revisions", {"i": rows[-1]["id"]}) if more else None}


async def vote(comment_id: int, viewer: Viewer, *, add: bool) -> int:
    row = await visible_row(comment_id, viewer)
    if add:
        if row["author"] == viewer.id:
            raise Forbidden("You cannot vote for your own comment.")
        if row["status"] != "published":
            raise Conflict("Only published comments take helpful votes.")
        changed = await sql.fetchval(
            'INSERT INTO vote (comment, "user", created_at) VALUES ($1, $2, now())'
            " ON CONFLICT (comment, \"user\") DO NOTHING RETURNING 1", comment_id, viewer.id)
        delta = 1 if changed else 0
    else:
        status = await sql.execute('DELETE FROM vote WHERE comment = $1 AND "user" = $2', comment_id, viewer.id)
        delta = -sql.rowcount(status)
    if delta:
        score = await sql.fetchval("UPDATE comment SET score = score + $2 WHERE id = $1 RETURNING score",
                                   comment_id, delta)
        await events.topic_changed(row["topic"], kind=events.CHANGE, comment_id=comment_id)
    else:
        score = await sql.fetchval("SELECT score FROM comment WHERE id = $1", comment_id)
    return int(score)
