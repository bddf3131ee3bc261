"""A comment's place in its thread, for deep links (`#comment-ID`).

`comment_context` answers what a client needs to open the thread at a comment: its
ancestors (root first), the thread page that carries its root under a sort order (the
cursor of that page, aligned to the same pages a client gets by following
`next_cursor` from the first page), and, when the comment lies beyond the descendants a
thread page carries (`SUBTREE_SHOWN`), the `/replies` cursor of the page that starts
with it. Everything is read with the one visibility predicate: a comment the viewer may
not see, or one under an ancestor the viewer may not see (the thread leaves those out),
is a 404.
"""

from __future__ import annotations

from typing import Any

from forum import pagination, sql
from forum.auth import Viewer
from forum.comments.services import SORTS, SUBTREE_SHOWN, VISIBLE, viewer_args, visible_row
from forum.errors import BadRequest, NotFound

# roots before the given one ($5 created_at, $6 id, $7 score), per sort order
_BEFORE = {
    "oldest": "(c.created_at, c.id) < ($5::timestamptz, $6::bigint)",
    "newest": "(c.created_at, c.id) > ($5::timestamptz, $6::bigint)",
    "top": "(c.score > $7::int OR (c.score = $7::int AND (c.created_at, c.id) < ($5::timestamptz, $6::bigint)))",
}
_ORDER = {"oldest": "c.created_at, c.id", "newest": "c.created_at DESC, c.id DESC",
          "top": "c.score DESC, c.created_at, c.id"}


async def comment_context(comment_id: int, viewer: Viewer | None, *, sort: str, limit: int) -> dict[str, Any]:
    if sort not in SORTS:
        raise BadRequest("sort: must be oldest, newest or top")
    row = await visible_row(comment_id, viewer)
    path_ids = await _ancestor_ids(row)
    ancestors: list[dict[str, Any]] = []
    if path_ids:
        rows = await sql.fetch(
            f"SELECT c.id, c.parent, c.depth FROM comment c WHERE c.id = ANY($4::bigint[]) AND {VISIBLE}",
            *viewer_args(viewer), path_ids)
        by_id = {r["id"]: r for r in rows}
        if len(by_id) != len(path_ids):
            raise NotFound("No such comment.")  # the thread leaves out a reply under a hidden comment
        ancestors = [{"id": i, "parent_id": by_id[i]["parent"], "depth": by_id[i]["depth"]} for i in path_ids]
    root = await sql.fetchrow("SELECT id, created_at, score FROM comment WHERE id = $1", row["root_id"])
    if root is None:
        raise NotFound("No such comment.")
    args = [*viewer_args(viewer), row["topic"], root["created_at"], root["id"]]
    if sort == "top":
        args.append(root["score"])
    rank = await sql.fetchval(
        f"SELECT count(*) FROM comment c WHERE c.topic = $4 AND c.parent IS NULL AND {VISIBLE} AND {_BEFORE[sort]}",
        *args)
    page = int(rank) // limit
    cursor = None
    if page:
        last = await sql.fetchrow(
            f"SELECT c.created_at, c.id, c.score FROM comment c WHERE c.topic = $4 AND c.parent IS NULL AND {VISIBLE}"
            f" ORDER BY {_ORDER[sort]} OFFSET $5 LIMIT 1", *viewer_args(viewer), row["topic"], page * limit - 1)
        if last is None:
            raise RuntimeError("unexpected: no root before the page")
        cursor = pagination.encode_cursor(
            f"thread-{sort}", {"t": last["created_at"].isoformat(), "i": last["id"], "s": last["score"]})
    replies_cursor = None
    if row["parent"] is not None:
        # the comment's index among its root's visible descendants, and the one just before it
        place = await sql.fetchrow(
            f"SELECT count(*) AS n, max(c.path) AS before FROM comment c"
            f" WHERE c.root_id = $4 AND c.parent IS NOT NULL AND c.path < $5 AND {VISIBLE}",
            *viewer_args(viewer), row["root_id"], row["path"])
        if place is not None and place["n"] >= SUBTREE_SHOWN:
            replies_cursor = pagination.encode_cursor("replies", {"c": row["root_id"], "p": place["before"]})
    return {
        "comment_id": row["id"], "topic_slug": row["topic_slug"], "root_id": row["root_id"],
        "ancestors": ancestors, "sort": sort, "limit": limit, "page": page, "cursor": cursor,
        "replies_cursor": replies_cursor,
    }


async def _ancestor_ids(row: dict[str, Any]) -> list[int]:
    """The ids from the root down to the comment's parent."""
    if row["parent"] is None:
        return []
    rows = await sql.fetch(
        "WITH RECURSIVE up(id, parent, n) AS ("
        " SELECT id, parent, 0 FROM comment WHERE id = $1"
        " UNION ALL SELECT c.id, c.parent, up.n + 1 FROM comment c JOIN up ON c.id = up.parent)"
        " SELECT id FROM up WHERE id <> $1 ORDER BY n DESC", row["id"])
    return [r["id"] for r in rows]
