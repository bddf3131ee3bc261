"""Moderation services: flags, queues, claims, decisions, suspensions, rules, the log.

Every write runs in one transaction with its audit entry (`moderation.audit`; a decision
writes it in the statement that decides the item).
Claims and decisions are settled by PostgreSQL (a conditional UPDATE for claims, a row
lock for decisions), so racing moderators in any number of processes decide once.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import asyncpg

from forum import events, pagination, ratelimit, sql
from forum.auth import RANK, Viewer, with_article
from forum.comments.services import ROW_COLUMNS
from forum.errors import BadRequest, Conflict, DomainError, Forbidden, NotFound
from forum.timefmt import rfc3339_or_none
from moderation import audit, flags, policy
from moderation.items import QUEUES, open_item
from moderation.wordmatch import tokens

LEASE_MINUTES = 5
EXCERPT_CHARS = 280
FLAGS_PER_HOUR = 30


def _user_ref(user_id: int | None, handle: str | None, role: str | None) -> dict[str, Any] | None:
    if user_id is None or role is None:
        return None
    return {"id": user_id, "handle": handle, "role": role}


def _excerpt(text: str | None) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "\u2026"


# ---------------------------------------------------------------- erasure


async def remove_flags_of(user_id: int) -> None:
    """Account erasure: the user's flags (and their notes) go; items stay for moderators."""
    await sql.execute('DELETE FROM flag WHERE "user" = $1', user_id)


# ---------------------------------------------------------------- flags


async def create_flag(viewer: Viewer, comment_id: int, reason: str, note: str | None) -> dict[str, Any]:
    from forum.comments.services import visible_row

    note = (note or "").strip() or None
    async with sql.transaction():
        try:
            comment = await visible_row(comment_id, viewer, lock=True)  # the one visibility rule
        except NotFound:
            raise NotFound("No such comment.") from None
        if comment["status"] not in (("published", "pending") if viewer.is_moderator else ("published",)):
            raise NotFound("No such comment.")
        if comment["author"] == viewer.id:
            raise Forbidden("You cannot flag your own comment.")
        await ratelimit.hit(f"flag:user:{viewer.id}", FLAGS_PER_HOUR, 3600,
                            "You have flagged many comments in the last hour; please wait.")
        flag = await sql.fetchrow(
            'INSERT INTO flag (comment, "user", reason, note, created_at) VALUES ($1, $2, $3, $4, now())'
            ' ON CONFLICT (comment, "user") DO NOTHING RETURNING id, created_at',
            comment_id, viewer.id, reason, note)
        if flag is None:
            raise Conflict("You have flagged this comment already.")
        await open_item("reported", comment_id=comment_id, reasons=["flags"])
        if reason == "self_harm_risk":
            from moderation import crisis

            await crisis.open_urgent(comment_id=comment_id, reason="self_harm_risk", actor_id=viewer.id)
        if comment["status"] == "published":
            await flags.hide_if_trusted_flags(comment_id)
    return {"id": flag["id"], "comment_id": comment_id, "reason": reason, "note": note,
            "created_at": flag["created_at"]}


# ---------------------------------------------------------------- queues


async def queue_counts() -> dict[str, int]:
    rows = await sql.fetch("SELECT queue, count(*) AS n FROM moderation_item WHERE status = 'open' GROUP BY queue")
    counts = {q: 0 for q in QUEUES}
    counts.update({r["queue"]: int(r["n"]) for r in rows})
    return counts


# Two variants rather than `$3 IS NULL OR ...`: each keeps its own plain plan on
# moderation_item_queue_idx. The inner constant LIMIT (past the largest page) only bounds the
# planner's estimate: with `LIMIT $2` alone a generic plan assumes a tenth of the open items,
# never beats a custom plan, and this nine-table statement would be planned on every call.
_PAGE_OF_QUEUE = f"""
    SELECT * FROM (
        SELECT id, queue, reasons, target_type, comment, topic, created_at, claimed_by, claim_expires_at,
               withdrawn_at, origin_topic
          FROM moderation_item
         WHERE status = 'open' AND queue = $1 {{after}}
         ORDER BY created_at, id LIMIT {pagination.MAX_LIMIT + 1}
    ) bounded ORDER BY created_at, id LIMIT $2"""
# A queue page in one statement: each item with its claimer, its comment (the topic's slug and
# title, the author, the parent's text) or its topic, the author's summary and the open flags.
# Summaries are computed once per author (MATERIALIZED), not once per item. Published and
# rejected counts are read from author_comment_count, kept by a trigger on comment (counting
# them on comment_author_idx was 2.2 ms of the page's 2.6 ms on a million comments: bench
# scenario 11); flagged comments through a semi-join on flag (small). One grouped join over
# every comment of a prolific author with a flag probe per row cost a queue page far more.
_QUEUE_PAGE_SQL = """
WITH page AS ({page}
), summary AS MATERIALIZED (
    SELECT u.id, u.handle, u.role, u.status, u.created_at,
           coalesce(n.published, 0) AS published_count, coalesce(n.rejected, 0) AS rejected_count,
           (SELECT count(*) FROM comment c WHERE c.author = u.id
               AND EXISTS (SELECT 1 FROM flag f WHERE f.comment = c.id)) AS flagged_count
      FROM forum_user u
      LEFT JOIN author_comment_count n ON n.author = u.id
     WHERE u.id IN (SELECT c.author FROM page JOIN comment c ON c.id = page.comment
                    UNION SELECT t.author FROM page JOIN topic t ON t.id = page.topic)
)
SELECT p.id, p.queue, p.reasons, p.target_type, p.comment AS comment_id, p.topic AS topic_id, p.created_at,
       p.claimed_by, p.claim_expires_at, p.claim_expires_at > now() AS lease_live,
       p.withdrawn_at, ot.slug AS o_topic_slug, ot.title AS o_topic_title, p.origin_topic,
       cu.handle AS claimer_handle, cu.role AS claimer_role,
       c.id AS c_id, c.topic AS c_topic_id, ct.slug AS c_topic_slug, ct.title AS c_topic_title,
       c.parent AS c_parent_id, c.depth AS c_depth, c.kind AS c_kind, c.status AS c_status,
       c.private AS c_private, c.author AS c_author_id, cau.handle AS c_author_handle,
       cau.role AS c_author_role, c.guest_name AS c_guest_name, c.author_badge AS c_author_badge,
       c.body AS c_body, c.body_html AS c_body_html, c.score AS c_score, c.urgent AS c_urgent,
       c.accepted AS c_accepted, c.question_status AS c_question_status, c.reply_count AS c_reply_count,
       c.created_at AS c_created_at, c.edited_at AS c_edited_at, c.pending_body AS c_pending_body,
       c.pending_body_html AS c_pending_body_html, c.pending_edited_at AS c_pending_edited_at,
       cp.body AS c_parent_body, cp.status AS c_parent_status,
       t.id AS t_id, t.slug AS t_slug, t.kind AS t_kind, t.title AS t_title, t.status AS t_status,
       t.comments_mode AS t_comments_mode, t.body AS t_body, t.body_html AS t_body_html,
       t.created_at AS t_created_at, t.author AS t_author_id, tau.handle AS t_author_handle,
       tau.role AS t_author_role,
       s.id AS s_id, s.handle AS s_handle, s.role AS s_role, s.status AS s_status, s.created_at AS s_created_at,
       s.published_count AS s_published_count, s.rejected_count AS s_rejected_count,
       s.flagged_count AS s_flagged_count,
       ARRAY(SELECT ROW(f.id, f.reason, f.note, f.created_at, f."user", fu.handle, fu.role)
               FROM flag f LEFT JOIN forum_user fu ON fu.id = f."user"
              WHERE f.comment = p.comment AND f.resolved_at IS NULL ORDER BY f.id) AS flags
  FROM page p
  LEFT JOIN forum_user cu ON cu.id = p.claimed_by
  LEFT JOIN (comment c JOIN topic ct ON ct.id = c.topic) ON c.id = p.comment
  LEFT JOIN forum_user cau ON cau.id = c.author
  LEFT JOIN comment cp ON cp.id = c.parent
  LEFT JOIN topic t ON t.id = p.topic
  LEFT JOIN forum_user tau ON tau.id = t.author
  LEFT JOIN topic ot ON ot.id = p.origin_topic
  LEFT JOIN summary s ON s.id = CASE WHEN c.id IS NOT NULL THEN c.author ELSE t.author END
 ORDER BY p.created_at, p.id
"""
_QUEUE_FIRST_SQL = _QUEUE_PAGE_SQL.format(page=_PAGE_OF_QUEUE.format(after=""))
_QUEUE_AFTER_SQL = _QUEUE_PAGE_SQL.format(
    page=_PAGE_OF_QUEUE.format(after="AND (created_at, id) > ($3::timestamptz, $4::bigint)"))
# One open item as its queue page shows it (the console's item page), by its primary key.
_QUEUE_ONE_SQL = _QUEUE_PAGE_SQL.format(page="""
    SELECT id, queue, reasons, target_type, comment, topic, created_at, claimed_by, claim_expires_at,
           withdrawn_at, origin_topic
      FROM moderation_item
     WHERE status = 'open' AND id = $1""")


async def open_queue_item(item_id: int) -> dict[str, Any] | None:
    """One open item with the same context as a queue page (comment, author summary, flags);
    None when it is decided or unknown."""
    row = await sql.fetchrow(_QUEUE_ONE_SQL, item_id)
    return _queue_item(row) if row is not None else None


async def list_queue(queue: str, limit: int, cursor: str | None) -> dict[str, Any]:
    after = pagination.decode_cursor("modq", cursor)
    after_t: datetime | None = None
    after_id = 0
    if after is not None:
        try:
            after_t = datetime.fromisoformat(str(after["t"]))
            after_id = int(after["i"])
            if after.get("q") != queue:
                raise ValueError("other queue")
        except (KeyError, ValueError, TypeError):
            raise BadRequest("cursor: malformed or expired cursor; start again without one") from None
    if after_t is None:
        rows = await sql.fetch(_QUEUE_FIRST_SQL, queue, limit + 1)
    else:
        rows = await sql.fetch(_QUEUE_AFTER_SQL, queue, limit + 1, after_t, after_id)
    rows, more = pagination.page(rows, limit)
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = pagination.encode_cursor("modq", {"q": queue, "t": last["created_at"].isoformat(),
                                                        "i": last["id"]})
    return {"items": [_queue_item(r) for r in rows], "next_cursor": next_cursor}


def _queue_item(r: asyncpg.Record) -> dict[str, Any]:
    """One row of `_QUEUE_PAGE_SQL` as the API shows it."""
    comment = _comment_of(r)
    topic = _topic_of(r)
    topic_ref: dict[str, Any] | None
    if comment is not None:
        author = comment["author"]
        topic_ref = {"id": comment["topic_id"], "slug": comment["topic_slug"], "title": comment["topic_title"]}
    elif r["origin_topic"] is not None:  # a withdrawn comment: where it was
        author = None
        topic_ref = {"id": r["origin_topic"], "slug": r["o_topic_slug"], "title": r["o_topic_title"]}
    else:
        author = topic["author"] if topic else None
        topic_ref = topic
    live = bool(r["lease_live"])
    return {
        "id": r["id"],
        "queue": r["queue"],
        "reasons": list(r["reasons"] or []),
        "target_type": r["target_type"],
        "comment": comment,
        "topic": topic_ref,
        "author_summary": _summary_of(r) if author else None,  # the summary of that author (SQL join)
        "flags": [{"id": f_id, "reason": reason, "note": note, "created_at": created_at,
                   "user": _user_ref(user_id, handle, role) if handle is not None else None}
                  for f_id, reason, note, created_at, user_id, handle, role in r["flags"]],
        "claimed_by": _user_ref(r["claimed_by"], r["claimer_handle"], r["claimer_role"]) if live else None,
        "claim_expires_at": r["claim_expires_at"] if live else None,
        "created_at": r["created_at"],
        "withdrawn": r["withdrawn_at"] is not None,
    }


def _comment_of(r: asyncpg.Record) -> dict[str, Any] | None:
    if r["c_id"] is None:
        return None
    author = (_user_ref(r["c_author_id"], r["c_author_handle"], r["c_author_role"])
              if r["c_author_handle"] is not None else None)
    return {
        "id": r["c_id"], "topic_id": r["c_topic_id"], "topic_slug": r["c_topic_slug"],
        "topic_title": r["c_topic_title"], "parent_id": r["c_parent_id"], "depth": r["c_depth"],
        "kind": r["c_kind"], "status": r["c_status"], "private": r["c_private"], "author": author,
        "guest_name": r["c_guest_name"], "author_badge": r["c_author_badge"], "body": r["c_body"],
        "body_html": r["c_body_html"], "score": r["c_score"], "urgent": r["c_urgent"], "accepted": r["c_accepted"],
        "question_status": r["c_question_status"], "reply_count": r["c_reply_count"],
        "created_at": r["c_created_at"], "edited_at": r["c_edited_at"],
        "parent_excerpt": (_excerpt(r["c_parent_body"]) if r["c_parent_status"] not in (None, "deleted")
                           else None),
        "revision": _revision_of(r),
    }


def _revision_of(r: asyncpg.Record) -> dict[str, Any] | None:
    """A held edit: the new text and a unified diff from the published one (line by line)."""
    if r["c_pending_body"] is None:
        return None
    old, new = r["c_body"] or "", r["c_pending_body"]
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), "published", "edit", lineterm="")
    return {"body": new, "body_html": r["c_pending_body_html"], "edited_at": r["c_pending_edited_at"],
            "diff": "\n".join(diff)}


def _topic_of(r: asyncpg.Record) -> dict[str, Any] | None:
    if r["t_id"] is None:
        return None
    return {
        "id": r["t_id"], "slug": r["t_slug"], "kind": r["t_kind"], "title": r["t_title"], "status": r["t_status"],
        "comments": r["t_comments_mode"], "body": r["t_body"], "body_html": r["t_body_html"],
        "created_at": r["t_created_at"],
        "author": (_user_ref(r["t_author_id"], r["t_author_handle"], r["t_author_role"])
                   if r["t_author_handle"] is not None else None),
    }


def _summary_of(r: asyncpg.Record) -> dict[str, Any] | None:
    if r["s_id"] is None:
        return None
    return {
        "id": r["s_id"], "handle": r["s_handle"], "role": r["s_role"], "status": r["s_status"],
        "created_at": r["s_created_at"], "published_count": int(r["s_published_count"]),
        "rejected_count": int(r["s_rejected_count"]), "flagged_count": int(r["s_flagged_count"]),
    }


# ---------------------------------------------------------------- claims


def _state(row: asyncpg.Record | dict[str, Any], claimer: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    return {"id": row["id"], "queue": row["queue"], "status": row["status"], "target_type": row["target_type"],
            "comment_id": row["comment"], "topic_id": row["topic"], "claimed_by": claimer,
            "claim_expires_at": row["claim_expires_at"] if claimer else None, **extra}


async def _refusal(item_id: int, viewer: Viewer) -> DomainError:
    """Why a claim or decision on `item_id` cannot go ahead."""
    row = await sql.fetchrow(
        "SELECT mi.status, mi.claimed_by, mi.claim_expires_at, u.handle"
        " FROM moderation_item mi LEFT JOIN forum_user u ON u.id = mi.claimed_by WHERE mi.id = $1", item_id)
    if row is None:
        return NotFound("No such moderation item.")
    if row["status"] != "open":
        return Conflict("This item has been decided already.")
    until = row["claim_expires_at"].astimezone(UTC).strftime("%H:%M:%S") if row["claim_expires_at"] else "?"
    return Conflict(f"Another moderator ({row['handle'] or 'someone'}) holds this item until {until} UTC.",
                    claimed_by=row["claimed_by"])


# A claim or a release, with its audit entry, in one statement. Only a change of hands is
# logged: a moderator renewing a live lease of their own writes nothing new. `before` is the
# row as this statement's snapshot saw it; the UPDATE's conditions are what decide the race
# (re-checked against a concurrent winner's row), so a loser writes no entry either.
_ITEM_STATE = "id, queue, status, target_type, comment, topic, claim_expires_at"
_ITEM_DETAILS = "jsonb_build_object('queue', changed.queue, 'comment', changed.comment, 'topic', changed.topic)"
_CLAIM_SQL = f"""
WITH before AS (
    SELECT claimed_by, coalesce(claim_expires_at > now(), false) AS live FROM moderation_item WHERE id = $1
), changed AS (
    UPDATE moderation_item
       SET claimed_by = $2, claim_expires_at = clock_timestamp() + make_interval(mins => $3)
     WHERE id = $1 AND status = 'open'
       AND (claimed_by IS NULL OR claimed_by = $2 OR claim_expires_at IS NULL OR claim_expires_at <= now())
    RETURNING {_ITEM_STATE}
), logged AS (
    {audit.insert_sql(f"$2, 'claim', 'moderation_item', changed.id, NULL, {_ITEM_DETAILS}")}
      FROM changed, before WHERE NOT (before.live AND before.claimed_by IS NOT DISTINCT FROM $2)
)
SELECT * FROM changed
"""
_RELEASE_SQL = f"""
WITH before AS (
    SELECT claimed_by FROM moderation_item WHERE id = $1
), changed AS (
    UPDATE moderation_item SET claimed_by = NULL, claim_expires_at = NULL
     WHERE id = $1 AND status = 'open'
       AND (claimed_by IS NULL OR claimed_by = $2 OR claim_expires_at <= now())
    RETURNING {_ITEM_STATE}
), logged AS (
    {audit.insert_sql(f"$2, 'release', 'moderation_item', changed.id, NULL, {_ITEM_DETAILS}")}
      FROM changed, before WHERE before.claimed_by IS NOT NULL
)
SELECT * FROM changed
"""


async def claim(viewer: Viewer, item_id: int) -> dict[str, Any]:
    """A 5-minute lease; the conditional UPDATE lets exactly one of racing moderators win."""
    row = await sql.fetchrow(_CLAIM_SQL, item_id, viewer.id, LEASE_MINUTES)
    if row is None:
        raise await _refusal(item_id, viewer)
    return _state(row, viewer.public())


async def release(viewer: Viewer, item_id: int) -> dict[str, Any]:
    row = await sql.fetchrow(_RELEASE_SQL, item_id, viewer.id)
    if row is None:
        raise await _refusal(item_id, viewer)
    return _state(row, None)


# ---------------------------------------------------------------- decisions


def _check_decision_input(action: str, reason: str | None, body: str | None) -> None:
    if action in ("reject", "spam") and not reason:
        raise BadRequest(f"reason: a reason is required to {'reject' if action == 'reject' else 'mark as spam'};"
                         " the author is told it.")
    if action == "edit_approve" and not (body or "").strip():
        raise BadRequest("body: edit_approve needs the edited body.")


# The item locked first, then its comment (if any), as two separate statements did.
_ITEM_AND_COMMENT_SQL = f"""
WITH item AS (
    SELECT id, queue, status, target_type, comment, topic, claimed_by, claim_expires_at,
           claim_expires_at > now() AS lease_live
      FROM moderation_item WHERE id = $1 FOR UPDATE
), c AS (
    SELECT {", ".join(ROW_COLUMNS)} FROM comment WHERE id = (SELECT comment FROM item) FOR UPDATE
)
SELECT item.*, {", ".join(f"c.{col} AS c_{col}" for col in ROW_COLUMNS)} FROM item LEFT JOIN c ON true
"""

# A decision's bookkeeping in one statement: the comment's open flags resolved (when $8), the
# target's other open items of the queues $6 closed, the item itself decided and the audit
# entry written. $1 item, $2 action, $3 reason, $4 moderator, $5 the comment or topic, $7 the
# entry's details, to which the closed item ids and the number of resolved flags are added.
_DECIDED_SET = ("status = 'decided', decision = $2, decision_reason = $3, decided_by = $4,"
                " decided_at = clock_timestamp(), claimed_by = NULL, claim_expires_at = NULL")
_SETTLE_SQL = """
WITH resolved AS ({resolve}
), closed AS (
    UPDATE moderation_item SET {decided_set}
     WHERE {target} = $5 AND status = 'open' AND id <> $1 AND queue = ANY($6::varchar[]) RETURNING id
), decided AS (
    UPDATE moderation_item SET {decided_set} WHERE id = $1
    RETURNING id, queue, status, target_type, comment, topic, claim_expires_at, decision, decision_reason, decided_at
), entry AS (
    {audit}
)
SELECT d.*, (SELECT count(*) FROM resolved)::int AS flags_resolved, ARRAY(SELECT id FROM closed ORDER BY id) AS closed
  FROM decided d
"""
_SETTLE_AUDIT = audit.insert_sql(
    "$4, $2, '{target}', $5, $3, $7::jsonb || jsonb_strip_nulls(jsonb_build_object("
    "'closed_item_ids', (SELECT to_jsonb(array_agg(id ORDER BY id)) FROM closed),"
    " 'flags_resolved', (SELECT NULLIF(count(*), 0) FROM resolved)))")
_SETTLE_SQLS = {
    "comment": _SETTLE_SQL.format(
        resolve="UPDATE flag SET resolved_at = clock_timestamp()"
                " WHERE $8::boolean AND comment = $5 AND resolved_at IS NULL RETURNING 1",
        target="comment", decided_set=_DECIDED_SET, audit=_SETTLE_AUDIT.format(target="comment")),
    "topic": _SETTLE_SQL.format(  # topics have no flags
        resolve="SELECT 1 WHERE false", target="topic", decided_set=_DECIDED_SET,
        audit=_SETTLE_AUDIT.format(target="topic")),
}


async def decide(viewer: Viewer, item_id: int, action: str, reason: str | None = None, body: str | None = None,
                 suspend_days: int | None = None) -> dict[str, Any]:
    reason = (reason or "").strip() or None
    _check_decision_input(action, reason, body)
    async with sql.transaction():
        return await _decide(viewer, item_id, action, reason, body, suspend_days)


async def _decide(viewer: Viewer, item_id: int, action: str, reason: str | None, body: str | None,
                  suspend_days: int | None) -> dict[str, Any]:
    # The item and, for a comment's item, the comment: both read and locked (item first) in one statement.
    item = await sql.fetchrow(_ITEM_AND_COMMENT_SQL, item_id)
    if item is None:
        raise NotFound("No such moderation item.")
    if item["status"] != "open":
        raise Conflict("This item has been decided already.")
    if item["claimed_by"] is not None and item["claimed_by"] != viewer.id and item["lease_live"]:
        raise await _refusal(item_id, viewer)
    if item["target_type"] == "comment" and item["comment"] is None:  # withdrawn by its author
        from moderation import crisis

        closed = await crisis.close_item(item_id, viewer.id, crisis.check_decision_on_withdrawn(action), reason)
        return {"id": item_id, "queue": item["queue"], "status": "decided", "target_type": "comment",
                "comment_id": None, "topic_id": None, "claimed_by": None, "claim_expires_at": None,
                "decision": closed["decision"], "decision_reason": reason, "decided_at": closed["decided_at"],
                "target_status": None, "closed_item_ids": []}
    if action == "dismiss" and item["queue"] == "pending":
        raise BadRequest("action: dismiss settles flags and alerts (reported or urgent items); "
                         "approve or reject a held post.")
    if item["target_type"] == "comment":
        outcome = await _decide_comment(viewer, item, action, reason, body)
    else:
        outcome = await _decide_topic(viewer, item, action, reason, body)
    details: dict[str, Any] = {"item_id": item_id, "queue": item["queue"],
                               "status": {"before": outcome["before"], "after": outcome["after"]}}
    if action == "edit_approve":
        details["body_replaced"] = True
    if outcome.get("revision"):
        details["revision"] = outcome["revision"]
    target = item["target_type"]
    args: list[Any] = [item_id, action, reason, viewer.id, item[target], outcome["queues"], json.dumps(details)]
    if target == "comment":
        args.append(outcome["resolve_flags"])
    decided = await sql.fetchrow(_SETTLE_SQLS[target], *args)
    if decided is None:
        raise RuntimeError("unexpected: no decided")
    if suspend_days is not None and outcome["author"] is not None:
        await suspend_user(viewer, outcome["author"], suspend_days,
                           reason or "suspended with a moderation decision", item_id=item_id)
    if outcome.get("apply") is not None:
        # The comment's status change comes last: it updates the topic row (counts, version),
        # which every decision in the same topic also needs; holding that lock only for the
        # last statements lets concurrent decisions overlap.
        await outcome["apply"]()
    return _state(decided, None, decision=decided["decision"], decision_reason=decided["decision_reason"],
                  decided_at=decided["decided_at"], target_status=outcome["after"],
                  closed_item_ids=list(decided["closed"]))


async def _decide_comment(viewer: Viewer, item: asyncpg.Record, action: str, reason: str | None,
                          body: str | None) -> dict[str, Any]:
    """The comment's side of a decision; `_decide` settles the items, flags and audit entry
    (`queues`: the comment's other open items to close; `resolve_flags`: settle its flags)."""
    from forum.comments import visibility
    from forum.notifications.services import notify

    comment_id = item["comment"]
    if item["c_id"] is None:
        raise NotFound("The comment of this item no longer exists.")
    c = {col: item[f"c_{col}"] for col in ROW_COLUMNS}  # locked with the item (_ITEM_AND_COMMENT_SQL)
    before = c["status"]
    after = before
    queues: list[str] = []
    resolve_flags = True
    own_queue = [item["queue"]]
    apply: Callable[[], Awaitable[Any]] | None = None  # the status change, run last by _decide
    # A held edit of a published comment (a pending revision): the decision is on the new
    # text only; the comment, its flags and its other items stay as they are.
    revision = item["queue"] == "pending" and c["pending_body"] is not None and before != "deleted"
    if revision and action == "approve":
        apply = partial(visibility.apply_revision, comment_id, locked=c)
        return {"before": before, "after": after, "author": c["author"], "queues": own_queue,
                "resolve_flags": False, "apply": apply, "revision": "approved"}
    if revision and action == "reject":
        await notify(c["author"], "moderation", comment_id=comment_id, topic_id=c["topic"], actor_id=viewer.id,
                     reason=reason)
        apply = partial(visibility.drop_revision, comment_id, locked=c)
        return {"before": before, "after": after, "author": c["author"], "queues": own_queue,
                "resolve_flags": False, "apply": apply, "revision": "rejected"}
    if action in ("approve", "edit_approve"):
        if action == "edit_approve":
            if body is None:
                raise RuntimeError("unexpected: no body")
            await policy.evaluate_edit(body, viewer)
            await visibility.replace_body(comment_id, body, editor_id=viewer.id, drop_pending=True)
        if before == "pending":
            apply, after = partial(visibility.publish, comment_id, actor_id=viewer.id, locked=c), "published"
        queues = ["pending", "reported", *own_queue]
    elif action in ("reject", "spam"):
        if revision:  # the held edit goes with the comment's text
            await visibility.drop_revision(comment_id, locked=c)
        if before in ("published", "pending"):
            after = "rejected" if action == "reject" else "spam"
            apply = partial(visibility.reject, comment_id, after, locked=c)
        queues = list(QUEUES) if action == "spam" else ["pending", "reported", *own_queue]
        await notify(c["author"], "moderation", comment_id=comment_id, topic_id=c["topic"], actor_id=viewer.id,
                     reason=reason)
        if action == "spam" and c["author"] is not None:
            await _mark_author_for_review(c["author"], comment_id)
    else:  # dismiss: the flags (or the alert) were unfounded
        resolve_flags = item["queue"] == "reported"
        if resolve_flags:
            held_by_rules = await sql.fetchval(
                "SELECT 1 FROM moderation_item WHERE comment = $1 AND queue = 'pending' AND status = 'open'",
                comment_id)
            if before == "pending" and c["first_published_at"] is not None and not held_by_rules:
                apply, after = partial(visibility.publish, comment_id, actor_id=viewer.id, locked=c), "published"
    return {"before": before, "after": after, "author": c["author"], "queues": queues,
            "resolve_flags": resolve_flags, "apply": apply}


async def _mark_author_for_review(author_id: int, except_comment: int) -> None:
    """A spammer's other open items get the reason `author_spam`, so moderators look again."""
    await sql.execute(
        """
        UPDATE moderation_item SET reasons = reasons || ARRAY['author_spam']::varchar[]
         WHERE status = 'open' AND NOT ('author_spam' = ANY(reasons))
           AND (comment IN (SELECT id FROM comment WHERE author = $1 AND id <> $2)
                OR topic IN (SELECT id FROM topic WHERE author = $1))
        """,
        author_id, except_comment)
    # Their other held comments that have no item yet stay held; published ones get a look too.
    rows = await sql.fetch(
        "SELECT id FROM comment WHERE author = $1 AND id <> $2 AND status = 'published'"
        " AND created_at > now() - interval '7 days' ORDER BY id DESC LIMIT 50", author_id, except_comment)
    for r in rows:
        await open_item("reported", comment_id=r["id"], reasons=["author_spam"])


async def _decide_topic(viewer: Viewer, item: asyncpg.Record, action: str, reason: str | None,
                        body: str | None) -> dict[str, Any]:
    """The topic's side of a decision; `_decide` settles the items and the audit entry."""
    from forum.markup import render
    from forum.notifications.services import notify

    topic_id = item["topic"]
    t = await sql.fetchrow("SELECT id, status, author FROM topic WHERE id = $1 FOR UPDATE", topic_id)
    if t is None:
        raise NotFound("The topic of this item no longer exists.")
    before = t["status"]
    queues: list[str] = []
    own_queue = [item["queue"]]
    if action in ("approve", "edit_approve"):
        if action == "edit_approve":
            if body is None:
                raise RuntimeError("unexpected: no body")
            await policy.evaluate_edit(body, viewer)
            await sql.execute("UPDATE topic SET body = $2, body_html = $3, updated_at = now() WHERE id = $1",
                              topic_id, body, await render(body))
        if before == "pending":
            await sql.execute("UPDATE topic SET status = 'published', updated_at = now() WHERE id = $1", topic_id)
        await events.topic_changed(topic_id)
        queues = ["pending", "reported", *own_queue]
    elif action in ("reject", "spam"):
        if before in ("published", "pending"):
            await sql.execute("UPDATE topic SET status = $2, updated_at = now() WHERE id = $1", topic_id,
                              "rejected" if action == "reject" else "spam")
            await events.topic_changed(topic_id)
        queues = list(QUEUES) if action == "spam" else ["pending", "reported", *own_queue]
        await notify(t["author"], "moderation", comment_id=None, topic_id=topic_id, actor_id=viewer.id,
                     reason=reason)
    after = await sql.fetchval("SELECT status FROM topic WHERE id = $1", topic_id)
    return {"before": before, "after": after, "author": t["author"], "queues": queues}


async def bulk_decide(viewer: Viewer, item_ids: list[int], action: str, reason: str | None) -> list[dict[str, Any]]:
    """One result per item; each decision is its own transaction (one failure spoils no other)."""
    reason = (reason or "").strip() or None
    _check_decision_input(action, reason, None)
    results: list[dict[str, Any]] = []
    for item_id in dict.fromkeys(item_ids):
        try:
            state = await decide(viewer, item_id, action, reason)
        except DomainError as exc:
            results.append({"item_id": item_id, "status_code": exc.status_code, "ok": False, "detail": exc.detail})
        else:
            results.append({"item_id": item_id, "status_code": 200, "ok": True, "item": state})
    return results


# ---------------------------------------------------------------- suspensions


async def _target_user(actor: Viewer, user_id: int) -> asyncpg.Record:
    row = await sql.fetchrow(
        "SELECT id, role, status, suspended_until FROM forum_user WHERE id = $1::bigint FOR UPDATE",
        user_id)  # ids are int4: the bigint comparison makes 2**40 a 404, not an overflow
    if row is None or row["status"] == "erased":
        raise NotFound("No such user.")
    if row["id"] == actor.id:
        raise Forbidden("You cannot suspend or lift your own account.")
    if row["role"] == "admin" or (RANK[row["role"]] >= RANK[actor.role] and not actor.is_admin):
        raise Forbidden(f"{with_article(actor.role).capitalize()} cannot suspend {with_article(row['role'])}.")
    return row


def _iso(value: datetime | None) -> str | None:
    return rfc3339_or_none(value)  # the one wire format (forum/timefmt.py)


async def suspend_user(actor: Viewer, user_id: int, days: int | None, reason: str,
                       item_id: int | None = None) -> dict[str, Any]:
    async with sql.transaction():
        target = await _target_user(actor, user_id)
        row = await sql.fetchrow(
            "UPDATE forum_user SET status = 'suspended', suspension_reason = $3,"
            " suspended_until = CASE WHEN $2::int IS NULL THEN NULL ELSE now() + make_interval(days => $2::int) END"
            " WHERE id = $1 RETURNING id, status, suspended_until",
            user_id, days, reason)
        if row is None:
            raise RuntimeError("unexpected: no row")
        details: dict[str, Any] = {
            "days": days, "until": _iso(row["suspended_until"]),
            "before": {"status": target["status"], "until": _iso(target["suspended_until"])},
        }
        if item_id is not None:
            details["item_id"] = item_id
        await audit.write(actor.id, "suspend", "user", user_id, reason, details)
    return {"id": row["id"], "status": row["status"], "suspended_until": row["suspended_until"]}


async def unsuspend_user(actor: Viewer, user_id: int, reason: str | None) -> dict[str, Any]:
    async with sql.transaction():
        target = await _target_user(actor, user_id)
        if target["status"] != "suspended":
            raise Conflict("This account is not suspended.")
        row = await sql.fetchrow(
            "UPDATE forum_user SET status = 'active', suspended_until = NULL, suspension_reason = NULL"
            " WHERE id = $1 RETURNING id, status, suspended_until", user_id)
        if row is None:
            raise RuntimeError("unexpected: no row")
        await audit.write(actor.id, "unsuspend", "user", user_id, reason,
                          {"before": {"status": "suspended", "until": _iso(target["suspended_until"])}})
    return {"id": row["id"], "status": row["status"], "suspended_until": None}


async def expire_suspensions() -> int:
    """Suspensions whose date has passed end (the guards already let them through)."""
    async with sql.transaction():
        rows = await sql.fetch(
            "UPDATE forum_user SET status = 'active', suspended_until = NULL, suspension_reason = NULL"
            " WHERE status = 'suspended' AND suspended_until <= now() RETURNING id")
        for r in rows:
            await audit.write(None, "suspension_expired", "user", r["id"], None, {})
    return len(rows)


# The moderators' view of a person, in two statements that read no comment row of the author
# but the 20 shown (bench scenario 11: one grouped join and a sort of every comment took
# ~70 ms for an account with 6,000 comments). Published and rejected come from
# author_comment_count (kept by a trigger on comment, as in the queue's author summary); the
# pending ones are one index-only range on comment_author_idx (author, status, created_at);
# flagged comments through the (small) flag table. The 20 latest comments: the 20 latest of
# each status, each a backward range of the same index, merged.
_USER_VIEW_SQL = """
SELECT u.id, u.handle, u.role, u.status, u.suspended_until, u.suspension_reason, u.created_at,
       coalesce(n.published, 0) AS published_count, coalesce(n.rejected, 0) AS rejected_count,
       (SELECT count(*) FROM comment c WHERE c.author = u.id AND c.status = 'pending') AS pending_count,
       (SELECT count(*) FROM comment c WHERE c.author = u.id
           AND EXISTS (SELECT 1 FROM flag f WHERE f.comment = c.id)) AS flagged_count,
       (SELECT count(*) FROM flag f JOIN comment fc ON fc.id = f.comment WHERE fc.author = u.id) AS flags_received
  FROM forum_user u
  LEFT JOIN author_comment_count n ON n.author = u.id
 WHERE u.id = $1::bigint
"""
_COMMENT_STATUSES = ("published", "pending", "rejected", "spam", "deleted")  # comment_status_ck
_USER_RECENT_SQL = """
SELECT c.id, t.slug AS topic_slug, c.status, c.body_html, c.created_at
  FROM ({branches}) c
  JOIN topic t ON t.id = c.topic
 ORDER BY c.created_at DESC, c.id DESC LIMIT 20
""".format(branches=" UNION ALL ".join(
    f"(SELECT id, topic, status, body_html, created_at FROM comment WHERE author = $1 AND status = '{st}'"
    " ORDER BY created_at DESC, id DESC LIMIT 20)" for st in _COMMENT_STATUSES))


async def user_view(user_id: int) -> dict[str, Any]:
    row = await sql.fetchrow(_USER_VIEW_SQL, user_id)
    if row is None:
        raise NotFound("No such user.")
    status = row["status"]
    until = row["suspended_until"]
    if status == "suspended" and until is not None and until <= datetime.now(UTC):
        status = "active"  # ended by itself; the periodic sweep will write it down
    recent = await sql.fetch(_USER_RECENT_SQL, user_id)
    return {
        "id": row["id"], "handle": row["handle"], "role": row["role"], "status": status,
        "suspended_until": until if status == "suspended" else None,
        "suspension_reason": row["suspension_reason"] if status == "suspended" else None,
        "created_at": row["created_at"],
        "published_count": int(row["published_count"]), "rejected_count": int(row["rejected_count"]),
        "pending_count": int(row["pending_count"]), "flagged_count": int(row["flagged_count"]),
        "flags_received": int(row["flags_received"]),
        "recent_comments": [dict(r) for r in recent],
    }


# ---------------------------------------------------------------- rules


RULE_LISTS = ("banned_words", "suspect_words", "crisis_words")
RULE_SCALARS = ("max_links_untrusted", "trusted_after_approved", "flag_hide_threshold", "edit_window_minutes",
                "premoderate_all", "crisis_message", "crisis_posts")


async def get_rules() -> dict[str, Any]:
    row = await sql.fetchrow(
        "SELECT r.banned_words, r.suspect_words, r.crisis_words, r.max_links_untrusted, r.trusted_after_approved,"
        " r.flag_hide_threshold, r.edit_window_minutes, r.premoderate_all, r.crisis_message, r.crisis_posts,"
        " r.updated_at,"
        " r.updated_by, u.handle, u.role FROM moderation_rules r LEFT JOIN forum_user u ON u.id = r.updated_by"
        " LIMIT 1")
    if row is None:
        raise RuntimeError("moderation_rules has no row: run the migrations")
    out = {k: row[k] for k in (*RULE_LISTS, *RULE_SCALARS)}
    for k in RULE_LISTS:
        out[k] = list(out[k] or [])
    out["updated_at"] = row["updated_at"]
    out["updated_by"] = _user_ref(row["updated_by"], row["handle"], row["role"]) if row["handle"] else None
    return out


def _clean_words(field: str, words: list[str]) -> list[str]:
    seen: set[tuple[str, ...]] = set()
    out: list[str] = []
    for i, raw in enumerate(words):
        entry = " ".join(raw.split())
        if not entry:
            continue
        key = tuple(tokens(entry))
        if not key:
            raise BadRequest(f"{field}: entry {i + 1} ({entry[:40]!r}) has no letters or digits to match.")
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out


async def put_rules(actor: Viewer, data: dict[str, Any]) -> dict[str, Any]:
    new = dict(data)
    for field in RULE_LISTS:
        new[field] = _clean_words(field, list(new[field]))
    new["crisis_message"] = new["crisis_message"].strip()
    async with sql.transaction():
        await sql.execute("SELECT 1 FROM moderation_rules FOR UPDATE")
        before = await get_rules()
        if new.get("crisis_posts") is None:  # a client that does not know the setting keeps it
            new["crisis_posts"] = before["crisis_posts"]
        await sql.execute(
            "UPDATE moderation_rules SET banned_words = $1, suspect_words = $2, crisis_words = $3,"
            " max_links_untrusted = $4, trusted_after_approved = $5, flag_hide_threshold = $6,"
            " edit_window_minutes = $7, premoderate_all = $8, crisis_message = $9, crisis_posts = $11,"
            " updated_at = clock_timestamp(), updated_by = $10",
            new["banned_words"], new["suspect_words"], new["crisis_words"], new["max_links_untrusted"],
            new["trusted_after_approved"], new["flag_hide_threshold"], new["edit_window_minutes"],
            new["premoderate_all"], new["crisis_message"], actor.id, new["crisis_posts"])
        changes: dict[str, Any] = {}
        for field in RULE_LISTS:
            old_set, new_set = set(before[field]), set(new[field])
            added, removed = sorted(new_set - old_set), sorted(old_set - new_set)
            if added or removed:
                changes[field] = {"added": added, "removed": removed,
                                  "count": {"before": len(before[field]), "after": len(new[field])}}
        for field in RULE_SCALARS:
            if before[field] != new[field]:
                changes[field] = {"before": before[field], "after": new[field]}
        await audit.write(actor.id, "rules_update", "rules", None, None, {"changes": changes})
        return await get_rules()


# ---------------------------------------------------------------- the log


async def audit_log(limit: int, cursor: str | None, actor_id: int | None, target_id: int | None,
                    action: str | None, target_type: str | None, since: datetime | None = None) -> dict[str, Any]:
    after = pagination.decode_cursor("modlog", cursor)
    before_id = None
    if after is not None:
        try:
            before_id = int(after["i"])
        except (KeyError, ValueError, TypeError):
            raise BadRequest("cursor: malformed or expired cursor; start again without one") from None
    # Only the filters given, each as a parameter: every combination is a statement of its own
    # with its own plan. One statement with `$n IS NULL OR ...` for each has one generic plan
    # for all (forum/db.py): it walks the log by id and filters, so the entries of a rare
    # actor or target would cost a walk through the whole log.
    conditions: list[str] = []
    args: list[Any] = []
    for condition, value in (("a.id < ${}", before_id), ("a.actor_id = ${}", actor_id),
                             ("a.target_id = ${}", target_id), ("a.action = ${}", action),
                             ("a.target_type = ${}", target_type), ("a.created_at >= ${}", since)):
        if value is not None:
            args.append(value)
            conditions.append(condition.format(len(args)))
    args.append(limit + 1)
    rows = await sql.fetch(
        f"""
        SELECT a.id, a.actor_id, u.handle, u.role, a.action, a.target_type, a.target_id, a.reason, a.details,
               a.created_at
          FROM audit_log a LEFT JOIN forum_user u ON u.id = a.actor_id
         WHERE {" AND ".join(conditions) or "true"}
         ORDER BY a.id DESC
         LIMIT ${len(args)}
        """,
        *args)
    rows, more = pagination.page(rows, limit)
    items = [{
        "id": r["id"], "actor": _user_ref(r["actor_id"], r["handle"], r["role"]), "actor_id": r["actor_id"],
        "action": r["action"], "target_type": r["target_type"], "target_id": r["target_id"], "reason": r["reason"],
        "details": json.loads(r["details"]) if isinstance(r["details"], str) else (r["details"] or {}),
        "created_at": r["created_at"],
    } for r in rows]
    next_cursor = pagination.encode_cursor("modlog", {"i": rows[-1]["id"]}) if more and rows else None
    return {"items": items, "next_cursor": next_cursor}
