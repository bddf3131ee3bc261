"""Seed the benchmark data straight into PostgreSQL with asyncpg (seconds, not minutes).

Everything written here is what the service itself would have written: tree paths from
`forum.comments.tree`, `root_id`/`depth`/`reply_count`, `topic.comment_count`, sessions
stored as `forum.auth.hash_token(token)`, `first_published_at` on published comments
(the moderation policy counts those to decide who is trusted).
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from forum.auth import hash_token
from forum.comments.tree import child_path

PASSWORD = "bench-password-2026"  # noqa: S105 - throwaway accounts in a benchmark database

WORDS = ("family", "support", "coaching", "recovery", "listen", "boundaries", "together", "hope",
         "conversation", "patience", "trust", "week", "progress", "question", "answer", "daughter",
         "son", "partner", "meeting", "step", "calm", "feel", "understand", "helpful", "thanks")


@dataclass
class Seeded:
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # handle -> bearer token
    moderators: list[str] = field(default_factory=list)
    topics: dict[str, int] = field(default_factory=dict)  # slug -> id
    first_root: dict[str, int] = field(default_factory=dict)  # slug -> id of its oldest root
    item_ids: list[int] = field(default_factory=list)  # the pending moderation items
    base_item_ids: list[int] = field(default_factory=list)  # older ones, for the scenario-5 baseline
    counts: dict[str, int] = field(default_factory=dict)  # slug -> comments
    viewers: list[str] = field(default_factory=list)  # scenario 8's signed-in readers
    busy_writers: list[str] = field(default_factory=list)  # scenario 9: trusted writers (tokens)
    busy_new: list[str] = field(default_factory=list)  # scenario 9: new readers (tokens): their posts are held


def content_key(root: Path) -> str:
    """What a seeded database depends on: this module and every migration (their bytes)."""
    h = hashlib.sha256()
    for f in [Path(__file__), *sorted((root / "migrations").rglob("*.py"))]:
        h.update(str(f.relative_to(root) if f.is_relative_to(root) else f.name).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


@dataclass
class SavedSeed:
    """A seeded cluster's files (copied while it was stopped) and its `Seeded`, kept in
    `<data-dir>/seeds/<content hash>/`, so later runs copy them instead of migrating and
    seeding again. A change to the seed or to any migration changes the hash."""

    key: str
    folder: Path
    seeded: Seeded

    @classmethod
    def find(cls, data_dir: Path, root: Path) -> SavedSeed | None:
        key = content_key(root)
        folder = data_dir / "seeds" / key
        meta = folder / "seeded.json"
        if not (meta.exists() and (folder / "pgdata").is_dir()):
            return None
        return cls(key, folder, Seeded(**json.loads(meta.read_text())))

    @classmethod
    def save(cls, data_dir: Path, root: Path, seeded: Seeded) -> None:
        key = content_key(root)
        seeds = data_dir / "seeds"
        shutil.rmtree(seeds, ignore_errors=True)  # one saved seed: the current one
        folder = seeds / key
        folder.mkdir(parents=True)
        subprocess.run(["cp", "-a", str(data_dir / "pgdata"), str(folder / "pgdata")], check=True)
        (folder / "seeded.json").write_text(json.dumps(dataclasses.asdict(seeded)))

    @staticmethod
    async def refresh(dsn: str) -> None:
        """Sessions as fresh as a new seed's (a saved seed may be days old)."""
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("UPDATE user_session SET last_seen_at = now(), expires_at = now() + interval '30 days',"
                               " idle_expires_at = now() + interval '7 days'")
        finally:
            await conn.close()

    def restore(self, pgdata: Path) -> None:
        shutil.rmtree(pgdata, ignore_errors=True)
        subprocess.run(["cp", "-a", str(self.folder / "pgdata"), str(pgdata)], check=True)  # owner kept


def _body(n: int) -> tuple[str, str]:
    words = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(24)]
    text = f"Comment {n}: " + " ".join(words) + "."
    return text, f"<p>{html.escape(text)}</p>"


async def _password_hash() -> str | None:
    try:
        from argon2 import PasswordHasher

        return PasswordHasher().hash(PASSWORD)
    except Exception:
        return None


async def reset_schema(conn: asyncpg.Connection) -> None:
    """Drop everything in schema public (the bench owns its database)."""
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")


async def has_forum_data(conn: asyncpg.Connection) -> bool:
    exists = await conn.fetchval("SELECT to_regclass('public.topic') IS NOT NULL")
    if not exists:
        return False
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM topic) OR EXISTS (SELECT 1 FROM forum_user)"))


class Seeder:
    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn
        self.out = Seeded()
        self.now = datetime.now(UTC)
        self._pw: str | None = None

    async def user(self, handle: str, role: str = "reader", session: bool = True) -> int:
        if self._pw is None:
            self._pw = await _password_hash() or ""
        uid = await self.conn.fetchval(
            "INSERT INTO forum_user (handle, email, password_hash, role, status, notify_email, created_at)"
            " VALUES ($1, NULL, $2, $3, 'active', false, $4) RETURNING id",
            handle, self._pw or None, role, self.now - timedelta(days=400))
        self.out.users[handle] = uid
        if session:
            token = secrets.token_urlsafe(32)
            await self.conn.execute(
                'INSERT INTO user_session ("user", token_hash, created_at, last_seen_at, expires_at, idle_expires_at)'
                " VALUES ($1, $2, now(), now(), now() + interval '30 days', now() + interval '7 days')",
                uid, hash_token(token))
            self.out.tokens[handle] = token
        return uid

    async def topic(self, slug: str, author: int, mode: str = "open") -> int:
        tid = await self.conn.fetchval(
            "INSERT INTO topic (slug, kind, title, url, body, body_html, author, comments_mode, status,"
            " comment_count, version, created_at, updated_at)"
            " VALUES ($1, 'article', $2, NULL, $3, $4, $5, $6, 'published', 0, 1, $7, $7) RETURNING id",
            slug, f"Bench article {slug}", "An article.", "<p>An article.</p>", author, mode,
            self.now - timedelta(days=30))
        self.out.topics[slug] = tid
        return tid

    async def thread(self, slug: str, topic_id: int, authors: list[int], roots: int,
                     shape: tuple[int, ...], status: str = "published") -> list[int]:
        """`roots` top-level comments, each with replies in `shape`: a tuple of parent indexes
        inside the subtree (0 = the root, 1 = the first reply, ...). Returns the comment ids."""
        per_root = 1 + len(shape)
        total = roots * per_root
        ids = [r["id"] for r in await self.conn.fetch(
            "SELECT nextval(pg_get_serial_sequence('comment', 'id')) AS id FROM generate_series(1, $1)", total)]
        rows = []
        base = self.now - timedelta(days=20)
        k = 0
        published = status == "published"
        for _r in range(roots):
            sub_ids = ids[k:k + per_root]
            paths: list[str] = []
            depths: list[int] = []
            reply_counts = [0] * per_root
            parents: list[int | None] = []
            for j, cid in enumerate(sub_ids):
                if j == 0:
                    parent_j = None
                    paths.append(child_path(None, cid))
                    depths.append(0)
                else:
                    parent_j = shape[j - 1]
                    paths.append(child_path(paths[parent_j], cid))
                    depths.append(depths[parent_j] + 1)
                    p = parent_j
                    while p is not None:  # every ancestor counts this descendant
                        reply_counts[p] += 1
                        p = parents[p]
                parents.append(parent_j)
            for j, cid in enumerate(sub_ids):
                created = base + timedelta(seconds=(k + j))
                body, body_html = _body(k + j)
                pj = parents[j]
                rows.append((
                    cid, topic_id, sub_ids[pj] if pj is not None else None, sub_ids[0], paths[j], depths[j],
                    "comment", False, None, status, authors[(k + j) % len(authors)], None, None,
                    body, body_html, (k + j) % 5, reply_counts[j] if published else 0, False, None, None, False,
                    created if published else None, created, None, None,
                ))
            k += per_root
        await self.conn.copy_records_to_table(
            "comment", records=rows,
            columns=["id", "topic", "parent", "root_id", "path", "depth", "kind", "private", "audience", "status",
                     "author", "guest_name", "author_badge", "body", "body_html", "score", "reply_count",
                     "accepted", "question_status", "first_answer_at", "urgent", "first_published_at",
                     "created_at", "edited_at", "deleted_at"])
        if published:
            await self.conn.execute("UPDATE topic SET comment_count = comment_count + $2 WHERE id = $1",
                                    topic_id, total)
        self.out.counts[slug] = self.out.counts.get(slug, 0) + total
        self.out.first_root[slug] = ids[0]
        return ids


# Subtree shapes: parent index of each reply within its root's subtree.
SHAPE_200 = (0, 1, 0)  # root, a reply, a reply to it, a second reply: 4 comments per root
SHAPE_2 = (0,)  # root and one reply
# the render bench: a root and 9 replies up to 3 deep, 10 comments per root; 20 roots (the
# widget's first page) x 10 = 200 comments, all shown at once
SHAPE_RENDER = (0, 1, 2, 0, 4, 5, 0, 7, 0)


async def seed_all(dsn: str, moderation_items: int = 2000, moderators: int = 8) -> Seeded:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            s = Seeder(conn)
            authors = [await s.user(f"bench_reader{i:02d}", session=False) for i in range(40)]
            admin = await s.user("bench_admin", role="admin")
            poster = await s.user("bench_poster")  # a reader made trusted by published comments
            for i in range(moderators):
                await s.user(f"bench_mod{i}", role="moderator")
                s.out.moderators.append(f"bench_mod{i}")
            # 1: the hot thread: 50 roots x 4 = 200 comments, all on page 1 (default limit 50)
            t = await s.topic("bench-hot", admin)
            hot = await s.thread("bench-hot", t, authors, 50, SHAPE_200)
            # 8: 50 signed-in readers of bench-hot; each has helpful votes on 5 of its comments,
            # and every fifth one a pending reply of their own under a root (shown only to them)
            for i in range(50):
                handle = f"bench_viewer{i:02d}"
                uid = await s.user(handle)
                s.out.viewers.append(handle)
                await conn.executemany('INSERT INTO vote (comment, "user", created_at) VALUES ($1, $2, now())',
                                       [(hot[(i * 7 + k * 41) % len(hot)], uid) for k in range(5)])
                if i % 5 == 0:
                    root = hot[(i * 4) % len(hot) // 4 * 4]  # the first comment of a subtree is its root
                    cid = await conn.fetchval("SELECT nextval(pg_get_serial_sequence('comment', 'id'))")
                    text, body_html = _body(10_000 + i)
                    await conn.execute(
                        "INSERT INTO comment (id, topic, parent, root_id, path, depth, kind, private, status,"
                        " author, body, body_html, score, reply_count, accepted, urgent, created_at)"
                        " VALUES ($1, $2, $3, $3, $4, 1, 'comment', false, 'pending', $5, $6, $7, 0, 0, false,"
                        " false, $8)", cid, t, root, child_path(child_path(None, root), cid), uid, text, body_html,
                        s.now - timedelta(minutes=5))
            # 3: the same page shape in a small and a huge thread: 50 roots x 2 on page 1
            t = await s.topic("bench-render", admin)
            await s.thread("bench-render", t, authors, 20, SHAPE_RENDER)
            t = await s.topic("bench-small", admin)
            await s.thread("bench-small", t, authors, 50, SHAPE_2)
            t = await s.topic("bench-huge", admin)
            await s.thread("bench-huge", t, authors, 10_000, SHAPE_2)
            # 4/6: where the poster writes; the poster's own published comments make it trusted
            t = await s.topic("bench-post", admin)
            await s.thread("bench-post", t, [poster], 5, ())
            # scale-out consistency check
            t = await s.topic("bench-scale", admin)
            await s.thread("bench-scale", t, authors, 10, SHAPE_200)
            # 4: where the scenario-4 baseline inserts (raw asyncpg, no server); 13: cost per comment
            await s.topic("bench-post-base", admin)
            await s.topic("bench-cost", admin)
            # 5: pending comments by a new reader, each with an open 'pending' queue item; the
            # baseline's items are older, so they head the queue until the baseline decides them
            newbie = await s.user("bench_newbie", session=False)
            for slug, hours in (("bench-modq-base", 3), ("bench-modq", 2)):
                t = await s.topic(slug, admin)
                ids = await s.thread(slug, t, [newbie], moderation_items, (), status="pending")
                item_rows = await conn.fetch(
                    "INSERT INTO moderation_item (queue, target_type, comment, topic, reasons, status, created_at)"
                    " SELECT 'pending', 'comment', c, NULL, ARRAY['new_author']::varchar[], 'open',"
                    "        $2::timestamptz + (n * interval '1 millisecond')"
                    "   FROM unnest($1::bigint[]) WITH ORDINALITY AS u(c, n) RETURNING id",
                    ids, s.now - timedelta(hours=hours))
                if slug == "bench-modq":
                    s.out.item_ids = [r["id"] for r in item_rows]
                else:
                    s.out.base_item_ids = [r["id"] for r in item_rows]
            # 9: the busy article: 50 roots x 4 = 200 comments by 20 writers (10 published
            # comments each: trusted), 5 helpful votes there by each of the first 40 viewers
            # (scenario 9's signed-in readers), and 600 new readers with no published comment,
            # whose posts the policy holds for a moderator (`new_author`); each posts once
            writers = []
            for i in range(20):
                writers.append(await s.user(f"bench_busy_w{i:02d}"))
                s.out.busy_writers.append(f"bench_busy_w{i:02d}")
            t = await s.topic("bench-busy", admin)
            busy = await s.thread("bench-busy", t, writers, 50, SHAPE_200)
            await conn.executemany('INSERT INTO vote (comment, "user", created_at) VALUES ($1, $2, now())',
                                   [(busy[(i * 11 + k * 37) % len(busy)], s.out.users[h])
                                    for i, h in enumerate(s.out.viewers[:40]) for k in range(5)])
            for i in range(600):
                await s.user(f"bench_busy_new{i:03d}")
                s.out.busy_new.append(f"bench_busy_new{i:03d}")
            await conn.execute("UPDATE moderation_rules SET banned_words = '{}', suspect_words = '{}'")
        await conn.execute("ANALYZE")
        return s.out
    finally:
        await conn.close()
