"""Thread reads answered before routing.

`GET /api/topics/{slug}/comments` is the hottest route by far: every reader of an article
asks it, and the comment widget asks it again with `If-None-Match` to learn whether the
thread moved. Its answer comes from one service (`forum/comments/reads.py`: a shared version
read, and most of the time cached bytes), so routing, parameter parsing, dependency
injection and response building around it cost more than the answer itself (bench
scenarios 1 and 8 on one machine: anonymous reads 2,475/s through the handler, 7,967/s
here; signed-in reads 998/s and 3,613/s; bench/README.md). So the outer layer
(forum/web.py) asks `answer()` first, for every request, and `answer()` gives the very
answer the route's handler gives (the same service, status, body and headers: a test
compares them) when:

- the request is `GET /api/topics/{slug}/comments`,
- with no query parameters but a valid `sort` and `limit` (a cursor, anything unknown,
  repeated or out of range goes to the handler, which knows how to refuse it),
- anonymous, or with `Authorization: Bearer <token>` of a live session (the same rule,
  `forum.auth.session_sql`, as the route's `viewer` dependency; read in one statement with
  the reader's state in the topic, `reads.READER_BY_TOKEN_SQL`),
- and the service answers 200 or 304.

Everything else is None and the route's handler answers: a malformed or unknown token
(401), a topic that is not there or hidden (404), a database error, anything the service
raises. The handler then meets the same case and answers it properly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl

from litestar.types import HTTPScope

from forum.auth import bearer_token, session_row, viewer_of
from forum.coalesce import SharedReads
from forum.comments import cache, reads
from forum.comments.services import SORTS
from forum.pagination import DEFAULT_LIMIT, MAX_LIMIT
from forum.web import Answer

ROUTE = "/api/topics/{slug}/comments"  # the route's template, as Litestar names it (the metrics label)
_PATH = re.compile(r"^/api/topics/([^/]+)/comments$")
_LIMIT = re.compile(r"^[1-9][0-9]{0,2}$")
_JSON = (b"content-type", b"application/json")


def plain_first_page(query: bytes) -> tuple[str, int] | None:
    """(sort, limit) of a query string that names at most a valid `sort` and `limit`, once
    each; None for anything else."""
    if not query:
        return "oldest", DEFAULT_LIMIT
    try:
        pairs = parse_qsl(query.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    found = dict(pairs)
    if len(found) != len(pairs):
        return None
    sort, limit = found.pop("sort", "oldest"), found.pop("limit", str(DEFAULT_LIMIT))
    if found or sort not in SORTS or not _LIMIT.match(limit) or int(limit) > MAX_LIMIT:
        return None
    return sort, int(limit)


class ThreadReadShortcut:
    def __init__(self, shared: SharedReads, pages: Callable[[], cache.PageCache | None]):
        self.shared = shared
        self.pages = pages  # the app's page cache, made at start-up

    async def answer(self, scope: HTTPScope) -> Answer | None:
        if scope["method"] != "GET":
            return None
        match = _PATH.match(scope["path"])
        if match is None:
            return None
        authorization = if_none_match = accept_encoding = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
        page = plain_first_page(scope.get("query_string", b""))
        if page is None or (if_none_match is not None and len(if_none_match) > cache.IF_NONE_MATCH_MAX):
            return None
        sort, limit = page
        try:
            viewer = state = None
            slug = match.group(1)
            token = bearer_token(authorization)
            if token is not None:
                state = await session_row(token, self.shared, reads.READER_BY_TOKEN_SQL, slug)
                if state is None:
                    return None
                viewer = viewer_of(state)
            found = await reads.thread(self.shared, self.pages(), viewer, slug, sort=sort, limit=limit, cursor=None,
                                       if_none_match=if_none_match, accept_encoding=accept_encoding, state=state)
        except Exception:  # a 401, a 404, a database error: the handler meets the same case and answers it properly
            return None
        headers = [(name.lower().encode(), value.encode()) for name, value in found.headers.items()]
        if found.status != 200:
            return Answer(found.status, headers, ROUTE)
        return Answer(200, [_JSON, (b"content-length", str(len(found.body)).encode()), *headers], ROUTE, found.body)
