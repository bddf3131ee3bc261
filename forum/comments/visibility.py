"""Every change of a comment's status or text goes through here.

The functions run inside the caller's transaction (`async with sql.transaction():`). They
keep the denormalized counts exact: `comment.reply_count` on every ancestor and
`topic.comment_count` count what the public sees (`status = 'published' AND NOT private`).
Each change bumps the topic version through `forum.events.topic_changed` (kind COMMENT
when a comment becomes visible to the public, else CHANGE), and the first publication of
a comment calls `forum.qa.hooks.on_comment_published(row)` exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forum import events, sql
from forum.comments import idempotency, tree
from forum.comments.services import ROW
from forum.comments.validation import clean_body
from forum.errors import BadRequest, Conflict, NotFound
from forum.markup import render

FINAL_STATUSES = ("rejected", "spam")


def is_public(row: Mapping[str, Any]) -> bool:
    return row["status"] == "published" and not row["private"]


async def _lock(comment_id: int) -> dict[str, Any]:
    row = await sql.fetchrow(f"SELECT {ROW} FROM comment WHERE id = $1 FOR UPDATE", comment_id)
    if row is None:
        raise NotFound("No such comment.")
    return dict(row)


async def _adjust_reply_counts(row: Mapping[str, Any], delta: int) -> None:
    """The ancestors' reply counts. Their rows are locked in id order, the same order in every
    writer: `UPDATE ... WHERE id = ANY(...)` locks in scan order (which changes as row
    versions move), and two replies in one subtree could deadlock."""
    ancestors = tree.ids_of(row["path"])[:-1]
    if ancestors:
        await sql.execute(
            "UPDATE comment SET reply_count = reply_count + $2 WHERE id IN"
            " (SELECT id FROM comment WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE)",
            ancestors, delta)


async def settle(row: Mapping[str, Any], *, was_public: bool, first_publication: bool | None = None) -> dict[str, Any]:
    """Side effects of `row` (already stored with its new status) having been `was_public`
    before: counts, first publication, the topic event. Also used for a new comment
    (`was_public=False`), so creation and approval behave the same. Returns the row.
    `first_publication`: the caller stored `first_published_at` with the status (True when
    this is the comment's first publication); None: stamp it here when it is missing."""
    current = dict(row)
    now_public = is_public(current)
    # Locks in one order for every writer: the ancestors (id order), then the topic row, last:
    # its count and version are applied at commit (forum.events.topic_changed), so writers in
    # one topic wait on it only while another commits.
    if now_public != was_public:
        await _adjust_reply_counts(current, 1 if now_public else -1)
    if first_publication is None and current["status"] == "published" and current.get("first_published_at") is None:
        stamped = await sql.fetchrow(
            f"UPDATE comment SET first_published_at = clock_timestamp() WHERE id = $1 RETURNING {ROW}", current["id"])
        if stamped is None:
            raise RuntimeError("unexpected: no stamped")
        current = dict(stamped)
        first_publication = True
    if first_publication:
        from forum.qa.hooks import on_comment_published  # the Q&A domain imports comments

        await on_comment_published(current)
    became_public = now_public and not was_public
    delta = 0 if now_public == was_public else 1 if now_public else -1
    # the topic's comment_count and version in one UPDATE of its row
    await events.topic_changed(current["topic"], kind=events.COMMENT if became_public else events.CHANGE,
                               comment_id=current["id"], count_delta=delta)
    return current


async def _set_status(comment_id: int, status: str, allowed_from: tuple[str, ...],
                      locked: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """`locked`: the comment's row (`ROW` columns) when the caller already holds its lock."""
    row = locked if locked is not None else await _lock(comment_id)
    if row["status"] == status:
        return None
    if row["status"] not in allowed_from:
        raise Conflict(f"This comment is {row['status']}; it cannot become {status}.")
    was_public = is_public(row)
    # one UPDATE for the status and a first publication's stamp
    first_publication = status == "published" and row["first_published_at"] is None
    updated = await sql.fetchrow(
        "UPDATE comment SET status = $2,"
        " first_published_at = CASE WHEN $3::boolean THEN clock_timestamp() ELSE first_published_at END"
        f" WHERE id = $1 RETURNING {ROW}", comment_id, status, first_publication)
    if updated is None:
        raise RuntimeError("unexpected: no updated")
    return await settle(updated, was_public=was_public, first_publication=first_publication)


async def publish(comment_id: int, *, actor_id: int | None, locked: Mapping[str, Any] | None = None) -> None:
    """pending (or rejected/spam on appeal) -> published: approval, dismissal of flags."""
    await _set_status(comment_id, "published", ("pending", "rejected", "spam"), locked)


async def hide(comment_id: int) -> None:
    """published -> pending (hidden by flags until a moderator decides)."""
    await _set_status(comment_id, "pending", ("published",))


async def reject(comment_id: int, status: str, locked: Mapping[str, Any] | None = None) -> None:
    """-> 'rejected' or 'spam'."""
    if status not in FINAL_STATUSES:
        raise ValueError(f"reject() takes rejected or spam, not {status!r}")
    await _set_status(comment_id, status, ("pending", "published", "rejected", "spam"), locked)


async def replace_body(comment_id: int, body_markdown: str, editor_id: int | None, *, html: str | None = None,
                       drop_pending: bool = False) -> None:
    """New text (an edit, or a moderator's edit): the old version is kept as a revision.
    `html`: the body already rendered by the caller; `drop_pending`: a held edit (pending
    revision) is superseded by this text (a moderator's edit_approve)."""
    body = clean_body(body_markdown)
    if html is None:
        html = await render(body)  # off the event loop, before the row is locked
    row = await _lock(comment_id)
    if row["status"] == "deleted":
        raise Conflict("A deleted comment cannot be edited.")
    await sql.execute(
        "INSERT INTO comment_revision (comment, body, body_html, editor, created_at)"
        " VALUES ($1, $2, $3, $4, clock_timestamp())",
        comment_id, row["body"], row["body_html"], editor_id,
    )
    await sql.execute(
        "UPDATE comment SET body = $2, body_html = $3, edited_at = clock_timestamp(),"
        " pending_body = CASE WHEN $4 THEN NULL ELSE pending_body END,"
        " pending_body_html = CASE WHEN $4 THEN NULL ELSE pending_body_html END,"
        " pending_edited_at = CASE WHEN $4 THEN NULL ELSE pending_edited_at END WHERE id = $1",
        comment_id, body, html, drop_pending)
    await events.topic_changed(row["topic"], kind=events.CHANGE, comment_id=comment_id)


async def hold_revision(comment_id: int, body: str, html: str) -> None:
    """An edit the moderation rules hold: kept beside the published text (which stays what
    everyone but the author reads) until a moderator decides. A later edit replaces it."""
    row = await _lock(comment_id)
    if row["status"] == "deleted":
        raise Conflict("A deleted comment cannot be edited.")
    await sql.execute("UPDATE comment SET pending_body = $2, pending_body_html = $3,"
                      " pending_edited_at = clock_timestamp() WHERE id = $1", comment_id, body, html)
    # the author's view changed (their ETag must too); the public page is rebuilt alike
    await events.topic_changed(row["topic"], kind=events.CHANGE, comment_id=comment_id)


async def apply_revision(comment_id: int, locked: Mapping[str, Any] | None = None) -> bool:
    """A moderator approved the held edit: it becomes the published text (rendered again,
    under today's markup rules), the old text a revision by its author. False: none held."""
    row = locked if locked is not None else await _lock(comment_id)
    if row["pending_body"] is None:
        return False
    html = await render(row["pending_body"])
    await sql.execute(
        "INSERT INTO comment_revision (comment, body, body_html, editor, created_at)"
        " VALUES ($1, $2, $3, $4, clock_timestamp())", comment_id, row["body"], row["body_html"], row["author"])
    await sql.execute(
        "UPDATE comment SET body = pending_body, body_html = $2, edited_at = pending_edited_at,"
        " pending_body = NULL, pending_body_html = NULL, pending_edited_at = NULL WHERE id = $1",
        comment_id, html)
    # live readers get the comment again (same id, new text) when the public sees it
    await events.topic_changed(row["topic"], kind=events.COMMENT if is_public(row) else events.CHANGE,
                               comment_id=comment_id)
    return True


async def drop_revision(comment_id: int, locked: Mapping[str, Any] | None = None) -> bool:
    """A moderator rejected the held edit: it goes; the published text stays. False: none held."""
    row = locked if locked is not None else await _lock(comment_id)
    if row["pending_body"] is None:
        return False
    await sql.execute("UPDATE comment SET pending_body = NULL, pending_body_html = NULL, pending_edited_at = NULL"
                      " WHERE id = $1", comment_id)
    await events.topic_changed(row["topic"], kind=events.CHANGE, comment_id=comment_id)
    return True


async def delete(comment_id: int, *, erase_author: bool = False, actor_id: int | None = None) -> str:
    """Remove a comment: a `deleted` tombstone (no text, no author shown) when it has
    replies, otherwise the row goes. Returns "tombstone" or "removed". An open urgent item
    on it stays open, marked withdrawn (moderation.crisis)."""
    from moderation import crisis

    row = await _lock(comment_id)
    if row["urgent"]:
        await crisis.withdraw_comment(comment_id, actor_id=actor_id)
    was_public = is_public(row)
    await idempotency.forget_comment(comment_id)  # a replayed POST must not hand the deleted text back
    has_replies = await sql.fetchval("SELECT EXISTS (SELECT 1 FROM comment WHERE parent = $1)", comment_id)
    if was_public:
        await _adjust_reply_counts(row, -1)
    if has_replies:
        await sql.execute(
            "UPDATE comment SET status = 'deleted', body = '', body_html = '', deleted_at = clock_timestamp(),"
            " pending_body = NULL, pending_body_html = NULL, pending_edited_at = NULL,"
            " author = CASE WHEN $2 THEN NULL ELSE author END,"
            " guest_name = CASE WHEN $2 THEN NULL ELSE guest_name END WHERE id = $1",
            comment_id, erase_author,
        )
        # the text is gone: so are its earlier versions
        await sql.execute("DELETE FROM comment_revision WHERE comment = $1", comment_id)
        outcome = "tombstone"
    else:
        await sql.execute("DELETE FROM comment WHERE id = $1", comment_id)
        outcome = "removed"
    await events.topic_changed(row["topic"], kind=events.CHANGE, comment_id=comment_id,
                               count_delta=-1 if was_public else 0)
    return outcome


def check_reply_target(parent: Mapping[str, Any]) -> None:
    """Replying is refused under a tombstone (409)."""
    if parent["status"] == "deleted":
        raise Conflict("parent_id: that comment was deleted; replies to it are closed.")
    if parent["status"] in FINAL_STATUSES:
        raise BadRequest("parent_id: that comment cannot be replied to.")
