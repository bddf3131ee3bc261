"""Writes what an importer read: topics, threaded comments, mappings, counts.

Runs inside the caller's transaction. Every external object is recorded in
`import_source`, so a second run of the same file finds everything mapped and creates
nothing. Comment ids come from the comment sequence in creation order (parents first),
which keeps the materialized paths' sibling order oldest first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from forum import events, sql
from forum.comments.tree import PathTooDeep, child_path
from forum.db import engine
from forum.topics.services import RESERVED_SLUGS
from forum.transfer.model import Report, Source, SourceComment
from moderation import policy
from moderation.policy import Verdict

Progress = Callable[[int], None]


async def mapped(system: str, kind: str, external_ids: list[str]) -> dict[str, int]:
    if not external_ids:
        return {}
    rows = await sql.fetch(
        "SELECT external_id, local_id FROM import_source WHERE system = $1 AND kind = $2"
        " AND external_id = ANY($3::text[])", system, kind, external_ids)
    return {r["external_id"]: r["local_id"] for r in rows}


async def record_mappings(system: str, kind: str, pairs: list[tuple[str, int]]) -> None:
    if not pairs:
        return
    await sql.execute(
        "INSERT INTO import_source (system, kind, external_id, local_id)"
        " SELECT $1, $2, e, l FROM unnest($3::text[], $4::bigint[]) AS u(e, l)",
        system, kind, [p[0] for p in pairs], [p[1] for p in pairs])


async def unique_slug(base: str, taken: set[str]) -> str:
    slug = base
    n = 1
    while slug in taken or slug in RESERVED_SLUGS or await sql.fetchval("SELECT 1 FROM topic WHERE slug = $1", slug):
        n += 1
        suffix = f"-{n}"
        slug = base[: 200 - len(suffix)] + suffix
    taken.add(slug)
    return slug


async def new_comment_ids(count: int) -> list[int]:
    if count == 0:
        return []
    rows = await sql.fetch("SELECT nextval('comment_id_seq') AS id FROM generate_series(1, $1)", count)
    return sorted(r["id"] for r in rows)


async def recount(topic_ids: list[int]) -> None:
    """reply_count (public descendants) of every comment and comment_count of these topics."""
    if not topic_ids:
        return
    await sql.execute(
        """
        UPDATE comment c SET reply_count = sub.n
          FROM (SELECT a.id, count(d.id) AS n
                  FROM comment a
                  LEFT JOIN comment d ON d.root_id = a.root_id AND d.id <> a.id
                   AND left(d.path, length(a.path)) = a.path
                   AND d.status = 'published' AND NOT d.private
                 WHERE a.topic = ANY($1::int[])
                 GROUP BY a.id) sub
         WHERE c.id = sub.id AND c.reply_count <> sub.n
        """, topic_ids)
    await sql.execute(
        """
        UPDATE topic t SET comment_count = (
            SELECT count(*) FROM comment c WHERE c.topic = t.id AND c.status = 'published' AND NOT c.private)
         WHERE t.id = ANY($1::int[])
        """, topic_ids)


async def write_source(source: Source, report: Report, progress: Progress) -> None:
    system = source.system
    report.skipped_topics.update(source.skipped_topics)

    # ---- topics
    topic_map = await mapped(system, "topic", [t.external_id for t in source.topics])
    existing_ids = set()
    if topic_map:
        rows = await sql.fetch("SELECT id FROM topic WHERE id = ANY($1::int[])", list(topic_map.values()))
        existing_ids = {r["id"] for r in rows}
    removed_topics: set[str] = set()
    new_pairs: list[tuple[str, int]] = []
    taken: set[str] = set()
    for t in source.topics:
        if t.external_id in topic_map:
            if topic_map[t.external_id] in existing_ids:
                report.topics_already += 1
            else:
                removed_topics.add(t.external_id)
                report.skipped_topics["removed here since an earlier import"] += 1
            continue
        match = await sql.fetchval("SELECT id FROM topic WHERE url = $1", t.url) if t.url else None
        if match is not None:
            topic_id = match
            report.topics_matched += 1
        else:
            slug = await unique_slug(t.slug, taken)
            topic_id = await sql.fetchval(
                "INSERT INTO topic (slug, kind, title, url, body, body_html, author, comments_mode, status,"
                " comment_count, version, created_at, updated_at)"
                " VALUES ($1, 'article', $2, $3, $4, $4, NULL, 'open', 'published', 0, 1, $5, $5) RETURNING id",
                slug, t.title, t.url, t.body_html, t.created_at)
            report.topics_created += 1
        topic_map[t.external_id] = topic_id
        new_pairs.append((t.external_id, topic_id))
    await record_mappings(system, "topic", new_pairs)

    # ---- comments
    by_ext = {c.external_id: c for c in source.comments}
    comment_map = await mapped(system, "comment", list(by_ext))
    todo: list[SourceComment] = []
    for c in source.comments:
        if c.external_id in comment_map:
            report.comments_already += 1
        elif c.skip_reason:
            report.skipped_comments[c.skip_reason] += 1
        elif c.topic_external_id in removed_topics:
            report.skipped_comments["topic removed here since an earlier import"] += 1
        elif c.topic_external_id not in topic_map:
            report.skipped_comments["its post or thread was not imported"] += 1
        else:
            todo.append(c)
    todo_ext = {c.external_id for c in todo}

    def kept_parent(c: SourceComment) -> str | None:
        """The nearest ancestor that exists here (imported now or before), same topic."""
        seen = {c.external_id}
        parent = c.parent_external_id
        while parent is not None and parent not in seen:
            seen.add(parent)
            if parent in todo_ext or parent in comment_map:
                p = by_ext.get(parent)
                if p is None or p.topic_external_id == c.topic_external_id:
                    return parent
                return None
            p = by_ext.get(parent)
            parent = p.parent_external_id if p is not None else None
        return None

    parent_of: dict[str, str | None] = {}
    for c in todo:
        parent = kept_parent(c)
        if c.parent_external_id is not None and parent != c.parent_external_id:
            report.reparented += 1
        parent_of[c.external_id] = parent

    # Ids in creation order, every parent before its children.
    order: list[SourceComment] = []
    placed: set[str] = set()

    def place(c: SourceComment, chain: set[str]) -> None:
        if c.external_id in placed:
            return
        chain.add(c.external_id)
        parent = parent_of[c.external_id]
        if parent in todo_ext and parent not in placed and parent not in chain:
            place(by_ext[parent], chain)
        elif parent in chain:
            parent_of[c.external_id] = None  # a cycle in the file: make it a root
        placed.add(c.external_id)
        order.append(c)

    for c in sorted(todo, key=lambda c: c.created_at):
        place(c, set())
    ids = await new_comment_ids(len(order))

    # Paths of parents imported in an earlier run.
    earlier = [comment_map[p] for p in parent_of.values() if p is not None and p in comment_map]
    known: dict[int, tuple[str, int, int]] = {}  # local id -> (path, root_id, depth)
    if earlier:
        rows = await sql.fetch("SELECT id, path, root_id, depth FROM comment WHERE id = ANY($1::bigint[])", earlier)
        known = {r["id"]: (r["path"], r["root_id"], r["depth"]) for r in rows}

    records: list[tuple[Any, ...]] = []
    pending_ids: list[int] = []
    touched: set[int] = set()
    pairs: list[tuple[str, int]] = []
    for c, local_id in zip(order, ids, strict=True):
        parent = parent_of[c.external_id]
        parent_id = comment_map.get(parent) if parent is not None else None
        place_info = known.get(parent_id) if parent_id is not None else None
        if parent_id is not None and place_info is None:
            parent_id = None  # the earlier import's comment is gone: start a new thread
        path, root_id, depth = _position(local_id, parent_id, place_info)
        if depth == 0:
            parent_id = None
        topic_id = topic_map[c.topic_external_id]
        comment_map[c.external_id] = local_id
        known[local_id] = (path, root_id, depth)
        published = c.status == "published"
        records.append((local_id, topic_id, parent_id, root_id, path, depth, c.status, c.guest_name,
                        c.body_html, c.created_at, c.created_at if published else None))
        if published:
            report.comments_published += 1
        else:
            pending_ids.append(local_id)
            report.comments_pending += 1
        touched.add(topic_id)
        pairs.append((c.external_id, local_id))

    await _insert_comments(records, progress)
    for comment_id in pending_ids:  # held comments wait in the moderators' queue, as a guest's would
        await policy.record(Verdict(status="pending", reasons=["guest"]), comment_id=comment_id)
    await record_mappings(system, "comment", pairs)
    report.comments_created = len(records)
    topics = sorted(touched)
    await recount(topics)
    for topic_id in topics:
        await events.topic_changed(topic_id)


def _position(local_id: int, parent_id: int | None,
              parent: tuple[str, int, int] | None) -> tuple[str, int, int]:
    """(path, root_id, depth) under `parent`; a thread too deep continues as a new root."""
    if parent_id is None or parent is None:
        return child_path(None, local_id), local_id, 0
    parent_path, root_id, depth = parent
    try:
        return child_path(parent_path, local_id), root_id, depth + 1
    except PathTooDeep:
        return child_path(None, local_id), local_id, 0


_INSERT = (
    "INSERT INTO comment (id, topic, parent, root_id, path, depth, kind, private, status, author, guest_name,"
    " author_badge, body, body_html, score, reply_count, accepted, urgent, first_published_at, created_at,"
    " audience, question_status, first_answer_at, edited_at, deleted_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, 'comment', false, $7, NULL, $8, NULL, $9, $9, 0, 0, false, false,"
    " $11, $10, NULL, NULL, NULL, NULL, NULL)"
)


async def _insert_comments(records: list[tuple[Any, ...]], progress: Progress, batch: int = 500) -> None:
    for start in range(0, len(records), batch):
        chunk = records[start:start + batch]
        await _executemany(chunk)
        progress(len(chunk))


async def _executemany(chunk: list[tuple[Any, ...]]) -> None:
    # forum.sql has no executemany; the transaction's own connection is the same one it uses.
    current = engine.current_transaction.get()
    if current is None:
        raise RuntimeError("imports run inside a transaction")
    await current.connection.executemany(_INSERT, chunk)
