"""Coach Q&A: the coaches' question list, leases on questions, accepting answers, stats.

A question's status lives on its comment (`question_status`): `unanswered` at insert,
`answered` on the first coach reply (forum.qa.hooks), `accepted` once an answer is
accepted here. The descendants of a question are the comments whose materialized path
starts with the question's path (same `root_id`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from forum import sql
from forum.auth import Viewer
from forum.errors import BadRequest, Conflict, Forbidden, NotFound
from forum.events import topic_changed
from forum.notifications.services import notify
from forum.pagination import decode_cursor, encode_cursor, page

STATUSES = ("unanswered", "answered", "accepted")
CLAIM_MINUTES = 5
STATS_DAYS = 30


async def comment_json(ids: list[int], viewer: Viewer | None) -> dict[int, dict[str, Any]]:
    """The comments' JSON as `viewer` sees them (the comments domain builds it)."""
    from forum.comments.services import comment_dicts

    if not ids:
        return {}
    found = await comment_dicts(ids, viewer)
    if isinstance(found, dict):
        return found
    return {c["id"]: c for c in found}


def _user(row: Any, prefix: str) -> dict[str, Any] | None:
    if row[f"{prefix}_id"] is None:
        return None
    return {"id": row[f"{prefix}_id"], "handle": row[f"{prefix}_handle"], "role": row[f"{prefix}_role"]}


# ---------------------------------------------------------------- the coaches' list


async def list_questions(status: str, limit: int, cursor: str | None, viewer: Viewer) -> dict[str, Any]:
    """Published questions in `status`, urgent first, then oldest; private ones included."""
    if status not in STATUSES:
        raise BadRequest(f"status: must be one of {', '.join(STATUSES)}")
    after = decode_cursor(f"coach-questions:{status}", cursor)
    key: tuple[bool, datetime, int] | None = None
    if after is not None:
        try:
            key = (bool(after["n"]), datetime.fromisoformat(after["t"]), int(after["i"]))
        except (KeyError, TypeError, ValueError):
            raise BadRequest("cursor: malformed or expired cursor; start again without one") from None
    rows = await sql.fetch(
        """
        SELECT c.id, c.question_status, c.urgent, c.created_at, t.slug AS topic_slug,
               qc.expires_at AS claim_expires_at,
               u.id AS claimer_id, u.handle AS claimer_handle, u.role AS claimer_role
          FROM comment c
          JOIN topic t ON t.id = c.topic
          LEFT JOIN question_claim qc ON qc.question = c.id AND qc.expires_at > now()
          LEFT JOIN forum_user u ON u.id = qc.coach
         WHERE c.kind = 'question' AND c.question_status = $1 AND c.status = 'published'
           AND t.status = 'published'
           AND ($2::boolean IS NULL OR (NOT c.urgent, c.created_at, c.id) > ($2, $3, $4))
         ORDER BY NOT c.urgent, c.created_at, c.id
         LIMIT $5
        """,
        status, key[0] if key else None, key[1] if key else None, key[2] if key else None, limit + 1,
    )
    items, more = page(rows, limit)
    comments = await comment_json([r["id"] for r in items], viewer)
    out = []
    for r in items:
        comment = comments.get(r["id"])
        if comment is None:  # gone between the two reads
            continue
        out.append({
            "id": r["id"],
            "question_status": r["question_status"],
            "urgent": r["urgent"],
            "topic_slug": r["topic_slug"],
            "comment": comment,
            "claimed_by": _user(r, "claimer"),
            "claim_expires_at": r["claim_expires_at"] if r["claimer_id"] is not None else None,
            "created_at": r["created_at"],
        })
    next_cursor = None
    if more:
        last = items[-1]
        next_cursor = encode_cursor(f"coach-questions:{status}", {
            "n": not last["urgent"], "t": last["created_at"].isoformat(), "i": last["id"]})
    return {"items": out, "next_cursor": next_cursor}


async def claim_question(question_id: int, coach: Viewer) -> dict[str, Any]:
    """A 5-minute lease on a question; 409 while another coach holds a live one."""
    async with sql.transaction():
        exists = await sql.fetchval(
            "SELECT 1 FROM comment WHERE id = $1 AND kind = 'question' AND status = 'published'",
            question_id)
        if exists is None:
            raise NotFound("No such question.")
        row = await sql.fetchrow(
            """
            INSERT INTO question_claim (question, coach, claimed_at, expires_at)
            VALUES ($1, $2, now(), now() + $3 * interval '1 minute')
            ON CONFLICT (question) DO UPDATE
               SET coach = EXCLUDED.coach, claimed_at = EXCLUDED.claimed_at, expires_at = EXCLUDED.expires_at
             WHERE question_claim.expires_at <= now() OR question_claim.coach = EXCLUDED.coach
            RETURNING expires_at
            """,
            question_id, coach.id, CLAIM_MINUTES,
        )
        if row is None:
            raise Conflict("Another coach is answering this question; try again in a few minutes.")
    return {"id": question_id, "claimed_by": coach.public(), "claim_expires_at": row["expires_at"]}


# ---------------------------------------------------------------- accepting an answer


async def accept_answer(answer_id: int, viewer: Viewer) -> dict[str, Any]:
    """Mark `answer_id` as the accepted answer of the question above it (moves the mark)."""
    async with sql.transaction():
        from forum.comments.services import visible_row

        answer = await visible_row(answer_id, viewer)  # the one visibility rule of comment routes
        question = None
        if answer["parent"] is not None:
            # the nearest question above the answer, locked: one acceptance at a time per question
            question = await sql.fetchrow(
                """
                SELECT id, topic, author, path, root_id, question_status
                  FROM comment
                 WHERE root_id = $1 AND kind = 'question' AND id <> $2
                   AND starts_with($3, path)
                 ORDER BY depth DESC LIMIT 1
                 FOR UPDATE
                """,
                answer["root_id"], answer["id"], answer["path"],
            )
        if question is None or answer["status"] != "published":
            raise BadRequest("comment_id: only a published reply to a question can be accepted.")
        if viewer.id != question["author"] and not viewer.is_coach:
            raise Forbidden("Only the person who asked, or a coach, may accept an answer.")
        await sql.execute(
            """
            UPDATE comment SET accepted = false
             WHERE root_id = $1 AND starts_with(path, $2) AND id <> $3 AND accepted
            """,
            question["root_id"], question["path"], answer["id"],
        )
        newly = await sql.fetchval(
            "UPDATE comment SET accepted = true WHERE id = $1 AND NOT accepted RETURNING id", answer["id"])
        await sql.execute(
            "UPDATE comment SET question_status = 'accepted' WHERE id = $1", question["id"])
        if newly is not None:
            await notify(answer["author"], "accepted", comment_id=answer["id"], topic_id=answer["topic"],
                         actor_id=viewer.id)
        await topic_changed(answer["topic"])
    return {"accepted": True, "comment_id": answer["id"], "question_id": question["id"],
            "question_status": "accepted"}


# ---------------------------------------------------------------- stats


async def waiting_questions() -> dict[str, int]:
    """Published questions no coach has answered: how many now, and how many for over 24 hours."""
    row = await sql.fetchrow(
        "SELECT count(*) AS now, count(*) FILTER (WHERE created_at < now() - interval '24 hours') AS over_24h"
        "  FROM comment WHERE kind = 'question' AND status = 'published' AND question_status = 'unanswered'")
    return {"now": int(row["now"]), "over_24h": int(row["over_24h"])} if row else {"now": 0, "over_24h": 0}


async def stats() -> dict[str, Any]:
    """Unanswered count (and how many wait for more than 24 hours); minutes to the first
    coach answer (median, p90) and answers per
    coach over the last 30 days; the same for urgent (crisis) items: open now, and minutes
    from opening to closing (a coach's reply, `resolve`, or a moderator's decision)."""
    waiting = await waiting_questions()
    times = await sql.fetchrow(
        """
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY minutes) AS median,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY minutes) AS p90
          FROM (SELECT GREATEST(extract(epoch FROM first_answer_at - COALESCE(first_published_at, created_at)), 0)
                       / 60.0 AS minutes
                  FROM comment
                 WHERE kind = 'question' AND first_answer_at IS NOT NULL
                   AND first_answer_at > now() - $1 * interval '1 day') AS answered
        """,
        STATS_DAYS,
    )
    per_coach = await sql.fetch(
        """
        SELECT u.id, u.handle, u.role, count(*) AS answers
          FROM comment q
          JOIN comment r ON r.root_id = q.root_id AND starts_with(r.path, q.path) AND r.id <> q.id
          JOIN forum_user u ON u.id = r.author
         WHERE q.kind = 'question' AND r.status = 'published'
           AND r.author_badge IN ('coach', 'moderator', 'admin')
           AND r.author IS DISTINCT FROM q.author
           AND r.created_at > now() - $1 * interval '1 day'
           AND u.handle IS NOT NULL
         GROUP BY u.id, u.handle, u.role
         ORDER BY answers DESC, u.handle
        """,
        STATS_DAYS,
    )

    urgent = await sql.fetchrow(
        """
        SELECT (SELECT count(*) FROM moderation_item WHERE queue = 'urgent' AND status = 'open') AS open,
               count(*) AS closed,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY minutes) AS median,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY minutes) AS p90
          FROM (SELECT GREATEST(extract(epoch FROM decided_at - created_at), 0) / 60.0 AS minutes
                  FROM moderation_item
                 WHERE queue = 'urgent' AND decided_at > now() - $1 * interval '1 day') AS closed
        """,
        STATS_DAYS,
    )

    def minutes(value: Any) -> float | None:
        return round(float(value), 1) if value is not None else None

    return {
        "unanswered": waiting["now"],
        "unanswered_over_24h": waiting["over_24h"],
        "median_first_answer_minutes": minutes(times["median"] if times else None),
        "p90_first_answer_minutes": minutes(times["p90"] if times else None),
        "urgent_open": int(urgent["open"]) if urgent else 0,
        "urgent_closed": int(urgent["closed"]) if urgent else 0,
        "urgent_median_response_minutes": minutes(urgent["median"] if urgent else None),
        "urgent_p90_response_minutes": minutes(urgent["p90"] if urgent else None),
        "answered_by_coach": [
            {"coach": {"id": r["id"], "handle": r["handle"], "role": r["role"]}, "answers": int(r["answers"])}
            for r in per_coach
        ],
    }
