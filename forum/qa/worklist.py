"""The coaches' work list: every open urgent (crisis) item first, oldest first, whatever the
post (comment, reply, question, discussion, withdrawn), then the unanswered questions, oldest
first. One keyset-paged statement over both.

Coaches see an urgent post's text here even while it is held or hidden (they are the ones
who answer it); a withdrawn post shows `withdrawn: true` and no text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from forum import sql
from forum.errors import BadRequest
from forum.pagination import decode_cursor, encode_cursor, page

_CURSOR = "coach-worklist"

_WORKLIST_SQL = """
WITH entries AS (
    SELECT 0 AS seg, mi.created_at AS at, mi.id AS key_id, mi.id AS item_id, mi.reasons, mi.withdrawn_at,
           mi.target_type, mi.comment AS comment_id, COALESCE(mi.topic, mi.origin_topic) AS item_topic,
           CASE WHEN mi.claim_expires_at > now() THEN mi.claimed_by END AS claimer,
           CASE WHEN mi.claim_expires_at > now() THEN mi.claim_expires_at END AS claim_until
      FROM moderation_item mi
     WHERE mi.queue = 'urgent' AND mi.status = 'open'
    UNION ALL
    SELECT 1, c.created_at, c.id, NULL, NULL, NULL, 'comment', c.id, NULL, qc.coach, qc.expires_at
      FROM comment c
      JOIN topic t ON t.id = c.topic
      LEFT JOIN question_claim qc ON qc.question = c.id AND qc.expires_at > now()
     WHERE c.kind = 'question' AND c.question_status = 'unanswered' AND c.status = 'published'
       AND t.status = 'published'
       AND NOT EXISTS (SELECT 1 FROM moderation_item u
                        WHERE u.comment = c.id AND u.queue = 'urgent' AND u.status = 'open')
), chosen AS (
    SELECT * FROM entries
     WHERE $1::int IS NULL OR (seg, at, key_id) > ($1::int, $2::timestamptz, $3::bigint)
     ORDER BY seg, at, key_id
     LIMIT $4
)
SELECT p.*, c.kind AS c_kind, c.status AS c_status, c.private AS c_private, c.body_html AS c_body_html,
       c.guest_name AS c_guest_name, c.question_status AS c_question_status, c.created_at AS c_created_at,
       ca.id AS c_author_id, ca.handle AS c_author_handle, ca.role AS c_author_role,
       t.id AS t_id, t.slug AS t_slug, t.title AS t_title, t.kind AS t_kind, t.status AS t_status,
       t.body_html AS t_body_html, t.created_at AS t_created_at,
       ta.id AS t_author_id, ta.handle AS t_author_handle, ta.role AS t_author_role,
       cu.id AS claimer_id, cu.handle AS claimer_handle, cu.role AS claimer_role
  FROM chosen p
  LEFT JOIN comment c ON c.id = p.comment_id
  LEFT JOIN topic t ON t.id = COALESCE(c.topic, p.item_topic)
  LEFT JOIN forum_user ca ON ca.id = c.author
  LEFT JOIN forum_user ta ON ta.id = t.author
  LEFT JOIN forum_user cu ON cu.id = p.claimer
 ORDER BY p.seg, p.at, p.key_id
"""


def _user(row: Any, prefix: str) -> dict[str, Any] | None:
    if row[f"{prefix}_id"] is None or row[f"{prefix}_handle"] is None:
        return None
    return {"id": row[f"{prefix}_id"], "handle": row[f"{prefix}_handle"], "role": row[f"{prefix}_role"]}


def _post(r: Any) -> dict[str, Any] | None:
    """The post as a coach reads it; None when it was withdrawn."""
    if r["withdrawn_at"] is not None:
        return None
    if r["comment_id"] is not None and r["c_kind"] is not None:
        return {"kind": r["c_kind"], "status": r["c_status"], "private": r["c_private"],
                "body_html": r["c_body_html"], "author": _user(r, "c_author"), "guest_name": r["c_guest_name"],
                "question_status": r["c_question_status"], "created_at": r["c_created_at"]}
    if r["t_id"] is not None:
        return {"kind": r["t_kind"], "status": r["t_status"], "private": False, "body_html": r["t_body_html"],
                "author": _user(r, "t_author"), "guest_name": None, "question_status": None,
                "created_at": r["t_created_at"]}
    return None


async def worklist(limit: int, cursor: str | None) -> dict[str, Any]:
    after = decode_cursor(_CURSOR, cursor)
    key: tuple[int, datetime, int] | None = None
    if after is not None:
        try:
            key = (int(after["s"]), datetime.fromisoformat(after["t"]), int(after["i"]))
        except (KeyError, TypeError, ValueError):
            raise BadRequest("cursor: malformed or expired cursor; start again without one") from None
    rows = await sql.fetch(_WORKLIST_SQL, key[0] if key else None, key[1] if key else None,
                           key[2] if key else None, limit + 1)
    rows, more = page(rows, limit)
    items = [{
        "kind": "urgent" if r["seg"] == 0 else "question",
        "item_id": r["item_id"],
        "reasons": list(r["reasons"] or []),
        "withdrawn": r["withdrawn_at"] is not None,
        "withdrawn_at": r["withdrawn_at"],
        "target_type": r["target_type"],
        "comment_id": r["comment_id"],
        "topic": {"id": r["t_id"], "slug": r["t_slug"], "title": r["t_title"]} if r["t_id"] is not None else None,
        "post": _post(r),
        "claimed_by": _user(r, "claimer"),
        "claim_expires_at": r["claim_until"] if r["claimer_id"] is not None else None,
        "created_at": r["at"],
    } for r in rows]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(_CURSOR, {"s": last["seg"], "t": last["at"].isoformat(), "i": last["key_id"]})
    return {"items": items, "next_cursor": next_cursor}
