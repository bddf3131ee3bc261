"""Writes what an importer read: topics, threaded comments, mappings, counts.

Runs inside the caller's transaction, one batch (`Source`) at a time: `plan(batch)` looks
up what earlier imports already mapped (so that only new bodies are cleaned), `write(plan)`
writes the batch, `finish()` bumps the touched topics. Every external object is recorded
in `import_source`, so a second run of the same file finds everything mapped and writes
nothing. Comment ids come from the comment sequence in creation order (parents first),
which keeps the materialized paths' sibling order oldest first.

A reply and its parent must come in the same batch to be threaded in one run (the
WordPress reader hands over a post with all its comments; Disqus is one batch); a
parent written by an earlier batch or run is found through its mapping.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from forum import events, sql
from forum.comments.tree import PathTooDeep, child_path, ids_of
from forum.db import engine
from forum.topics.services import RESERVED_SLUGS
from forum.transfer.model import Report, Source, SourceComment, SourceTopic
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


@dataclass
class Plan:
    """A batch and what earlier runs mapped for it (looked up before its bodies are cleaned)."""

    batch: Source
    topic_map: dict[str, int]  # external id -> local id, mapped by an earlier run
    existing_topics: set[int]  # those of them still here
    comment_map: dict[str, int]  # the batch's comments and their parents, mapped by an earlier run

    def needs_cleaning(self, writer: Writer) -> tuple[list[SourceTopic], list[SourceComment]]:
        """The topics and comments this batch may create (the only bodies worth cleaning)."""
        topics = [t for t in self.batch.topics if t.raw_html is not None
                  and t.external_id not in self.topic_map and t.external_id not in writer.topic_map]
        comments = [c for c in self.batch.comments if c.raw_html is not None and c.skip_reason is None
                    and c.external_id not in self.comment_map and c.external_id not in writer.written]
        return topics, comments


class Writer:
    """Writes batches in order, inside the caller's transaction; `finish()` at the end."""

    def __init__(self, system: str, report: Report, progress: Progress | None = None):
        self.system = system
        self.report = report
        self.progress = progress
        self.topic_map: dict[str, int] = {}  # topics of this file that have a local id (this run)
        self.removed_topics: set[str] = set()  # imported before, deleted here since
        self.taken: set[str] = set()  # slugs given in this run
        self.written: set[str] = set()  # comments written in this run
        self.published: Counter[int] = Counter()  # topic id -> new public comments (every touched topic)

    async def plan(self, batch: Source) -> Plan:
        topic_map = await mapped(self.system, "topic", [t.external_id for t in batch.topics
                                                        if t.external_id not in self.topic_map])
        existing: set[int] = set()
        if topic_map:
            rows = await sql.fetch("SELECT id FROM topic WHERE id = ANY($1::int[])", list(topic_map.values()))
            existing = {r["id"] for r in rows}
        wanted = {c.external_id for c in batch.comments}
        wanted.update(c.parent_external_id for c in batch.comments if c.parent_external_id is not None)
        comment_map = await mapped(self.system, "comment", sorted(wanted - self.written))
        return Plan(batch, topic_map, existing, comment_map)

    async def write(self, plan: Plan) -> None:
        batch = plan.batch
        self.report.skipped_topics.update(batch.skipped_topics)
        await self._topics(plan)
        await self._comments(plan)

    async def finish(self) -> None:
        """Each touched topic's count and version move once, when the transaction commits."""
        for topic_id, count in sorted(self.published.items()):
            await events.topic_changed(topic_id, count_delta=count)

    # ---------------------------------------------------------------- topics

    async def _topics(self, plan: Plan) -> None:
        report = self.report
        new: list[SourceTopic] = []
        for t in plan.batch.topics:
            if t.external_id in self.topic_map or t.external_id in self.removed_topics:
                report.topics_already += 1  # the file lists this post twice
            elif t.external_id in plan.topic_map:
                if plan.topic_map[t.external_id] in plan.existing_topics:
                    report.topics_already += 1
                    self.topic_map[t.external_id] = plan.topic_map[t.external_id]
                else:
                    self.removed_topics.add(t.external_id)
                    report.skipped_topics["removed here since an earlier import"] += 1
            else:
                if t.raw_html is not None:
                    raise RuntimeError(f"topic {t.external_id}: its body was not cleaned")
                new.append(t)
        if not new:
            return
        urls = sorted({t.url for t in new if t.url})
        by_url: dict[str, int] = {}
        if urls:
            rows = await sql.fetch("SELECT id, url FROM topic WHERE url = ANY($1::text[])", urls)
            by_url = {r["url"]: r["id"] for r in rows}
        rows = await sql.fetch("SELECT slug FROM topic WHERE slug = ANY($1::text[])", sorted({t.slug for t in new}))
        used = {r["slug"] for r in rows}
        # One id per new topic (those that match an address below leave a gap: harmless).
        ids = iter(await _next_ids("topic_id_seq", len(new)))
        records: list[tuple[Any, ...]] = []
        pairs: list[tuple[str, int]] = []
        for t in new:
            if t.url and t.url in by_url:  # an existing topic, or a post earlier in this batch
                topic_id = by_url[t.url]
                report.topics_matched += 1
            else:
                if t.slug in used or t.slug in self.taken or t.slug in RESERVED_SLUGS:
                    slug = await unique_slug(t.slug, self.taken)
                else:
                    slug = t.slug
                    self.taken.add(slug)
                topic_id = next(ids)
                records.append((topic_id, slug, t.title, t.url, t.body_html, t.created_at))
                if t.url:
                    by_url[t.url] = topic_id
                report.topics_created += 1
            self.topic_map[t.external_id] = topic_id
            pairs.append((t.external_id, topic_id))
        if records:
            await _connection().executemany(
                "INSERT INTO topic (id, slug, kind, title, url, body, body_html, author, comments_mode, status,"
                " comment_count, version, created_at, updated_at)"
                " VALUES ($1, $2, 'article', $3, $4, $5, $5, NULL, 'open', 'published', 0, 1, $6, $6)", records)
        await record_mappings(self.system, "topic", pairs)

    # ---------------------------------------------------------------- comments

    async def _comments(self, plan: Plan) -> None:
        report = self.report
        batch = plan.batch
        comment_map = plan.comment_map
        by_ext = {c.external_id: c for c in batch.comments}
        todo: list[SourceComment] = []
        for c in batch.comments:
            if c.external_id in comment_map or c.external_id in self.written:
                report.comments_already += 1
            elif c.skip_reason:
                report.skipped_comments[c.skip_reason] += 1
            elif c.raw_html is not None:
                raise RuntimeError(f"comment {c.external_id}: its body was not cleaned")
            elif not c.body_html:
                report.skipped_comments["empty"] += 1
            elif c.topic_external_id in self.removed_topics:
                report.skipped_comments["topic removed here since an earlier import"] += 1
            elif c.topic_external_id not in self.topic_map:
                report.skipped_comments["its post or thread was not imported"] += 1
            else:
                todo.append(c)
        if not todo:
            return
        todo_ext = {c.external_id for c in todo}
        # Parents outside this batch that the plan did not look up (written by an earlier
        # batch of this run, or never imported): one more lookup, usually of nothing.
        missing = sorted({c.parent_external_id for c in todo if c.parent_external_id is not None
                          and c.parent_external_id not in by_ext and c.parent_external_id not in comment_map})
        if missing:
            comment_map = {**comment_map, **await mapped(self.system, "comment", missing)}

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
        order = _parents_first(todo, parent_of, by_ext, todo_ext)
        ids = await new_comment_ids(len(order))

        # Paths of parents imported before this batch.
        local_of = dict(comment_map)
        earlier = sorted({local_of[p] for p in parent_of.values() if p is not None and p not in todo_ext})
        known: dict[int, tuple[str, int, int]] = {}  # local id -> (path, root_id, depth)
        if earlier:
            rows = await sql.fetch("SELECT id, path, root_id, depth FROM comment WHERE id = ANY($1::bigint[])",
                                   earlier)
            known = {r["id"]: (r["path"], r["root_id"], r["depth"]) for r in rows}

        placed: list[tuple[SourceComment, int, int | None, str, int, int, int]] = []
        replies: Counter[int] = Counter()  # local id -> new public descendants
        for c, local_id in zip(order, ids, strict=True):
            parent = parent_of[c.external_id]
            parent_id = local_of.get(parent) if parent is not None else None
            place_info = known.get(parent_id) if parent_id is not None else None
            if parent_id is not None and place_info is None:
                parent_id = None  # the earlier import's comment is gone: start a new thread
            path, root_id, depth = _position(local_id, parent_id, place_info)
            if depth == 0:
                parent_id = None
            topic_id = self.topic_map[c.topic_external_id]
            local_of[c.external_id] = local_id
            known[local_id] = (path, root_id, depth)
            if c.status == "published":
                replies.update(ids_of(path)[:-1])
            placed.append((c, local_id, parent_id, path, root_id, depth, topic_id))

        records: list[tuple[Any, ...]] = []
        pending_ids: list[int] = []
        pairs: list[tuple[str, int]] = []
        for c, local_id, parent_id, path, root_id, depth, topic_id in placed:
            published = c.status == "published"
            records.append((local_id, topic_id, parent_id, root_id, path, depth, "comment", False, c.status, None,
                            c.guest_name, None, c.body_html, c.body_html, 0, replies.pop(local_id, 0), False,
                            False, c.created_at if published else None, c.created_at))
            if published:
                report.comments_published += 1
                self.published[topic_id] += 1
            else:
                pending_ids.append(local_id)
                report.comments_pending += 1
                self.published[topic_id] += 0  # touched: its version moves too
            pairs.append((c.external_id, local_id))

        conn = _connection()
        await conn.copy_records_to_table("comment", records=records, columns=_COLUMNS)
        if replies:  # ancestors written before this batch gain the new replies
            await sql.execute(
                "UPDATE comment c SET reply_count = c.reply_count + u.n"
                " FROM unnest($1::bigint[], $2::int[]) AS u(id, n) WHERE c.id = u.id",
                list(replies), list(replies.values()))
        for comment_id in pending_ids:  # held comments wait in the moderators' queue, as a guest's would
            await policy.record(Verdict(status="pending", reasons=["guest"]), comment_id=comment_id)
        await record_mappings(self.system, "comment", pairs)
        self.written.update(todo_ext)
        report.comments_created += len(records)
        if self.progress is not None:
            self.progress(len(records))


_COLUMNS = ["id", "topic", "parent", "root_id", "path", "depth", "kind", "private", "status", "author", "guest_name",
            "author_badge", "body", "body_html", "score", "reply_count", "accepted", "urgent", "first_published_at",
            "created_at"]


def _connection() -> Any:
    # forum.sql has no executemany or COPY; the transaction's own connection is the one it uses.
    current = engine.current_transaction.get()
    if current is None:
        raise RuntimeError("imports run inside a transaction")
    return current.connection


async def _next_ids(sequence: str, count: int) -> list[int]:
    if count == 0:
        return []
    rows = await sql.fetch(f"SELECT nextval('{sequence}') AS id FROM generate_series(1, $1)", count)
    return sorted(r["id"] for r in rows)


def _parents_first(todo: list[SourceComment], parent_of: dict[str, str | None],
                   by_ext: dict[str, SourceComment], todo_ext: set[str]) -> list[SourceComment]:
    """Creation order with every parent before its children (a reply may come before its
    parent in the file); a cycle of parents in the file is broken by making one a root."""
    order: list[SourceComment] = []
    placed: set[str] = set()
    for c in sorted(todo, key=lambda c: c.created_at):
        chain: list[SourceComment] = []
        in_chain: set[str] = set()
        node = c
        while node.external_id not in placed:
            chain.append(node)
            in_chain.add(node.external_id)
            parent = parent_of[node.external_id]
            if parent in in_chain:
                parent_of[node.external_id] = None  # a cycle in the file: make it a root
                break
            if parent is None or parent not in todo_ext or parent in placed:
                break
            node = by_ext[parent]
        for node in reversed(chain):
            if node.external_id not in placed:
                placed.add(node.external_id)
                order.append(node)
    return order


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
