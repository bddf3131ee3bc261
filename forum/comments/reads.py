"""Reading a thread page: the one service behind `GET /api/topics/{slug}/comments`.

Everything the route needs besides parsing lives here: the conditional read (ETag, 304),
the shared version reads (forum/coalesce.py), the per-process page cache
(forum/comments/cache.py) and the marks of a signed-in reader.

Who gets what:

- **Anonymous**: the cached public page while the topic's version and the display epoch
  are unchanged (`cache.TOPIC_SQL`, one statement); otherwise it is built and cached.
- **A signed-in reader** (any role below coach): one statement (`READER_SQL`, shared by
  the readers of the page asking at the same moment) reads what
  the anonymous one does plus the reader's votes in the topic, the ids and row versions of
  the comments only they can see there (their own pending, private or held-edit ones), the
  edit window and their own comments young enough to be in it. Seeing nothing more than
  the public, their page is the public page with their `my_vote` and `editable_until`
  spliced into the cached bytes (`_marked`): no further statement, no decoding, no
  encoding. Seeing more, they get an entry of their own, built for them once
  and reused while the version, the display epoch and those comments (`id:xmin`) are
  unchanged.
  Either way the bytes are those the full build gives (tested).
- **Staff** (coach and up) see private questions and every status: their pages are built
  for each request, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from forum import auth
from forum.auth import Viewer
from forum.coalesce import SharedReads
from forum.comments import cache, posting, services
from forum.comments import viewer as viewer_marks
from forum.comments.singleflight import Build, Label
from forum.errors import NotFound
from forum.timefmt import rfc3339

# The topic and the display epoch as in cache.TOPIC_SQL, and for each reader of $2: their
# votes in the topic, what only they see there ("id:xmin", in id order), the edit window and
# their visible comments there young enough to be in it (ids and creation times, read now:
# never from a cached page), each an index range. The query is the PL/pgSQL function of
# migration forum_2026_12_07t22_30_00 (thread_reader_states): as a plain prepared statement
# PostgreSQL re-planned it on every call (~2 ms of planning for ~0.3 ms of work); the function
# holds one generic plan per connection. It answers every reader of the page asking at the
# same moment in one call (`SharedReads.fetch_item`, bench/README.md, scenario 8).
READER_SQL = "SELECT * FROM thread_reader_states($1, $2)"

# The same state read with the reader's session, from their token (`forum.auth.session_row`):
# one statement per round for the readers of a page asking at the same moment instead of two
# rounds in a row (the session, then the state), which made signed-in reads the slowest tenth
# of a busy article's (bench/README.md, scenario 9). Without the topic, the state's columns
# are NULL and the session is still there.
READER_BY_TOKEN_SQL = f"""
WITH v AS MATERIALIZED ({auth.session_sql("$2")})
SELECT v.*, r.*
  FROM v LEFT JOIN thread_reader_states($1, ARRAY(SELECT v.user_id FROM v)::bigint[]) r ON r.viewer = v.user_id
"""


# Of the builds in a row that each found their page changed (`Entry.changed`), only the first
# two of every CHANGED_PROBE ask for the fingerprint first: the first to have one to compare
# with, the second to compare. The others build at once (one statement and one round trip
# less while the readers wait); a page that has settled is relabelled again within
# CHANGED_PROBE builds.
CHANGED_PROBE = 8


@dataclass(frozen=True, slots=True)
class Answer:
    status: int  # 200 or 304
    body: bytes
    headers: dict[str, str]


async def thread(reads: SharedReads, pages: cache.PageCache | None, viewer: Viewer | None, slug: str, *,
                 sort: str, limit: int, cursor: str | None, if_none_match: str | None,
                 accept_encoding: str | None = None, state: asyncpg.Record | None = None) -> Answer:
    """The thread page (or 304) for `viewer`; `sort` and `cursor` are checked here (400). The
    public page goes gzip-compressed to a client whose `accept_encoding` accepts it. `state`
    is the viewer's row of READER_BY_TOKEN_SQL when their session was read with it."""
    position = services.page_position(sort, cursor)  # a 400 for a bad one, conditional or not (RFC 9110 13.2.1)
    if viewer is not None and viewer.is_coach:
        pages = None  # staff pages are always built for them
    if if_none_match and pages is None:
        # Without a cache the next step is a build: a conditional read asks for the topic's
        # version alone first (one indexed row). With one, the statement below carries the
        # version and answers the 304 itself: asking first would cost every conditional read
        # a round trip more whenever the version moved, which on a busy article is nearly
        # always (bench/README.md, scenario 9).
        topic = await reads.fetchrow(cache.VERSION_SQL, slug)
        if topic is None or not posting.topic_visible(topic, viewer):
            raise NotFound("No such topic.")
        etag = cache.thread_etag(topic["id"], topic["version"], viewer)
        if cache.etag_matches(if_none_match, etag):
            return Answer(304, b"", cache.thread_headers(etag))
    public_key: cache.Key = (slug, sort, limit, cursor, None)
    entry = pages.candidate(public_key) if pages is not None else None
    if viewer is None or pages is None:
        topic = await reads.fetchrow(cache.TOPIC_SQL, slug)
    elif state is not None:
        topic = state if state["id"] is not None else None
    else:
        topic = await reads.fetch_item(READER_SQL, viewer.id, slug)
    if topic is None or not posting.topic_visible(topic, viewer):
        raise NotFound("No such topic.")
    etag = cache.thread_etag(topic["id"], topic["version"], viewer)
    headers = cache.thread_headers(etag)
    if cache.etag_matches(if_none_match, etag):  # with a cache, the conditional read's one check
        return Answer(304, b"", headers)

    if pages is None:  # staff (or no cache yet): built for this request
        page = await services.thread_page(topic["id"], topic["slug"], viewer, sort=sort, limit=limit,
                                          position=position)
        await viewer_marks.annotate(page["items"], viewer)
        return Answer(200, msgspec.json.encode(page), headers)

    key, extras = public_key, ()
    if viewer is not None and (topic["extras"] or topic["status"] != "published"):
        # this reader sees more than the public here: a page of their own
        key, extras = (slug, sort, limit, cursor, viewer.id), tuple(topic["extras"])
        entry = pages.candidate(key)
    if not pages.fresh(key, entry, topic["id"], topic["version"], topic["display_epoch"], extras):
        # one build per page at a time, shared by the readers waiting for it (singleflight.py)
        label = Label(topic["id"], topic["version"], topic["display_epoch"], extras)
        build = _builder(pages, key, topic["slug"], viewer if key[4] is not None else None, sort, limit, position)
        entry = await pages.builds.get(key, label, build)
    if entry is None:
        raise RuntimeError("unexpected: no entry")
    if viewer is None:
        if entry.gzip is not None and cache.accepts_gzip(accept_encoding):
            return Answer(200, entry.gzip, {**headers, "Content-Encoding": "gzip"})
        return Answer(200, entry.body, headers)
    deadlines: dict[int, bytes] = {}
    if not viewer.is_suspended and topic["own_ids"] and topic["window_minutes"] is not None:
        now = datetime.now(UTC)
        for comment_id, created_at in zip(topic["own_ids"], topic["own_created"], strict=True):
            deadline = viewer_marks.edit_deadline(created_at, topic["window_minutes"])
            if deadline > now:
                deadlines[comment_id] = b',"editable_until":"' + rfc3339(deadline).encode() + b'"'
    return Answer(200, _marked(entry, set(topic["votes"]), deadlines), headers)


def _builder(pages: cache.PageCache, key: cache.Key, slug: str, viewer: Viewer | None, sort: str, limit: int,
             position: dict[str, Any] | None) -> Build[cache.Entry]:
    """Builds the page of `key` for a label, and caches it."""

    async def build(label: Label) -> cache.Entry:
        # On a busy topic the version moves with every write, but most writes leave a given
        # page alone (new roots land on the last page of the oldest-first order): one
        # statement says whether the rows of the cached page are unchanged, and then its
        # bytes are relabelled with the version the readers read, instead of built again.
        # A page that changed at each of its last builds (the newest-first page of a busy
        # article: every new root and every reply to a recent one lands on it) is mostly
        # built without asking (see CHANGED_PROBE).
        current = pages.previous(key)
        changed = current.changed if current is not None and current.topic_id == label.topic_id else 0
        fingerprint = ""  # never equal to another entry's
        if changed % CHANGED_PROBE < 2:
            fingerprint = await services.page_fingerprint(label.topic_id, viewer, sort=sort, limit=limit,
                                                          position=position)
        else:
            pages.unhashed += 1
        if (current is not None and fingerprint and current.fingerprint == fingerprint
                and current.topic_id == label.topic_id and current.display_epoch == label.display_epoch):
            # read after every waiting reader read its version: the rows are as they were
            # before `current` was built, so its bytes are those of this version too
            entry = current.relabelled(label.version, label.extras)
            pages.relabelled += 1
        else:
            page = await services.thread_page(label.topic_id, slug, viewer, sort=sort, limit=limit,
                                              position=position)
            # the dicts are built in CommentRead's field order: encoding them gives the same bytes
            body, cuts = cache.encode_page(page)
            entry = cache.Entry(label.topic_id, label.version, label.display_epoch, body, cuts, label.extras,
                                fingerprint,
                                # the public page: compressed once here, sent to most of its readers
                                cache.compressed(body) if key[4] is None else None,
                                changed=changed + 1 if current is not None else 0)
        pages.put(key, entry)
        return entry

    return build


_VOTED, _NOT_VOTED = b',"my_vote":1', b',"my_vote":null'


def _marked(entry: cache.Entry, votes: set[int], deadlines: dict[int, bytes]) -> bytes:
    """The entry's page with the reader's `my_vote` on every comment and `editable_until` on
    their own comments still in the edit window, exactly where `viewer.annotate` puts them
    (the last keys of each comment's object): the entry's pieces with the marks between."""
    pieces, cut_ids = entry.pieces()
    marks = [_VOTED if comment_id in votes else _NOT_VOTED for comment_id in cut_ids]
    if deadlines:
        for i, comment_id in enumerate(cut_ids):
            if comment_id in deadlines:
                marks[i] += deadlines[comment_id]
    out: list[Any] = [None] * (len(pieces) + len(marks))
    out[0::2] = pieces
    out[1::2] = marks
    return b"".join(out)
