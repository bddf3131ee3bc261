"""The big dataset of scenario 11 (issue 19, "a grown community"), written with COPY.

1,000,000 comments over 20,000 topics and 50,000 accounts, shaped like a forum some years
old: topic sizes follow a Zipf-like law (the busiest thread has ~24,000 comments, most
have a few dozen), threads have roots and replies up to 10 deep with tree paths from
`forum.comments.tree` (ids, and so paths, grow with time as the service writes them),
`root_id`, `depth`, `reply_count` (published descendants) and `topic.comment_count`
(published comments) consistent, `first_published_at` on published comments. Words are
drawn from `bench.seed.WORDS` followed by 5,000 made-up words with a Zipf-like law, so
"family" is in about a third of the comments and "family support" in about one in
twenty. 100,000 comments are pending, each with its open `pending` moderation item; 1%
are rejected. Five accounts (`big_heavy0..4`) wrote 6,000 comments each, the next
busiest a few thousand. Signed-in tokens exist for an admin, 8 moderators
(`big_mod0..7`), 20 readers (`big_reader00..19`) and the heavy accounts. `search_tsv`
is filled by the table's own trigger during COPY; the comment table's secondary indexes
and foreign keys are dropped before the COPY and made again after it (much faster than
maintaining them row by row), and three COPY streams run at once.

Use from another scenario::

    dsn, embedded, big = bigseed.ensure(data_dir, root, args)
    try:
        ...  # a server against `dsn`: see bench/scale.py
    finally:
        if embedded is not None:
            embedded.stop()

`ensure` starts an embedded PostgreSQL in `<data_dir>/big/` from the seed saved in
`<data_dir>/bigseeds/<content hash>/` (a copy of the stopped cluster's files, about a
minute to make the first time, seconds to restore), or seeds and saves it first. With
`args.database_url` it seeds into that database instead (its schema `public` is dropped,
whatever it holds, and migrated; nothing is saved) and `embedded` is None. `args` needs `database_url` and
`fresh_seed` (bench/run.py's parsed arguments have both). Each call starts from the saved
state: what a scenario changed (decisions) is gone the next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import itertools
import json
import random
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench import seed
from forum.auth import hash_token
from forum.comments.tree import child_path
from migrations.forum import forum_2026_12_07t19_30_00_000000_author_counts as author_counts

COMMENTS = 1_000_000
TOPICS = 20_000
ACCOUNTS = 50_000
PENDING = 100_000
REJECTED = 10_000
HEAVY = 5  # accounts with HEAVY_COMMENTS comments each
HEAVY_COMMENTS = 6_000
MODERATORS = 8
READERS = 20
BASE_ITEMS = 2_000  # the oldest pending items: the decision baseline's own queue
SPAN = timedelta(days=3 * 365)  # the community's age
MAX_DEPTH = 10
ROOT_SHARE = 0.3
CHUNK = 50_000
STREAMS = 3
COMMENT_COLUMNS = ["id", "topic", "parent", "root_id", "path", "depth", "kind", "private", "status", "author",
                   "body", "body_html", "score", "reply_count", "first_published_at", "created_at"]


@dataclass
class BigSeeded:
    users: dict[str, int] = field(default_factory=dict)  # handle -> id, for the named accounts
    tokens: dict[str, str] = field(default_factory=dict)  # handle -> bearer token
    moderators: list[str] = field(default_factory=list)
    readers: list[str] = field(default_factory=list)
    heavy: list[str] = field(default_factory=list)  # the accounts with HEAVY_COMMENTS comments
    base_item_ids: list[int] = field(default_factory=list)  # the decision baseline's items (oldest)
    item_ids: list[int] = field(default_factory=list)  # the next BASE_ITEMS open items in queue order
    busiest_topic: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # how long seeding took


# ---------------------------------------------------------------- saved clusters


def content_key(root: Path) -> str:
    """The small seed's key (bench/seed.py and every migration) plus this module."""
    h = hashlib.sha256(seed.content_key(root).encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()


def _saved(data_dir: Path, root: Path) -> tuple[Path, BigSeeded | None]:
    folder = data_dir / "bigseeds" / content_key(root)
    meta = folder / "bigseeded.json"
    if meta.exists() and (folder / "pgdata").is_dir():
        return folder, BigSeeded(**json.loads(meta.read_text()))
    return folder, None


def ensure(data_dir: Path, root: Path, args: Any) -> tuple[str, Any, BigSeeded]:
    """A running PostgreSQL with the big dataset: (dsn, the embedded server to stop or None,
    what was seeded). See the module's docstring."""
    from bench.run import migrate

    if args.database_url:
        dsn = args.database_url
        asyncio.run(_reset(dsn))
        migrate(dsn, data_dir, secrets.token_urlsafe(32))
        return dsn, None, asyncio.run(seed_big(dsn))

    from forum.db import EmbeddedPostgres

    big_dir = data_dir / "big"
    pgdata = big_dir / "pgdata"
    folder, saved = (None, None) if args.fresh_seed else _saved(data_dir, root)
    embedded = EmbeddedPostgres(big_dir)
    if saved is not None and folder is not None:
        shutil.rmtree(pgdata, ignore_errors=True)
        subprocess.run(["cp", "-a", str(folder / "pgdata"), str(pgdata)], check=True)
        dsn = embedded.start()
        asyncio.run(seed.SavedSeed.refresh(dsn))
        return dsn, embedded, saved
    shutil.rmtree(pgdata, ignore_errors=True)
    dsn = embedded.start()
    try:
        migrate(dsn, big_dir, secrets.token_urlsafe(32))
        big = asyncio.run(seed_big(dsn))
        embedded.stop()
        seeds = data_dir / "bigseeds"
        shutil.rmtree(seeds, ignore_errors=True)  # one saved big seed: the current one
        folder = seeds / content_key(root)
        folder.mkdir(parents=True)
        subprocess.run(["cp", "-a", str(pgdata), str(folder / "pgdata")], check=True)
        (folder / "bigseeded.json").write_text(json.dumps(dataclasses.asdict(big)))
        dsn = embedded.start()
    except BaseException:
        embedded.stop()
        raise
    return dsn, embedded, big


@contextlib.contextmanager
def running(data_dir: Path, root: Path, args: Any) -> Iterator[str]:
    """`ensure`, as a context: the DSN of the big database, stopped afterwards."""
    dsn, embedded, _ = ensure(data_dir, root, args)
    try:
        yield dsn
    finally:
        if embedded is not None:
            embedded.stop()


async def _reset(dsn: str) -> None:
    """The bench owns a --database-url (bench/run.py checked it at the start of the run)."""
    conn = await asyncpg.connect(dsn)
    try:
        await seed.reset_schema(conn)
    finally:
        await conn.close()


# ---------------------------------------------------------------- the data


def vocabulary() -> tuple[list[str], list[float]]:
    """bench.seed.WORDS first (the most common), then made-up words; cumulative weights of a
    Zipf-like law 1/(rank + 10), so the top word is ~1.6% of the words of a comment."""
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "den", "bar", "pel", "tor", "qui", "zan", "fem"]
    made = ["".join(p) for p in itertools.product(syllables, repeat=3)]
    random.Random(7).shuffle(made)
    words = list(seed.WORDS) + [w for w in made if w not in seed.WORDS][:5000]
    cum = list(itertools.accumulate(1.0 / (r + 10) for r in range(len(words))))
    return words, cum


@dataclass
class _Shape:
    """The comment tree and who wrote what, index i = comment id - 1."""

    topic: list[int]
    parent: list[int]  # index of the parent, -1 for a root
    root: list[int]
    depth: list[int]
    path: list[str]
    status: list[str]
    author: list[int]
    reply_count: list[int]
    topic_count: list[int]  # published comments per topic index


def shape(first_user: int, first_topic: int, first_comment: int, rnd: random.Random) -> _Shape:
    n = COMMENTS
    topic_cum = list(itertools.accumulate(1.0 / (t + 5) for t in range(TOPICS)))
    topics = rnd.choices(range(TOPICS), cum_weights=topic_cum, k=n)
    # authors: the first HEAVY accounts get HEAVY_COMMENTS each, the rest a Zipf-like share
    user_cum = list(itertools.accumulate(1.0 / (u + 20) for u in range(ACCOUNTS - HEAVY)))
    authors = [first_user + HEAVY + u for u in rnd.choices(range(ACCOUNTS - HEAVY), cum_weights=user_cum, k=n)]
    for k, i in enumerate(rnd.sample(range(n), HEAVY * HEAVY_COMMENTS)):
        authors[i] = first_user + k % HEAVY
    picked = rnd.sample(range(n), PENDING + REJECTED)
    status = ["published"] * n
    for i in picked[:PENDING]:
        status[i] = "pending"
    for i in picked[PENDING:]:
        status[i] = "rejected"
    parent = [-1] * n
    root = [0] * n
    depth = [0] * n
    path = [""] * n
    reply_count = [0] * n
    topic_count = [0] * TOPICS
    recent: dict[int, list[int]] = {}  # topic -> its latest published comments (reply targets)
    for i in range(n):
        t = topics[i]
        cid = first_comment + i
        cands = recent.get(t)
        p = -1
        if cands and rnd.random() > ROOT_SHARE:
            p = cands[int(len(cands) * rnd.random() ** 2)]  # the newest are answered most
            if depth[p] >= MAX_DEPTH:
                p = root[p]
        if p < 0:
            root[i], path[i] = i, child_path(None, cid)
        else:
            parent[i], root[i], depth[i] = p, root[p], depth[p] + 1
            path[i] = child_path(path[p], cid)
        if status[i] == "published":
            topic_count[t] += 1
            a = parent[i]
            while a >= 0:  # every published ancestor counts this published descendant
                reply_count[a] += 1
                a = parent[a]
            lst = recent.setdefault(t, [])
            lst.insert(0, i)
            del lst[20:]
    return _Shape([first_topic + t for t in topics], parent, root, depth, path, status, authors, reply_count,
                  topic_count)


def comment_rows(s: _Shape, lo: int, hi: int, first_comment: int, start: datetime,
                 words: list[str], cum: list[float]) -> list[tuple[Any, ...]]:
    rnd = random.Random(lo)
    step = SPAN / COMMENTS
    rows = []
    for i in range(lo, hi):
        n_words = min(120, 8 + int(rnd.expovariate(1 / 25)))
        text = " ".join(rnd.choices(words, cum_weights=cum, k=n_words)).capitalize() + "."
        created = start + step * i
        published = s.status[i] == "published"
        rows.append((first_comment + i, s.topic[i], first_comment + s.parent[i] if s.parent[i] >= 0 else None,
                     first_comment + s.root[i], s.path[i], s.depth[i], "comment", False, s.status[i], s.author[i],
                     text, f"<p>{text}</p>", rnd.randrange(6) if published else 0,
                     s.reply_count[i] if published else 0, created if published else None, created))
    return rows


async def _copy_comments(dsn: str, s: _Shape, first_comment: int, start: datetime, words: list[str],
                         cum: list[float]) -> None:
    """COPY in chunks over STREAMS connections at once: each row's `to_tsvector` (the
    trigger, ~80 us) is most of the time, and it runs in the backend, one core each. The
    chunks are built in threads so one stream's rows are made while the others copy."""
    chunks = list(range(0, COMMENTS, CHUNK))

    async def stream() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("SET synchronous_commit = off")
            while chunks:
                lo = chunks.pop(0)
                rows = await asyncio.to_thread(comment_rows, s, lo, min(COMMENTS, lo + CHUNK), first_comment,
                                               start, words, cum)
                await conn.copy_records_to_table("comment", records=rows, columns=COMMENT_COLUMNS)
        finally:
            await conn.close()

    await asyncio.gather(*(stream() for _ in range(STREAMS)))


async def seed_big(dsn: str) -> BigSeeded:
    t0 = time.perf_counter()
    out = BigSeeded()
    rnd = random.Random(19)
    words, cum = vocabulary()
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - SPAN
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET synchronous_commit = off; SET maintenance_work_mem = '512MB'")
        first_user = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM forum_user")) + 1
        first_topic = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM topic")) + 1
        first_comment = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM comment")) + 1
        # accounts: heavy ones first, then readers; staff after them
        handles = [f"big_heavy{k}" for k in range(HEAVY)]
        handles += [f"big_reader{k:02d}" for k in range(READERS)]
        handles += [f"big_u{k:05d}" for k in range(ACCOUNTS - len(handles))]
        staff = [("big_admin", "admin")] + [(f"big_mod{k}", "moderator") for k in range(MODERATORS)]
        user_rows = [(first_user + k, h, "reader", "active", start - timedelta(days=30, minutes=ACCOUNTS - k))
                     for k, h in enumerate(handles)]
        user_rows += [(first_user + ACCOUNTS + k, h, role, "active", start - timedelta(days=60))
                      for k, (h, role) in enumerate(staff)]
        await conn.copy_records_to_table("forum_user", records=user_rows,
                                         columns=["id", "handle", "role", "status", "created_at"])
        for uid, h, *_ in user_rows:
            if h.startswith(("big_heavy", "big_reader", "big_admin", "big_mod")):
                out.users[h] = uid
                out.tokens[h] = secrets.token_urlsafe(32)
        out.heavy = handles[:HEAVY]
        out.readers = handles[HEAVY:HEAVY + READERS]
        out.moderators = [h for h, _ in staff[1:]]
        await conn.copy_records_to_table(
            "user_session", records=[(out.users[h], hash_token(tok), now, now, now + timedelta(days=30),
                                      now + timedelta(days=7)) for h, tok in out.tokens.items()],
            columns=["user", "token_hash", "created_at", "last_seen_at", "expires_at", "idle_expires_at"])
        admin = out.users["big_admin"]

        s = shape(first_user, first_topic, first_comment, rnd)
        t_shape = time.perf_counter() - t0
        topic_rows = []
        for k in range(TOPICS):
            title = " ".join(rnd.choices(words, cum_weights=cum, k=6)).capitalize()
            body = " ".join(rnd.choices(words, cum_weights=cum, k=40)).capitalize() + "."
            created = start - timedelta(minutes=TOPICS - k)
            topic_rows.append((first_topic + k, f"big-topic-{k:05d}", "article", title, body, f"<p>{body}</p>",
                               admin, "open", "published", s.topic_count[k], 1, created, created))
        await conn.copy_records_to_table(
            "topic", records=topic_rows,
            columns=["id", "slug", "kind", "title", "body", "body_html", "author", "comments_mode", "status",
                     "comment_count", "version", "created_at", "updated_at"])
        out.busiest_topic = topic_rows[0][1]

        # comments: secondary indexes dropped for the COPY and built again after it
        indexes = await conn.fetch(
            "SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = 'comment'::regclass"
            " AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)")
        for ix in indexes:
            await conn.execute(f'DROP INDEX "{ix["name"]}"')
        # foreign keys too: checked row by row they cost more than one validating join after,
        # and a reply's parent may sit in a chunk another stream has not committed yet
        fkeys = await conn.fetch("SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint"
                                 " WHERE conrelid = 'comment'::regclass AND contype = 'f'")
        for fk in fkeys:
            await conn.execute(f'ALTER TABLE comment DROP CONSTRAINT "{fk["name"]}"')
        # and the row trigger that keeps each author's counts: the streams would lock the same
        # authors' rows in different orders (a deadlock); the counts are made once after
        await conn.execute(f"ALTER TABLE comment DISABLE TRIGGER {author_counts.INSERT_TRIGGER}")
        t1 = time.perf_counter()
        await _copy_comments(dsn, s, first_comment, start, words, cum)
        t_copy = time.perf_counter() - t1
        t1 = time.perf_counter()
        await conn.execute(author_counts.RECOUNT)
        await conn.execute(f"ALTER TABLE comment ENABLE TRIGGER {author_counts.INSERT_TRIGGER}")
        for ix in indexes:
            await conn.execute(ix["def"])
        for fk in fkeys:
            await conn.execute(f'ALTER TABLE comment ADD CONSTRAINT "{fk["name"]}" {fk["def"]}')
        t_index = time.perf_counter() - t1
        pending = [first_comment + i for i in range(COMMENTS) if s.status[i] == "pending"]
        step = SPAN / COMMENTS
        await conn.copy_records_to_table(
            "moderation_item",
            records=[("pending", "comment", cid, ["new_author"], "open", start + step * (cid - first_comment))
                     for cid in pending],
            columns=["queue", "target_type", "comment", "reasons", "status", "created_at"])
        items = [r["id"] for r in await conn.fetch(
            "SELECT id FROM moderation_item WHERE queue = 'pending' AND status = 'open'"
            " ORDER BY created_at, id LIMIT $1", BASE_ITEMS * 2)]
        out.base_item_ids, out.item_ids = items[:BASE_ITEMS], items[BASE_ITEMS:]
        for seq, table in (("forum_user", "forum_user"), ("topic", "topic"), ("comment", "comment"),
                           ("moderation_item", "moderation_item")):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{seq}', 'id'), (SELECT max(id) FROM {table}))")
        await conn.execute("UPDATE moderation_rules SET banned_words = '{}', suspect_words = '{}'")
        t1 = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE) comment")
        await conn.execute("ANALYZE")
        t_vacuum = time.perf_counter() - t1
        out.counts = {"accounts": ACCOUNTS + len(staff), "topics": TOPICS, "comments": COMMENTS,
                      "pending": len(pending), "heavy_comments": HEAVY_COMMENTS}
        out.seconds = time.perf_counter() - t0
        print(f"bigseed: shape {t_shape:.0f}s, COPY {t_copy:.0f}s, indexes {t_index:.0f}s,"
              f" vacuum {t_vacuum:.0f}s, total {out.seconds:.0f}s", file=sys.stderr)
        return out
    finally:
        await conn.close()
