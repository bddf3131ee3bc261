"""The Atom document of one topic's thread (feedgen): its newest published, public comments."""

from __future__ import annotations

import re
from typing import Any

from feedgen.feed import FeedGenerator

from forum import sql
from forum.errors import NotFound

FEED_ENTRIES = 50
# What XML 1.0 cannot carry (lxml refuses it: a 500 instead of a feed): control characters
# other than tab, newline and return, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)

# Published, public comments whose every ancestor the public sees (published, or a deleted
# tombstone): the same comments the thread shows an anonymous reader.
_COMMENTS = """
WITH RECURSIVE shown AS (
    SELECT id FROM comment
     WHERE topic = $1 AND parent IS NULL AND status IN ('published', 'deleted') AND NOT private
    UNION ALL
    SELECT c.id FROM comment c JOIN shown s ON c.parent = s.id
     WHERE c.status IN ('published', 'deleted') AND NOT c.private
)
SELECT c.id, c.guest_name, c.author_badge, c.body_html, c.created_at, c.edited_at, u.handle
  FROM comment c JOIN shown s ON s.id = c.id LEFT JOIN forum_user u ON u.id = c.author
 WHERE c.status = 'published'
 ORDER BY c.created_at DESC, c.id DESC
 LIMIT $2
"""


async def thread_feed(slug: str, public_url: str) -> bytes:
    """The feed of a published topic; 404 (as for an unknown slug) for any other."""
    topic = await sql.fetchrow(
        "SELECT id, slug, title, url, created_at, updated_at FROM topic WHERE slug = $1 AND status = 'published'",
        slug)
    if topic is None:
        raise NotFound("No such topic.")
    rows = await sql.fetch(_COMMENTS, topic["id"], FEED_ENTRIES)
    self_url = f"{public_url}/api/topics/{topic['slug']}/feed.atom"
    page = topic["url"] or self_url
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(_xml(f"Comments on {topic['title']}"))
    feed.link(href=page, rel="alternate")
    feed.link(href=self_url, rel="self")
    feed.language("en")
    latest = max([topic["updated_at"], *[r["edited_at"] or r["created_at"] for r in rows]])
    feed.updated(latest)
    for row in reversed(rows):  # feedgen puts the last added entry first
        entry = feed.add_entry()
        name = _xml(_name(row))
        entry.id(f"{public_url}/api/comments/{row['id']}")
        entry.title(_xml(f"{name} on {topic['title']}"))
        entry.author({"name": name})
        entry.link(href=f"{page}#comment-{row['id']}", rel="alternate")
        entry.content(_xml(row["body_html"]), type="html")
        entry.published(row["created_at"])
        entry.updated(row["edited_at"] or row["created_at"])
    return bytes(feed.atom_str(pretty=False))


def _name(row: Any) -> str:
    if row["handle"]:
        return str(row["handle"])
    if row["guest_name"]:
        return f"{row['guest_name']} (guest)"
    return "A former member"
