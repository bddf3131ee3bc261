"""What a signed-in viewer sees of their own relation to comments: their helpful vote
(`my_vote`) and, on their own comments, the end of the edit window (`editable_until`).

Added to comment JSON only for a signed-in viewer, after the page is built: anonymous
pages (the shared per-process cache, forum/comments/cache.py) never carry them, and a
signed-in viewer's page is always built for that viewer. A vote or its withdrawal bumps
the topic's version, so the viewer's thread ETag changes with `my_vote`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from forum import sql
from forum.auth import Viewer
from forum.timefmt import rfc3339
from moderation import policy


def edit_deadline(created_at: datetime, edit_window_minutes: int) -> datetime:
    """The moment an author's edit window on a comment closes (moderators have none)."""
    return created_at + timedelta(minutes=edit_window_minutes)


def _walk(items: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    stack = list(items)
    while stack:
        item = stack.pop()
        yield item
        stack.extend(item.get("replies") or ())


async def annotate(items: Iterable[dict[str, Any]], viewer: Viewer | None) -> None:
    """Set `my_vote` (1 or None) on every comment of `items` (nested replies too) and
    `editable_until` on the viewer's own comments still inside the edit window. Nothing
    for an anonymous viewer."""
    if viewer is None:
        return
    comments = list(_walk(items))
    if not comments:
        return
    voted = {r["comment"] for r in await sql.fetch(
        'SELECT comment FROM vote WHERE "user" = $1 AND comment = ANY($2::bigint[])',
        viewer.id, [c["id"] for c in comments])}
    own = [c for c in comments if c["author"] is not None and c["author"]["id"] == viewer.id
           and c["status"] != "deleted"]
    window = (await policy.current_rules()).edit_window_minutes if own and not viewer.is_suspended else None
    now = datetime.now(UTC)
    for c in comments:
        c["my_vote"] = 1 if c["id"] in voted else None
    if window is None:
        return
    for c in own:
        deadline = edit_deadline(datetime.fromisoformat(c["created_at"]), window)
        if deadline > now:
            c["editable_until"] = rfc3339(deadline)
