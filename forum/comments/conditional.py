"""Conditional thread reads answered before routing.

A comment widget re-reads its thread with `If-None-Match` (the ETag of the page it shows),
and most of the time the answer is an empty 304. What that answer needs is one shared
version read (forum/coalesce.py); routing, parameter parsing, dependency injection and
response building around it would cost three times as much. So the outer layer
(forum/web.py) asks `answer()` first, for every request, and `answer()` gives the very 304
the route's handler gives (the same statement, ETag and headers) when:

- the request is `GET /api/topics/{slug}/comments` with `If-None-Match`,
- without `Authorization` (signed-in viewers have their own ETags and may see more),
- with no query parameters but a valid `sort` and `limit` (a cursor, anything unknown,
  repeated or out of range goes to the handler, which knows how to refuse it),
- and the topic, visible to everyone, still has the version the client's ETag names.

Everything else, including a database error, is None: the route's handler answers.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from litestar.types import HTTPScope

from forum.coalesce import SharedReads
from forum.comments import cache
from forum.comments.posting import topic_visible
from forum.comments.services import SORTS
from forum.pagination import MAX_LIMIT
from forum.web import Answer

ROUTE = "/api/topics/{slug}/comments"  # the route's template, as Litestar names it (the metrics label)
_PATH = re.compile(r"^/api/topics/([^/]+)/comments$")
_LIMIT = re.compile(r"^[1-9][0-9]{0,2}$")


def _plain_first_page(query: bytes) -> bool:
    if not query:
        return True
    try:
        pairs = parse_qsl(query.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return False
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        return False
    for name, value in pairs:
        if name == "sort" and value in SORTS:
            continue
        if name == "limit" and _LIMIT.match(value) and int(value) <= MAX_LIMIT:
            continue
        return False
    return True


class ConditionalThreadRead:
    def __init__(self, reads: SharedReads):
        self.reads = reads

    async def answer(self, scope: HTTPScope) -> Answer | None:
        if scope["method"] != "GET":
            return None
        match = _PATH.match(scope["path"])
        if match is None:
            return None
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                return None
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        if not if_none_match or not _plain_first_page(scope.get("query_string", b"")):
            return None
        try:
            topic = await self.reads.fetchrow(cache.VERSION_SQL, match.group(1))
        except Exception:  # the handler meets the same error and answers it properly
            return None
        if topic is None or not topic_visible(topic, None):
            return None
        etag = cache.thread_etag(topic["id"], topic["version"], None)
        if not cache.etag_matches(if_none_match, etag):
            return None
        return Answer(304, [(name.lower().encode(), value.encode())
                            for name, value in cache.thread_headers(etag).items()], ROUTE)
