"""The export format (docs/export-format.md): writing it, and reading it back.

The export streams from one read-only REPEATABLE READ transaction on its own pooled
connection (a consistent snapshot, rows encoded as they come), so a site of many
thousand comments is written in seconds with little memory. No email address, password
hash, session, IP address or moderation note is ever written.

`import_json` restores a file into a database without topics or comments: ids are
remapped (comment ids keep their relative order, so threads keep their shape), the tree
columns and counts are recomputed, everything else is kept as written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import msgspec

from forum import sql
from forum.accounts.services import user_id_by_handle
from forum.comments.tree import PathTooDeep, child_path
from forum.db import engine, pooled
from forum.errors import BadRequest, NotFound
from forum.topics.urls import InvalidUrl, canonical_url
from forum.transfer.writer import new_comment_ids, recount

FORMAT = "forum-export"
VERSION = 1
Progress = Callable[[int], None]

# ---------------------------------------------------------------- the format


class ExportUser(msgspec.Struct, forbid_unknown_fields=False):
    id: int
    handle: str | None
    role: Literal["reader", "coach", "moderator", "admin"]
    status: Literal["active", "suspended", "erased"]
    created_at: datetime
    suspended_until: datetime | None = None
    erased_at: datetime | None = None


class ExportTopic(msgspec.Struct, forbid_unknown_fields=False):
    id: int
    slug: str
    kind: Literal["article", "discussion"]
    title: str
    url: str | None
    body: str
    body_html: str
    author_id: int | None
    comments: Literal["open", "premoderated", "closed"]
    status: Literal["published", "pending", "rejected", "spam", "deleted"]
    created_at: datetime
    updated_at: datetime


class ExportComment(msgspec.Struct, forbid_unknown_fields=False):
    id: int
    topic_id: int
    parent_id: int | None
    kind: Literal["comment", "question"]
    private: bool
    audience_id: int | None
    status: Literal["published", "pending", "rejected", "spam", "deleted"]
    author_id: int | None
    guest_name: str | None
    author_badge: Literal["coach", "moderator", "admin"] | None
    body: str
    body_html: str
    score: int
    accepted: bool
    question_status: Literal["unanswered", "answered", "accepted"] | None
    urgent: bool
    created_at: datetime
    first_published_at: datetime | None = None
    first_answer_at: datetime | None = None
    edited_at: datetime | None = None
    deleted_at: datetime | None = None


class ExportVote(msgspec.Struct, forbid_unknown_fields=False):
    comment_id: int
    user_id: int
    created_at: datetime


class ExportRevision(msgspec.Struct, forbid_unknown_fields=False):
    comment_id: int
    body: str
    body_html: str
    editor_id: int | None
    created_at: datetime


class ExportFile(msgspec.Struct, forbid_unknown_fields=False):
    format: str
    version: int
    users: list[ExportUser]
    topics: list[ExportTopic]
    comments: list[ExportComment]
    votes: list[ExportVote] = []
    revisions: list[ExportRevision] = []
    exported_at: datetime | None = None
    topic: str | None = None


# ---------------------------------------------------------------- export

# Each section as (name, the whole site's query, one topic's query with the topic id as $1):
# two statements rather than one with `$1 IS NULL OR ...`, so that each has its own plan
# (under generic plans, forum/db.py, one plan for both read the whole site's comments by
# the topic filter's plan: the 1,000,000-comment export took 21 s instead of 13).
_SECTIONS: list[tuple[str, str, str]] = [
    (name, f"SELECT {columns} FROM {source} ORDER BY {order}",
     f"SELECT {columns} FROM {source} WHERE {one_topic} ORDER BY {order}")
    for name, columns, source, one_topic, order in (
        ("users", "u.id, u.handle, u.role, u.status, u.created_at, u.suspended_until, u.erased_at", "forum_user u",
         """u.id IN (SELECT author FROM topic WHERE id = $1
                     UNION SELECT author FROM comment WHERE topic = $1
                     UNION SELECT audience FROM comment WHERE topic = $1
                     UNION SELECT v."user" FROM vote v JOIN comment c ON c.id = v.comment WHERE c.topic = $1
                     UNION SELECT r.editor FROM comment_revision r JOIN comment c ON c.id = r.comment
                            WHERE c.topic = $1)""", "u.id"),
        ("topics", "id, slug, kind, title, url, body, body_html, author AS author_id, comments_mode AS comments,"
                   " status, created_at, updated_at", "topic", "id = $1", "id"),
        ("comments", "id, topic AS topic_id, parent AS parent_id, kind, private, audience AS audience_id, status,"
                     " author AS author_id, guest_name, NULLIF(author_badge, '') AS author_badge, body, body_html,"
                     " score, accepted, NULLIF(question_status, '') AS question_status, urgent, created_at,"
                     " first_published_at, first_answer_at, edited_at, deleted_at", "comment", "topic = $1", "id"),
        ("votes", 'v.comment AS comment_id, v."user" AS user_id, v.created_at',
         "vote v JOIN comment c ON c.id = v.comment", "c.topic = $1", 'v.comment, v."user"'),
        ("revisions", "r.comment AS comment_id, r.body, r.body_html, r.editor AS editor_id, r.created_at",
         "comment_revision r JOIN comment c ON c.id = r.comment", "c.topic = $1", "r.comment, r.id"),
    )
]


def _section_query(site: str, one_topic: str, topic_id: int | None) -> tuple[str, tuple[int, ...]]:
    return (site, ()) if topic_id is None else (one_topic, (topic_id,))


_encoder = msgspec.json.Encoder()


async def topic_id_for(slug: str | None) -> int | None:
    """The id of the topic to export (None: the whole site); NotFound for an unknown slug."""
    if slug is None:
        return None
    topic_id = await sql.fetchval("SELECT id FROM topic WHERE slug = $1", slug)
    if topic_id is None:
        raise NotFound(f"topic: no topic with the slug {slug!r}")
    return int(topic_id)


async def export_chunks(topic_slug: str | None, progress: Progress | None = None,
                        chunk_bytes: int = 64 * 1024, page: int = 2000) -> AsyncIterator[bytes]:
    """The export document as a stream of UTF-8 chunks.

    Rows come through a server-side cursor, `page` at a time, and each page is encoded
    as one list (one msgspec call instead of one per row): memory holds a page and a
    chunk, whatever the size of the site."""
    async with pooled() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        topic_id = None
        if topic_slug is not None:
            topic_id = await conn.fetchval("SELECT id FROM topic WHERE slug = $1", topic_slug)
            if topic_id is None:
                raise NotFound(f"topic: no topic with the slug {topic_slug!r}")
        head = {"format": FORMAT, "version": VERSION,
                "exported_at": datetime.now(UTC), "topic": topic_slug}
        buffer = bytearray(_encoder.encode(head)[:-1])  # the object stays open
        for name, site, one_topic in _SECTIONS:
            buffer += b',"' + name.encode() + b'":['
            first = True
            query, args = _section_query(site, one_topic, topic_id)
            cursor = await conn.cursor(query, *args)
            while rows := await cursor.fetch(page):
                if not first:
                    buffer += b","
                first = False
                buffer += _encoder.encode([dict(r.items()) for r in rows])[1:-1]  # the list's items
                if progress is not None:
                    progress(len(rows))
                if len(buffer) >= chunk_bytes:
                    yield bytes(buffer)
                    buffer.clear()
            buffer += b"]"
        buffer += b"}\n"
        yield bytes(buffer)


async def count_rows(topic_slug: str | None) -> int:
    """How many rows an export writes (for the progress bar)."""
    topic_id = await topic_id_for(topic_slug)
    total = 0
    for _, site, one_topic in _SECTIONS:
        query, args = _section_query(site, one_topic, topic_id)
        total += int(await sql.fetchval(f"SELECT count(*) FROM ({query}) AS s", *args))
    return total


# ---------------------------------------------------------------- import


def read_export(path: Path) -> ExportFile:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadRequest(f"{path}: cannot read the file ({exc.strerror or exc}).") from None
    try:
        data = msgspec.json.decode(raw, type=ExportFile)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"{path.name} is not a forum export: {exc}. Nothing was imported.") from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"{path.name} is not valid JSON: {exc}. Nothing was imported.") from None
    if data.format != FORMAT:
        raise BadRequest(f"{path.name}: format is {data.format!r}, expected {FORMAT!r}. Nothing was imported.")
    if data.version != VERSION:
        raise BadRequest(f"{path.name}: format version {data.version} is not supported (this forum reads"
                         f" version {VERSION}). Nothing was imported.")
    _check_references(path.name, data)
    return data


def _check_references(name: str, data: ExportFile) -> None:
    def fail(what: str) -> None:
        raise BadRequest(f"{name}: {what}. Nothing was imported.")

    users = {u.id for u in data.users}
    topics = {t.id for t in data.topics}
    comments = {c.id: c for c in data.comments}
    if len(users) != len(data.users) or len(topics) != len(data.topics) or len(comments) != len(data.comments):
        fail("an id appears twice in one list")
    handles = [u.handle.lower() for u in data.users if u.handle]
    if len(set(handles)) != len(handles):
        fail("two users have the same handle")
    slugs = [t.slug for t in data.topics]
    if len(set(slugs)) != len(slugs):
        fail("two topics have the same slug")
    for t in data.topics:
        if t.author_id is not None and t.author_id not in users:
            fail(f"topics: topic {t.id} names author {t.author_id}, who is not in users")
    for c in data.comments:
        if c.topic_id not in topics:
            fail(f"comments: comment {c.id} names topic {c.topic_id}, which is not in topics")
        for field, value in (("author_id", c.author_id), ("audience_id", c.audience_id)):
            if value is not None and value not in users:
                fail(f"comments: comment {c.id} names {field} {value}, who is not in users")
        if c.parent_id is not None:
            parent = comments.get(c.parent_id)
            if parent is None:
                fail(f"comments: comment {c.id} names parent {c.parent_id}, which is not in comments")
            elif parent.topic_id != c.topic_id:
                fail(f"comments: comment {c.id} and its parent {c.parent_id} are on different topics")
    # Every chain of parents must end at a root (no cycles).
    for c in data.comments:
        seen: set[int] = set()
        node: ExportComment | None = c
        while node is not None and node.parent_id is not None:
            if node.id in seen:
                fail(f"comments: comment {c.id} is its own ancestor")
            seen.add(node.id)
            node = comments.get(node.parent_id)
    for v in data.votes:
        if v.comment_id not in comments or v.user_id not in users:
            fail(f"votes: a vote names comment {v.comment_id} or user {v.user_id}, which the file lacks")
    for r in data.revisions:
        if r.comment_id not in comments or (r.editor_id is not None and r.editor_id not in users):
            fail(f"revisions: a revision names comment {r.comment_id} or editor {r.editor_id}, which the file lacks")


def restored_url(url: str | None) -> str | None:
    """An exported address in its canonical form (forum/topics/urls.py); one that is not
    an http(s) address is kept as written rather than lost."""
    if not url:
        return None
    try:
        return canonical_url(url)
    except InvalidUrl:
        return url


async def import_json(path: Path, progress: Progress) -> str:
    """Restore an export into a database without topics or comments (one transaction)."""
    data = read_export(path)
    async with sql.transaction():
        if await sql.fetchval("SELECT EXISTS (SELECT 1 FROM topic) OR EXISTS (SELECT 1 FROM comment)"):
            raise BadRequest("This database already has topics or comments: `forum import json` restores an"
                             " export only into an empty forum (accounts may exist). Nothing was imported.")
        users, matched = await _import_users(data.users)
        topics: dict[int, int] = {}
        for t in data.topics:
            topics[t.id] = await sql.fetchval(
                "INSERT INTO topic (slug, kind, title, url, body, body_html, author, comments_mode, status,"
                " comment_count, version, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 1, $10, $11) RETURNING id",
                t.slug, t.kind, t.title, restored_url(t.url), t.body, t.body_html,
                users.get(t.author_id) if t.author_id is not None else None, t.comments, t.status,
                t.created_at, t.updated_at)
            progress(1)
        comments = await _import_comments(data.comments, users, topics, progress)
        conn = engine.current_transaction.get().connection  # type: ignore[union-attr]
        if data.votes:
            await conn.executemany(
                'INSERT INTO vote (comment, "user", created_at) VALUES ($1, $2, $3)',
                [(comments[v.comment_id], users[v.user_id], v.created_at) for v in data.votes])
        if data.revisions:
            await conn.executemany(
                "INSERT INTO comment_revision (comment, body, body_html, editor, created_at)"
                " VALUES ($1, $2, $3, $4, $5)",
                [(comments[r.comment_id], r.body, r.body_html,
                  users[r.editor_id] if r.editor_id is not None else None, r.created_at) for r in data.revisions])
        progress(len(data.votes) + len(data.revisions))
        await recount(sorted(topics.values()))
    return "\n".join([
        f"Imported {path.name} (forum export, version {data.version})",
        f"  users:     {len(data.users) - matched} created, {matched} matched to existing accounts by handle",
        f"  topics:    {len(topics)}",
        f"  comments:  {len(comments)}",
        f"  votes:     {len(data.votes)}",
        f"  revisions: {len(data.revisions)}",
        "  Imported accounts have no password and no email: they sign in after an admin sets a password"
        " (exports never carry credentials).",
    ])


async def _import_users(rows: list[ExportUser]) -> tuple[dict[int, int], int]:
    mapping: dict[int, int] = {}
    matched = 0
    for u in rows:
        existing = None
        if u.handle:
            existing = await user_id_by_handle(u.handle)
        if existing is not None:
            mapping[u.id] = existing
            matched += 1
            continue
        mapping[u.id] = await sql.fetchval(
            "INSERT INTO forum_user (handle, email, password_hash, role, status, suspended_until, notify_email,"
            " created_at, erased_at) VALUES ($1, NULL, NULL, $2, $3, $4, false, $5, $6) RETURNING id",
            u.handle if u.status != "erased" else None, u.role, u.status, u.suspended_until, u.created_at,
            u.erased_at if u.erased_at is not None or u.status != "erased" else u.created_at)
    return mapping, matched


async def _import_comments(rows: list[ExportComment], users: dict[int, int], topics: dict[int, int],
                           progress: Progress) -> dict[int, int]:
    by_id = {c.id: c for c in rows}
    order: list[ExportComment] = []
    placed: set[int] = set()

    def place(c: ExportComment) -> None:  # parents first, else the file's id order
        stack = [c]
        while c.parent_id is not None and c.parent_id not in placed:
            c = by_id[c.parent_id]
            stack.append(c)
        for node in reversed(stack):
            if node.id not in placed:
                placed.add(node.id)
                order.append(node)

    for c in sorted(rows, key=lambda c: c.id):
        place(c)
    new_ids = await new_comment_ids(len(order))
    mapping: dict[int, int] = {}
    position: dict[int, tuple[str, int, int]] = {}
    records: list[tuple[Any, ...]] = []
    for c, new_id in zip(order, new_ids, strict=True):
        mapping[c.id] = new_id
        parent = mapping.get(c.parent_id) if c.parent_id is not None else None
        if parent is None:
            path, root_id, depth = child_path(None, new_id), new_id, 0
        else:
            parent_path, root_id, parent_depth = position[parent]
            try:
                path, depth = child_path(parent_path, new_id), parent_depth + 1
            except PathTooDeep:
                raise BadRequest(f"comments: comment {c.id} is nested deeper than this forum allows."
                                 " Nothing was imported.") from None
        position[new_id] = (path, root_id, depth)
        records.append((
            new_id, topics[c.topic_id], parent, root_id, path, depth, c.kind, c.private,
            users.get(c.audience_id) if c.audience_id is not None else None, c.status,
            users.get(c.author_id) if c.author_id is not None else None, c.guest_name, c.author_badge,
            c.body, c.body_html, c.score, c.accepted, c.question_status, c.first_answer_at, c.urgent,
            c.first_published_at, c.created_at, c.edited_at, c.deleted_at))
    conn = engine.current_transaction.get().connection  # type: ignore[union-attr]
    for start in range(0, len(records), 500):
        chunk = records[start:start + 500]
        await conn.executemany(
            "INSERT INTO comment (id, topic, parent, root_id, path, depth, kind, private, audience, status,"
            " author, guest_name, author_badge, body, body_html, score, reply_count, accepted, question_status,"
            " first_answer_at, urgent, first_published_at, created_at, edited_at, deleted_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 0, $17, $18,"
            " $19, $20, $21, $22, $23, $24)", chunk)
        progress(len(chunk))
    return mapping
