"""Comment reads: the comment JSON as one viewer may see it, thread pages, long subtrees.

Visibility is one SQL predicate (`visible_sql`) used by every read, so a comment is
either visible everywhere to a viewer or nowhere:
- the public sees `published` comments, and `deleted` tombstones that still have a
  published or tombstoned reply (no text, no author);
- an author also sees their own `pending` comments;
- a private question and its replies only for its asker (`audience`) and coach+;
- moderators see everything;
- and a comment is visible only where its topic is (`IN_VISIBLE_TOPIC`): comments on a
  held, rejected, spam or deleted topic only for those who may see that topic (its author
  while it is pending, moderators). Single-comment reads and every comment route (replies,
  revisions, edits, deletes, votes, flags, accepting, replying) go through
  `visible_row` / `comment_dicts`, which apply both; thread pages check the topic first.

A thread page is one statement whatever the thread's size: the page of roots (partial
index on roots) with up to 101 descendants of each root (LATERAL range scan on
(root_id, path)); and, only when a root has more than 100, one count for those roots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from forum import pagination, sql
from forum.auth import Viewer
from forum.errors import BadRequest, NotFound
from forum.timefmt import rfc3339_or_none

SUBTREE_SHOWN = 100
SORTS = ("oldest", "newest", "top")

# $1 viewer id (NULL when anonymous), $2 coach+, $3 moderator+
VISIBLE = """(
    $3::boolean
    OR ((c.status = 'published'
         OR (c.status = 'pending' AND c.author = $1::bigint)
         OR (c.status = 'deleted' AND EXISTS (
                SELECT 1 FROM comment ch WHERE ch.parent = c.id AND ch.status IN ('published', 'deleted'))))
        AND (NOT c.private OR $2::boolean OR c.audience = $1::bigint OR c.author = $1::bigint))
)"""

# The comment's topic `t` is visible to the viewer ($1 viewer id, $3 moderator+): the same
# rule as `forum.topics.services.visible` for a topic page.
IN_VISIBLE_TOPIC = "($3::boolean OR t.status = 'published' OR (t.status = 'pending' AND t.author = $1::bigint))"


# An edit held by the moderation rules (`pending_body_html`) is what its author reads, marked
# `edit_pending`; everyone else reads the published text (moderators see the mark too).
COLUMNS = """c.id, c.topic, c.parent, c.root_id, c.path, c.depth, c.kind, c.status, c.private, c.author,
    u.handle AS author_handle, u.role AS author_role, c.guest_name, c.author_badge,
    CASE WHEN c.pending_body_html IS NOT NULL AND c.author = $1::bigint THEN c.pending_body_html
         ELSE c.body_html END AS body_html,
    (c.pending_body_html IS NOT NULL AND (c.author = $1::bigint OR $3::boolean)) AS edit_pending, c.score,
    c.accepted, c.question_status, c.reply_count, c.created_at, c.edited_at"""

FROM = "comment c LEFT JOIN forum_user u ON u.id = c.author"

# Every column of a comment row except the search columns: `search_tsv` (a tsvector as big
# as the text) is costly to send and decode and no caller reads it.
ROW_COLUMNS = ("id", "topic", "parent", "root_id", "path", "depth", "kind", "private", "audience", "status",
               "author", "guest_name", "author_badge", "body", "body_html", "score", "reply_count", "accepted",
               "question_status", "first_answer_at", "urgent", "first_published_at", "created_at", "edited_at",
               "deleted_at", "pending_body", "pending_body_html", "pending_edited_at")
ROW = ", ".join(ROW_COLUMNS)


def viewer_args(viewer: Viewer | None) -> tuple[int | None, bool, bool]:
    if viewer is None:
        return None, False, False
    return viewer.id, viewer.is_coach, viewer.is_moderator


def iso(value: datetime | None) -> str | None:
    return rfc3339_or_none(value)  # the one wire format (forum/timefmt.py)


def to_json(row: Mapping[str, Any], topic_slug: str) -> dict[str, Any]:
    """The contract's comment JSON (without `replies`). A tombstone shows no text and no author."""
    deleted = row["status"] == "deleted"
    author = None
    if not deleted and row["author"] is not None and row["author_handle"] is not None:
        author = {"id": row["author"], "handle": row["author_handle"], "role": row["author_role"]}
    out = {
        "id": row["id"],
        "topic_slug": topic_slug,
        "parent_id": row["parent"],
        "depth": row["depth"],
        "kind": row["kind"],
        "status": row["status"],
        "private": row["private"],
        "author": author,
        "guest_name": None if deleted else row["guest_name"],
        "author_badge": None if deleted else row["author_badge"],
        "body_html": "" if deleted else row["body_html"],
        "score": row["score"],
        "accepted": row["accepted"],
        "question_status": row["question_status"],
        "reply_count": row["reply_count"],
        "created_at": iso(row["created_at"]),
        "edited_at": iso(row["edited_at"]),
    }
    if not deleted and row.get("edit_pending"):  # only when set: cached pages stay as they were
        out["edit_pending"] = True
    return out


async def comment_dicts(ids: list[int], viewer: Viewer | None) -> dict[int, dict[str, Any]]:
    """The comments of `ids` as `viewer` may see them (no `replies`); missing ids are not visible."""
    if not ids:
        return {}
    rows = await sql.fetch(
        f"SELECT {COLUMNS}, t.slug AS topic_slug FROM {FROM} JOIN topic t ON t.id = c.topic"
        f" WHERE c.id = ANY($4::bigint[]) AND {VISIBLE} AND {IN_VISIBLE_TOPIC}",
        *viewer_args(viewer), list(ids))
    return {r["id"]: to_json(r, r["topic_slug"]) for r in rows}


async def written_comment(comment_id: int, viewer: Viewer | None = None) -> dict[str, Any]:
    """The comment JSON for the response to its own writer (a guest's pending comment too)."""
    viewer_id, coach, moderator = viewer_args(viewer)
    row = await sql.fetchrow(f"SELECT {COLUMNS}, t.slug AS topic_slug FROM {FROM} JOIN topic t ON t.id = c.topic"
                             " WHERE c.id = $4 AND $2::boolean IS NOT NULL", viewer_id, coach, moderator, comment_id)
    if row is None:
        raise NotFound("No such comment.")
    return to_json(row, row["topic_slug"])


async def public_comment(comment_id: int) -> dict[str, Any] | None:
    """The comment as the anonymous public sees it; None when the public may not see it."""
    return (await comment_dicts([comment_id], None)).get(comment_id)


async def visible_row(comment_id: int, viewer: Viewer | None, *, lock: bool = False) -> dict[str, Any]:
    """The raw row of a comment the viewer may see (404 otherwise): the one door of every
    route that acts on one comment. `lock`: FOR UPDATE of the comment's row."""
    row = await sql.fetchrow(
        f"SELECT {', '.join('c.' + col for col in ROW_COLUMNS)}, t.slug AS topic_slug,"
        f" t.author AS topic_author, t.status AS topic_status"
        f" FROM comment c JOIN topic t ON t.id = c.topic"
        f" WHERE c.id = $4 AND {VISIBLE} AND {IN_VISIBLE_TOPIC}{' FOR UPDATE OF c' if lock else ''}",
        *viewer_args(viewer), comment_id)
    if row is None:
        raise NotFound("No such comment.")
    return dict(row)


# ---------------------------------------------------------------- thread pages


def nest(rows: Sequence[Mapping[str, Any]], topic_slug: str, root: dict[str, Any]) -> int:
    """Attach `rows` (descendants of `root` in path order) as nested `replies`.
    A reply whose parent the viewer cannot see is left out with its subtree."""
    by_id: dict[int, dict[str, Any]] = {root["id"]: root}
    for row in rows:
        parent = by_id.get(row["parent"])
        if parent is None:
            continue
        item = to_json(row, topic_slug)
        item["replies"] = []
        parent["replies"].append(item)
        by_id[item["id"]] = item
    return len(by_id) - 1


def _root_order(sort: str, table: str = "c") -> tuple[str, str]:
    """ORDER BY and the keyset condition ($5, $6, $7 = the cursor's values), of the rows
    named `table`."""
    c = table
    if sort == "oldest":
        return f"{c}.created_at, {c}.id", f"({c}.created_at, {c}.id) > ($5::timestamptz, $6::bigint)"
    if sort == "newest":
        return f"{c}.created_at DESC, {c}.id DESC", f"({c}.created_at, {c}.id) < ($5::timestamptz, $6::bigint)"
    return (f"{c}.score DESC, {c}.created_at, {c}.id",
            f"({c}.score < $7::int OR ({c}.score = $7::int"
            f" AND ({c}.created_at, {c}.id) > ($5::timestamptz, $6::bigint)))")


def page_position(sort: str, cursor: str | None) -> dict[str, Any] | None:
    """The cursor's position in a thread sorted by `sort`; a 400 naming a bad sort or cursor."""
    if sort not in SORTS:
        raise BadRequest("sort: must be oldest, newest or top")
    return pagination.decode_cursor(f"thread-{sort}", cursor)


def _roots_query(topic_id: int, viewer: Viewer | None, sort: str, limit: int,
                 position: dict[str, Any] | None) -> tuple[str, str, list[Any]]:
    """WHERE and ORDER BY of a page's roots (`limit` + 1 of them: the last says whether
    there is a next page; its LIMIT is the last parameter), and the arguments."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}: check it with page_position first")
    order, after = _root_order(sort)
    args: list[Any] = [*viewer_args(viewer), topic_id]
    where = f"c.topic = $4 AND c.parent IS NULL AND {VISIBLE}"
    if position is not None:
        try:
            args += [datetime.fromisoformat(position["t"]), int(position["i"])]
            if sort == "top":
                args.append(int(position["s"]))
        except (KeyError, TypeError, ValueError):
            raise BadRequest("cursor: malformed cursor") from None
        where += f" AND {after}"
    args.append(limit + 1)
    return where, f"{order} LIMIT ${len(args)}", args


async def page_fingerprint(topic_id: int, viewer: Viewer | None, *, sort: str, limit: int,
                           position: dict[str, Any] | None) -> str:
    """A hash of every row a thread page is made of: `id:xmin` of the page's roots (chosen as
    `thread_page` chooses them) and of every comment under them, visible or not. A page built
    after the hash was read is still right while the hash (and the display epoch, read by
    the readers: forum/comments/cache.py) is unchanged: any change of a comment row changes
    its xmin, a new or removed row changes the set. Read before a build
    (forum/comments/reads.py): one statement instead of a build."""
    where, order, args = _roots_query(topic_id, viewer, sort, limit, position)
    fingerprint = await sql.fetchval(
        f"""WITH roots AS (SELECT c.id, c.xmin::text AS x FROM comment c WHERE {where} ORDER BY {order})
            SELECT md5(coalesce((SELECT string_agg(r.id || ':' || r.x, ',' ORDER BY r.id) FROM roots r), '')
                       || '|' || coalesce((SELECT string_agg(d.id || ':' || d.xmin::text, ',' ORDER BY d.id)
                                             FROM comment d WHERE d.root_id IN (SELECT id FROM roots)
                                              AND d.parent IS NOT NULL), ''))""",
        *args)
    return str(fingerprint)


async def thread_page(topic_id: int, topic_slug: str, viewer: Viewer | None, *, sort: str, limit: int,
                      position: dict[str, Any] | None) -> dict[str, Any]:
    """One page of the thread; `sort` and `position` as `page_position` checked and decoded them.

    The page's roots and up to SUBTREE_SHOWN + 1 descendants of each (a range of
    (root_id, path) per root) are one statement, each root followed by its descendants in
    path order: a build is one round trip, not two, while the readers of a busy article's
    newest page wait for it (bench/README.md, scenario 9)."""
    where, order, args = _roots_query(topic_id, viewer, sort, limit, position)
    in_page = f"${len(args)}"  # the roots' LIMIT: `limit` + 1, the last only says there is a next page
    rows = await sql.fetch(
        f"""WITH roots AS MATERIALIZED (SELECT {COLUMNS} FROM {FROM} WHERE {where} ORDER BY {order}),
                 page AS (SELECT r.*, row_number() OVER (ORDER BY {_root_order(sort, "r")[0]}) AS n FROM roots r)
            SELECT * FROM page
            UNION ALL
            SELECT d.*, p.n FROM page p CROSS JOIN LATERAL (
                SELECT {COLUMNS} FROM {FROM}
                 WHERE c.root_id = p.id AND c.parent IS NOT NULL AND {VISIBLE}
                 ORDER BY c.path LIMIT {SUBTREE_SHOWN + 1}) d
             WHERE p.n < {in_page}
            ORDER BY n, path""",
        *args)
    roots: list[Any] = []
    grouped: dict[int, list[Any]] = {}  # root id -> its replies, in path order
    for r in rows:
        if r["parent"] is None:
            roots.append(r)
        else:
            grouped.setdefault(r["root_id"], []).append(r)
    roots, more = pagination.page(roots, limit)
    items = []
    for r in roots:
        item = to_json(r, topic_slug)
        item["replies"] = []
        items.append(item)
    overflow = [i for i in items if len(grouped.get(i["id"], ())) > SUBTREE_SHOWN]
    for item in items:
        nest(grouped.get(item["id"], [])[:SUBTREE_SHOWN], topic_slug, item)
    if overflow:
        counts = await sql.fetch(
            f"SELECT c.root_id, count(*)::int AS n FROM comment c"
            f" WHERE c.root_id = ANY($4::bigint[]) AND c.parent IS NOT NULL AND {VISIBLE} GROUP BY c.root_id",
            *viewer_args(viewer), [i["id"] for i in overflow])
        for row in counts:
            for item in overflow:
                if item["id"] == row["root_id"]:
                    item["more_replies"] = row["n"] - SUBTREE_SHOWN
    next_cursor = None
    if more and roots:
        last = roots[-1]
        next_cursor = pagination.encode_cursor(
            f"thread-{sort}", {"t": last["created_at"].isoformat(), "i": last["id"], "s": last["score"]})
    return {"items": items, "next_cursor": next_cursor}


async def replies_page(comment_id: int, viewer: Viewer | None, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """The descendants of a comment the thread view leaves out (for a root: all after its
    first 100; for a reply: all of them), flat, depth first, oldest first."""
    top = await visible_row(comment_id, viewer)
    position = pagination.decode_cursor("replies", cursor)
    if position is not None:
        after = position.get("p")
        if not isinstance(after, str) or position.get("c") != comment_id:
            raise BadRequest("cursor: malformed cursor")
    elif top["parent"] is None:
        # skip what the thread view shows: the first 100 visible descendants
        after = await sql.fetchval(
            f"SELECT c.path FROM comment c WHERE c.root_id = $4 AND c.path > $5 AND {VISIBLE}"
            f" ORDER BY c.path OFFSET {SUBTREE_SHOWN - 1} LIMIT 1",
            *viewer_args(viewer), top["root_id"], top["path"])
        if after is None:
            return {"items": [], "next_cursor": None}
    else:
        after = top["path"]
    rows = await sql.fetch(
        f"SELECT {COLUMNS} FROM {FROM} WHERE c.root_id = $4 AND c.path > $5 AND c.path LIKE $6 AND {VISIBLE}"
        f" ORDER BY c.path LIMIT $7",
        *viewer_args(viewer), top["root_id"], after, _like_prefix(top["path"]), limit + 1)
    rows, more = pagination.page(rows, limit)
    items = []
    for r in rows:
        item = to_json(r, top["topic_slug"])
        item["replies"] = []
        items.append(item)
    next_cursor = pagination.encode_cursor("replies", {"c": comment_id, "p": rows[-1]["path"]}) if more else None
    return {"items": items, "next_cursor": next_cursor}


def _like_prefix(path: str) -> str:
    # paths are base-62 digits and length digits only: no LIKE wildcards to escape
    return path + "%"
