"""The public thread page gzip-compressed (forum/comments/cache.py): made once per page
version, sent to every client whose Accept-Encoding accepts it, through the shortcut and the
handler alike; everyone else, and every signed-in reader, gets the page as it is."""

from __future__ import annotations

import gzip
import uuid
from typing import Any

import httpx
import pytest

from forum.comments import cache, lifecycle
from forum.comments.cache import Entry, PageCache
from tests.helpers import make_user
from tests.integration.test_comments import make_topic, post, trust_everyone
from tests.integration.test_thread_shortcut import HANDLER, same_headers

GZIP = {"Accept-Encoding": "gzip, deflate, br, zstd"}  # what a browser sends
PLAIN = {"Accept-Encoding": "identity"}


async def big_thread(client: httpx.AsyncClient) -> str:
    """A topic whose public page is well above the compression threshold."""
    await trust_everyone()
    author = await make_user("coach")
    slug = await make_topic(client, author)
    for i in range(4):
        await post(client, slug, author, f"Comment {i} {uuid.uuid4().hex}: " + "We talked at dinner again and I "
                   "listened more than I spoke, which felt strange but kind. " * 6)
    return slug


async def raw(client: httpx.AsyncClient, path: str, headers: dict[str, str],
              params: dict[str, str] | None = None) -> tuple[httpx.Response, bytes]:
    """The answer and its body as sent (httpx would decode a gzip body)."""
    async with client.stream("GET", path, headers=headers, params=params) as r:
        return r, b"".join([chunk async for chunk in r.aiter_raw()])


async def test_public_page_is_sent_compressed_to_clients_that_accept_it(client: httpx.AsyncClient, app: Any) -> None:
    slug = await big_thread(client)
    path = f"/api/topics/{slug}/comments"
    plain, plain_body = await raw(client, path, PLAIN)
    assert "content-encoding" not in plain.headers and len(plain_body) > cache.GZIP_MIN_BYTES
    fast, fast_body = await raw(client, path, GZIP)
    slow, slow_body = await raw(client, path, GZIP, params=HANDLER)
    assert fast.status_code == slow.status_code == 200
    assert fast.headers["content-encoding"] == "gzip"
    assert fast.headers["vary"] == plain.headers["vary"] == "Authorization, Accept-Encoding"
    assert fast.headers["etag"] == plain.headers["etag"]  # a weak ETag: the same page either way
    assert int(fast.headers["content-length"]) == len(fast_body) < len(plain_body) / 2
    assert gzip.decompress(fast_body) == plain_body
    # the shortcut and the handler send the same bytes: the ones cached with the page
    assert fast_body == slow_body and same_headers(fast, slow), (fast.headers, slow.headers)
    entry = lifecycle.page_cache(app).candidate((slug, "oldest", 50, None, None))
    assert entry is not None and entry.gzip == fast_body and entry.body == plain_body
    # a conditional read answers 304 with the same headers, and no body
    again = await client.get(path, headers={**GZIP, "If-None-Match": fast.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["vary"] == fast.headers["vary"]


async def test_the_compressed_page_follows_the_thread(client: httpx.AsyncClient, app: Any) -> None:
    """A new comment makes a new page and a new compressed page; a relabelled page (a write
    elsewhere in the topic) keeps the compressed bytes it had."""
    slug = await big_thread(client)
    path = f"/api/topics/{slug}/comments"
    _, first = await raw(client, path, GZIP, params={"limit": "2"})
    author = await make_user("coach")
    new = await post(client, slug, author, "A fifth comment, on the third page of two.")
    r, second = await raw(client, path, GZIP, params={"limit": "2"})  # relabelled: the same two roots
    assert r.headers["content-encoding"] == "gzip" and second == first
    assert lifecycle.page_cache(app).relabelled >= 1
    assert new["id"] not in {c["id"] for c in (await client.get(path, params={"limit": "2"})).json()["items"]}
    _, newest = await raw(client, path, GZIP, params={"sort": "newest", "limit": "2"})
    assert b"A fifth comment" in gzip.decompress(newest)


@pytest.mark.parametrize(("accept", "compressed"), [
    (None, False), ("identity", False), ("br, zstd", False), ("gzip;q=0", False), ("gzip; q=0.0, br", False),
    ("*;q=0", False), ("*", True), ("GZip;Q=0.5", True), ("x-gzip", True), ("br;q=1.0, gzip;q=0.8", True),
    ("*, gzip;q=0", False), ("gzip;q=oops", False),
])
async def test_accept_encoding_is_read_as_rfc_9110_says(client: httpx.AsyncClient, accept: str | None,
                                                        compressed: bool) -> None:
    slug = await big_thread(client)
    headers = {"Accept-Encoding": accept} if accept is not None else {"Accept-Encoding": ""}
    r, body = await raw(client, f"/api/topics/{slug}/comments", headers)
    assert r.status_code == 200
    assert (r.headers.get("content-encoding") == "gzip") is compressed
    assert body.startswith(b"\x1f\x8b") is compressed


async def test_signed_in_readers_and_small_pages_are_sent_as_they_are(client: httpx.AsyncClient) -> None:
    slug = await big_thread(client)
    path = f"/api/topics/{slug}/comments"
    reader, coach = await make_user("reader"), await make_user("coach")
    for who in (reader, coach):  # their pages carry their own marks: not the shared bytes
        r, body = await raw(client, path, {**GZIP, **who.headers})
        assert r.status_code == 200 and "content-encoding" not in r.headers
        assert r.headers["vary"] == "Authorization, Accept-Encoding"
        assert body.startswith(b'{"items":[')
    small = await make_topic(client, coach)
    await post(client, small, coach, "Short.")
    r, body = await raw(client, f"/api/topics/{small}/comments", GZIP)
    assert "content-encoding" not in r.headers and len(body) < cache.GZIP_MIN_BYTES


def test_the_cache_counts_the_compressed_bytes_too() -> None:
    body = b"x" * 4000
    entry = Entry(1, 1, 1, body, gzip=cache.compressed(body))
    assert entry.gzip is not None and entry.size == len(body) + len(entry.gzip)
    pages = PageCache(max_entries=10, max_bytes=entry.size * 2)
    pages.put(("a", "oldest", 50, None, None), entry)
    pages.put(("b", "oldest", 50, None, None), entry)
    assert len(pages) == 2
    pages.put(("c", "oldest", 50, None, None), entry)  # over the bound by the compressed bytes: the oldest goes
    assert len(pages) == 2 and pages.candidate(("a", "oldest", 50, None, None)) is None
    assert cache.compressed(b"{}") is None  # too small to gain
