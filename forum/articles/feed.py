"""The blog feed sync: article topics for the entries of the blog's RSS or Atom feed.

For sites that would rather not rely on first sight: `forum sync-feed URL`, and the
periodic task behind FORUM_BLOG_FEED_URL (forum.articles.lifecycle). Idempotent: an
entry whose address (canonical form, aliases included) already has a thread is left
alone, so running it again creates nothing new.

The fetch reads only the URL it is given, directly (no proxy from the environment): a
timeout, at most `MAX_BYTES` read (streamed; a larger feed is refused, not cut), and
redirects followed only on the same host (scheme may change, http to https), at most
`MAX_REDIRECTS`. The parser is feedparser, given the bytes (it never fetches anything
itself). An entry is used only when its address is on the feed's own origin or one of
FORUM_EMBED_ORIGINS.
"""

from __future__ import annotations

import logging
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx

from forum import sql
from forum.articles import services
from forum.articles.schemas import SyncReport
from forum.errors import ContentRefused, DomainError
from forum.settings import Settings, origin_of
from forum.topics import services as topics
from forum.topics.urls import InvalidUrl, canonical_url
from moderation import policy

log = logging.getLogger("forum.articles")

TIMEOUT_S = 10.0
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 3
MAX_ENTRIES = 500  # a feed longer than this is read up to here
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"


class FeedError(DomainError):
    """The feed could not be fetched or read (the detail says why)."""

    status_code = 502


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


async def fetch_feed(url: str, *, timeout_s: float = TIMEOUT_S, max_bytes: int = MAX_BYTES,
                     max_redirects: int = MAX_REDIRECTS) -> tuple[str, bytes]:
    """(the address finally read, its body). FeedError on another host, too many redirects,
    a status other than 200, a body past `max_bytes`, or a network failure."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise FeedError("feed: the address must be http(s)")
    host = _host(url)
    current = url
    async with httpx.AsyncClient(follow_redirects=False, timeout=timeout_s, trust_env=False,
                                 headers={"Accept": ACCEPT, "User-Agent": "forum-feed-sync"}) as client:
        for _ in range(max_redirects + 1):
            try:
                async with client.stream("GET", current) as response:
                    if response.is_redirect:
                        target = urljoin(current, response.headers.get("location", ""))
                        if urlsplit(target).scheme.lower() not in ("http", "https") or _host(target) != host:
                            raise FeedError(f"feed: redirected to another host ({_host(target) or 'none'}); refused")
                        current = target
                        continue
                    if response.status_code != 200:
                        raise FeedError(f"feed: the server answered {response.status_code}")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise FeedError(f"feed: larger than {max_bytes} bytes; refused")
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > max_bytes:
                            raise FeedError(f"feed: larger than {max_bytes} bytes; refused")
                    return current, bytes(body)
            except httpx.HTTPError as exc:
                raise FeedError(f"feed: could not be fetched ({type(exc).__name__})") from None
    raise FeedError(f"feed: more than {max_redirects} redirects")


def parse_entries(body: bytes) -> list[tuple[str, str]]:
    """(link, title) of each entry, in the feed's order; FeedError when it is not a feed."""
    parsed = feedparser.parse(body, sanitize_html=True, resolve_relative_uris=True)
    if not parsed.get("version") and not parsed.entries:  # feedparser names the format it recognised
        raise FeedError("feed: not an RSS or Atom feed")
    out: list[tuple[str, str]] = []
    for entry in parsed.entries[:MAX_ENTRIES]:
        link = entry.get("link") or ""
        if not link:
            link = next((ln.get("href", "") for ln in entry.get("links", []) if ln.get("rel") == "alternate"), "")
        out.append((str(link), str(entry.get("title") or "")))
    return out


async def sync_feed(url: str, settings: Settings) -> SyncReport:
    """Fetch the feed and create an article topic for each new entry (one transaction each)."""
    final_url, body = await fetch_feed(url)
    try:
        allowed = {origin_of(url), origin_of(final_url), *settings.embed_origins}
    except InvalidUrl:
        raise FeedError("feed: the address must be http(s)") from None
    created: list[str] = []
    existing = skipped = 0
    for link, title in parse_entries(body):
        try:
            canonical = canonical_url(urljoin(final_url, link)) if link else ""
        except InvalidUrl:
            canonical = ""
        if not canonical or origin_of(canonical) not in allowed:
            skipped += 1
            continue
        if (await topics.resolve_urls([canonical])).get(canonical) is not None:
            existing += 1
            continue
        try:
            async with sql.transaction():
                clean = services.article_title(title, canonical)
                await policy.evaluate_edit("", services.SYSTEM_VIEWER, "", title=clean)
                made = await services.create_article(canonical, clean, "feed", settings)
        except (ContentRefused, DomainError) as exc:
            log.warning("feed entry %s skipped: %s", canonical, exc.detail)
            skipped += 1
            continue
        if made.created:
            created.append(made.topic["slug"])
        else:
            existing += 1
    log.info("feed %s: %d created, %d existing, %d skipped", url, len(created), existing, skipped)
    return SyncReport(created=created, existing=existing, skipped=skipped)
