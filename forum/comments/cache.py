"""The encoded JSON of thread pages as the anonymous public sees them, per process.

A hot thread is read far more than it is written, and building its page (its statement,
200 comment dicts, JSON encoding) costs twenty times the one query that tells whether
anything changed. So each process keeps the encoded bytes of recent anonymous pages and
serves them again while they are still right. An entry is used only when, read in the
same request from the database:

- the topic's id and `version` are the ones the page was built at (every visible change
  of a topic bumps its version: `forum.events.topic_changed`), and
- the display epoch is unchanged: a rename or a role change does not bump topic versions,
  but shows in the page, so every change of any account's handle or role moves one counter
  (`user_display_epoch`, migration forum_2026_12_07t22_30_00), and the pages built before
  it are built again once.

Both come from one statement (`TOPIC_SQL`) that began after the request arrived (shared
by the requests for the same page waiting at that moment: forum/coalesce.py), so a write
through any process is seen by every process at once, without depending on when a NOTIFY
arrives. With an entry at hand that statement also answers a conditional read
(`If-None-Match`); without one, `VERSION_SQL` alone is read first, the same way. Plain
first-page reads are answered before routing (forum/comments/shortcut.py). The
listener's events only free memory early (`drop_topic`) and a "reset" (events may have
been missed) clears everything; neither is needed for correctness.

Signed-in readers are served from the same entries (forum/comments/reads.py): each entry
also keeps where every comment's JSON object ends (`Entry.cuts`), so a reader's page is the
cached bytes with their own `my_vote` and `editable_until` spliced in, with no decoding or
encoding. A reader who can see more than the public in a topic (their own pending, private
or held-edit comments: `Entry.extras`) gets an entry of their own, built for them and
checked against the same version and display epoch plus the current state of those comments.
Staff (coach and up) see far more than the public; their pages are always built for them.

A public entry also keeps its page gzip-compressed (`Entry.gzip`), made once when the page
is built and sent to every reader whose client accepts it (`accepts_gzip`): a browser on a
phone downloads a quarter of the bytes, and the server writes a quarter (bench/README.md,
scenario 9). A page with a reader's own marks is sent as it is: compressing it for each
read would cost more CPU than the read, and nothing compressed then mixes a reader's own
data with text others wrote (what a BREACH-style attack needs).
"""

from __future__ import annotations

import dataclasses
import gzip
import itertools
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from forum.comments.singleflight import PageBuilds

if TYPE_CHECKING:
    from forum.auth import Viewer

# Page bytes held per process at most (a 200-comment page is about 110 KB).
MAX_BYTES = 48 * 1024 * 1024
# Pages dropped by topic events kept for relabelling (PageCache.previous): a few hot pages.
RETIRED = 16

# The topic and the display epoch (the same for every page: the readers of every page of a
# topic share this statement, forum/coalesce.py).
TOPIC_SQL = """
SELECT t.id, t.slug, t.status, t.author, t.version,
       coalesce((SELECT e.epoch FROM user_display_epoch e), 0) AS display_epoch
  FROM topic t WHERE t.slug = $1
"""

# A conditional read (If-None-Match): what the ETag and the visibility check need, nothing more.
VERSION_SQL = "SELECT id, status, author, version FROM topic WHERE slug = $1"

# (slug, sort, limit, cursor, reader id): the reader id is None for the public's page, a
# reader's own only for a reader who sees more than the public in that topic.
Key = tuple[str, str, int, "str | None", "int | None"]


# gzip level of a public page: made once per page version, and on a busy article a page
# version lasts a fraction of a second. Level 4 takes ~1.6 ms for a 146 KB page here and
# gives 4.6x; level 6 (zlib's default) ~2.9 ms for 4.8x, level 1 ~1.1 ms for 4.0x.
GZIP_LEVEL = 4
GZIP_MIN_BYTES = 1024  # smaller pages are sent as they are (the header would outweigh the gain)

IF_NONE_MATCH_MAX = 1000  # characters of If-None-Match a thread read takes (longer: 400)


def thread_etag(topic_id: int, version: int, viewer: Viewer | None) -> str:
    """Changes with every visible change of the topic and differs per kind of viewer."""
    who = "anon" if viewer is None else f"u{viewer.id}{viewer.effective_role[0]}"
    return f'W/"t{topic_id}v{version}{who}"'


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak comparison, as RFC 9110 asks)."""
    if not header:
        return False
    if header == etag:  # what a client sends back, nearly always
        return True
    tags = {t.strip() for t in header.split(",")}
    return "*" in tags or etag in tags or etag.removeprefix("W/") in tags


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header accepts gzip (RFC 9110 12.5.3): `gzip` (or its alias
    `x-gzip`) named with a weight above 0, or else `*` with one. Written here because the
    framework's compression middleware looks for the substring (it would send gzip to
    `gzip;q=0`) and compresses every response afresh, where a public page is compressed once."""
    if not header:
        return False
    star = False
    for part in header.split(","):
        coding, _, params = part.partition(";")
        coding = coding.strip().lower()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        if coding == "*":
            star = weight > 0
        else:
            return weight > 0
    return star


def compressed(body: bytes) -> bytes | None:
    """`body` gzip-compressed (no timestamp: the same page gives the same bytes), or None
    when it is too small to gain."""
    return gzip.compress(body, GZIP_LEVEL, mtime=0) if len(body) >= GZIP_MIN_BYTES else None


def thread_headers(etag: str) -> dict[str, str]:
    """The caching headers of every thread answer, 200 and 304 alike: a public page is sent
    gzip-compressed to clients that accept it, so the answer varies with Accept-Encoding too."""
    return {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization, Accept-Encoding"}


@dataclass(frozen=True, slots=True)
class Entry:
    topic_id: int
    version: int
    display_epoch: int  # user_display_epoch when it was built (TOPIC_SQL)
    body: bytes
    # (offset in body just before a comment object's closing brace, comment id), in order
    cuts: tuple[tuple[int, int], ...] = ()
    extras: tuple[str, ...] = ()  # a reader's own entry: "id:xmin" of what only they see
    # services.page_fingerprint read before the page was: while it is unchanged (and the
    # display epoch is), the bytes are right for a newer version of the topic too (reads.py)
    fingerprint: str = ""
    gzip: bytes | None = None  # a public entry's body gzip-compressed (`compressed`), if worth it
    # builds in a row of this page that found it changed (0: relabelled, or first built):
    # reads.py stops asking for the fingerprint of a page that changes at every build
    changed: int = 0
    # the body cut at `cuts` (views, not copies) and the comment id at each cut, made on a
    # signed-in reader's first read (`pieces()`): their page is these pieces with their marks
    # between them (forum/comments/reads.py)
    _pieces: tuple[tuple[memoryview, ...], tuple[int, ...]] | None = field(
        default=None, init=False, repr=False, compare=False)

    def pieces(self) -> tuple[tuple[memoryview, ...], tuple[int, ...]]:
        if self._pieces is None:
            view = memoryview(self.body)
            offsets = [0, *(offset for offset, _ in self.cuts), len(self.body)]
            object.__setattr__(self, "_pieces", (tuple(view[a:b] for a, b in itertools.pairwise(offsets)),
                                                 tuple(comment_id for _, comment_id in self.cuts)))
        return self._pieces  # type: ignore[return-value]

    def relabelled(self, version: int, extras: tuple[str, ...]) -> Entry:
        """The same bytes (and their pieces, once made) under a newer version: a build that
        found the page's rows unchanged (forum/comments/reads.py)."""
        entry = dataclasses.replace(self, version=max(self.version, version), extras=extras, changed=0)
        object.__setattr__(entry, "_pieces", self._pieces)
        return entry

    @property
    def size(self) -> int:
        """The bytes it holds (what the cache's bound counts)."""
        return len(self.body) + (len(self.gzip) if self.gzip is not None else 0)


_MARK = "~"  # a key no comment has; in the encoded JSON its quotes cannot be part of a string
_MARK_RE = re.compile(rb',"~":(\d+)')


def encode_page(page: dict[str, Any]) -> tuple[bytes, tuple[tuple[int, int], ...]]:
    """The page's JSON (the bytes `msgspec.json.encode(page)` gives) and where each comment's
    object ends in it."""
    marked: list[dict[str, Any]] = []
    stack = list(page["items"])
    while stack:
        item = stack.pop()
        item[_MARK] = item["id"]  # last key: where a reader's marks go (annotate appends them there)
        marked.append(item)
        stack.extend(item["replies"])
    try:
        raw = msgspec.json.encode(page)
    finally:
        for item in marked:
            del item[_MARK]
    parts: list[bytes] = []
    cuts: list[tuple[int, int]] = []
    pos = size = 0
    for m in _MARK_RE.finditer(raw):
        parts.append(raw[pos:m.start()])
        size += m.start() - pos
        cuts.append((size, int(m.group(1))))
        pos = m.end()
    parts.append(raw[pos:])
    return b"".join(parts), tuple(cuts)


class PageCache:
    """An LRU of encoded pages, bounded by entries and by bytes."""

    def __init__(self, max_entries: int, max_bytes: int = MAX_BYTES):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._retired: OrderedDict[Key, Entry] = OrderedDict()  # see drop_topic
        self._by_topic: dict[int, set[Key]] = {}
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        self.relabelled = 0  # misses answered by an unchanged fingerprint instead of a build
        self.unhashed = 0  # builds that did not ask for the fingerprint (the page changes at every build)
        # misses build each page once, shared by the readers waiting for it (singleflight.py)
        self.builds: PageBuilds[Entry] = PageBuilds()

    def __len__(self) -> int:
        return len(self._entries)

    def candidate(self, key: Key) -> Entry | None:
        """The entry stored under `key`, whether or not it is still right (see `fresh`)."""
        return self._entries.get(key)

    def fresh(self, key: Key, entry: Entry | None, topic_id: int, version: int, display_epoch: int,
              extras: tuple[str, ...] = ()) -> bool:
        if (entry is not None and entry.topic_id == topic_id and entry.version == version
                and entry.display_epoch == display_epoch and entry.extras == extras):
            if self._entries.get(key) is entry:  # the listener may have dropped it meanwhile: still right
                self._entries.move_to_end(key)
            self.hits += 1
            return True
        self.misses += 1
        return False

    def put(self, key: Key, entry: Entry) -> None:
        if self.max_entries <= 0 or entry.size > self.max_bytes:
            return
        self._remove(key)
        self._retired.pop(key, None)
        self._entries[key] = entry
        self._by_topic.setdefault(entry.topic_id, set()).add(key)
        self._bytes += entry.size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._remove(next(iter(self._entries)))

    def drop_topic(self, topic_id: int, below_version: int | None = None) -> None:
        """Forget a topic's pages (those older than `below_version` when given). The last
        RETIRED of them stay at hand for `previous` (a busy topic's events drop its pages
        many times a second, and most of them are still right: reads.py relabels them)."""
        for key in list(self._by_topic.get(topic_id, ())):
            entry = self._entries.get(key)
            if entry is not None and (below_version is None or entry.version < below_version):
                self._remove(key)
                if below_version is not None and entry.size <= self.max_bytes // RETIRED:
                    self._retired.pop(key, None)
                    self._retired[key] = entry
                    while len(self._retired) > RETIRED:
                        self._retired.popitem(last=False)
        if below_version is None:
            for key in [k for k, e in self._retired.items() if e.topic_id == topic_id]:
                del self._retired[key]

    def previous(self, key: Key) -> Entry | None:
        """The entry under `key`, or the one the listener dropped last from it: what a new
        build may relabel when its rows are unchanged (forum/comments/reads.py)."""
        entry = self._entries.get(key)
        return entry if entry is not None else self._retired.get(key)

    def clear(self) -> None:
        self._entries.clear()
        self._by_topic.clear()
        self._retired.clear()
        self._bytes = 0

    def _remove(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._bytes -= entry.size
        keys = self._by_topic.get(entry.topic_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_topic[entry.topic_id]
