"""Article threads the service makes by itself, and the admin tools to tidy them.

- First sight (`first_sight`): the widget asks for the thread of a page's address; when
  none exists, the address's origin is one of FORUM_EMBED_ORIGINS and FORUM_AUTO_ARTICLES
  is on, an article topic is created for it (rate-limited per client address and per
  site). Anything else gets the same 404 as an unknown topic, so nothing tells an
  unlisted origin apart from an address without a thread.
- The feed sync (forum.articles.feed) creates the same topics from the blog's feed.
- The author of these topics is the site's system account (`system_author`): the one
  `forum_user` row with status `system`, its handle the site's name. A CHECK constraint
  keeps its password and email empty, so it can never sign in, be invited or reset; the
  account lists and role changes leave it out.
- Admin tools: merge one thread into another (`merge_topics`: its comments move, its
  address becomes an alias of the other, it stays as a tombstone) and delete an empty
  thread the service created (`delete_auto_topic`). Renaming is PATCH /api/topics/{slug}.
Every creation, merge and deletion is written to the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg

from forum import events, ratelimit, sql
from forum.auth import Viewer
from forum.errors import BadRequest, Conflict, NotFound
from forum.settings import Settings, origin_of
from forum.topics import services as topics
from forum.topics.services import COLUMNS, FROM, TITLE_MAX, clean_title, slugify, to_json
from moderation import audit, policy

ORIGINS = ("first_sight", "feed")  # topic.origin of the topics the service creates
DEFAULT_COMMENTS = "open"  # the site's default for a new topic (as POST /api/topics)
SYSTEM_HANDLE_MAX = 30  # forum_user.handle
# First-sight creations: per client address, and per site (the origin) for everyone.
PER_ADDRESS = (10, 3600)
PER_SITE = (100, 86400)
RATE_DETAIL = "Too many new threads; try again later."
NOT_FOUND = "No such topic."  # exactly the unknown topic's answer (forum.topics.services)

# The site acting by itself: policy checks take a viewer (it has no session, no powers).
SYSTEM_VIEWER = Viewer(id=-1, handle="system", role="reader", status="system", suspended_until=None, session_id=0)


@dataclass(frozen=True)
class Created:
    topic: dict[str, Any]
    created: bool  # False: the address already had a thread (found, or made by a concurrent request)


def creation_allowed(settings: Settings, canonical: str) -> bool:
    """Whether first sight may create a thread for this address (canonical form)."""
    return settings.auto_articles and origin_of(canonical) in settings.embed_origins


def title_from_url(canonical: str) -> str:
    """A readable title from the address's last path segment: `/2024/05/talking-to-teens.html`
    gives "Talking to teens"; the host when the path says nothing."""
    parts = urlsplit(canonical)
    segments = [s for s in parts.path.split("/") if s]
    words = ""
    for segment in reversed(segments):
        text = unquote(segment)
        text = re.sub(r"\.(html?|php|aspx?)$", "", text, flags=re.IGNORECASE)
        text = " ".join(re.sub(r"[-_+.]+", " ", text).split())
        if text and not text.isdigit():
            words = text
            break
    if not words:
        return parts.hostname or "Article"
    return words[:1].upper() + words[1:]


def article_title(title: str | None, canonical: str) -> str:
    """The title given (data-forum-title or the page's title), else one from the address;
    whitespace folded, cut to the title limit, then checked as any topic title."""
    text = " ".join((title or "").replace("\x00", "").split())
    if not text:
        text = title_from_url(canonical)
    if len(text) > TITLE_MAX:
        text = text[:TITLE_MAX - 1].rstrip() + "…"
    return clean_title(text)


def _system_handle(site_name: str) -> str:
    return " ".join(site_name.split())[:SYSTEM_HANDLE_MAX].strip() or "forum"


async def system_author(site_name: str) -> int:
    """The system account's id, made on first use. Its handle follows the site's name; when a
    person's account already holds that name, the system account has no handle (its topics
    then show no author) rather than borrowing theirs."""
    handle = _system_handle(site_name)
    row = await sql.fetchrow("SELECT id, handle FROM forum_user WHERE status = 'system'")
    if row is not None:
        if row["handle"] != handle:
            try:
                async with sql.transaction():
                    await sql.execute("UPDATE forum_user SET handle = $2 WHERE id = $1", row["id"], handle)
            except asyncpg.UniqueViolationError:
                pass  # a person has that name: keep the old one
        return int(row["id"])
    for candidate in (handle, None):
        # ON CONFLICT: a concurrent first use made it, or a person holds the handle
        made = await sql.fetchval(
            "INSERT INTO forum_user (handle, role, status, notify_email, created_at)"
            " VALUES ($1, 'reader', 'system', false, clock_timestamp()) ON CONFLICT DO NOTHING RETURNING id",
            candidate)
        if made is not None:
            return int(made)
        existing = await sql.fetchval("SELECT id FROM forum_user WHERE status = 'system'")
        if existing is not None:
            return int(existing)
    raise RuntimeError("unexpected: no system account")


async def create_article(canonical: str, title: str, origin: str, settings: Settings) -> Created:
    """An article topic for an address (canonical form) that has none, by the system
    author, audited; the existing topic when the address has one (a concurrent request
    may have made it a moment ago: the unique index on `topic.url` decides)."""
    existing = (await topics.resolve_urls([canonical])).get(canonical)
    if existing is None:
        author = await system_author(settings.site_name)
        values = {"kind": "article", "title": title, "url": canonical, "body": "", "body_html": "",
                  "author": author, "comments_mode": DEFAULT_COMMENTS, "status": "published", "origin": origin}
        try:
            topic_id = await topics.insert_topic(values, slugify(title), generated=True)
        except Conflict as exc:
            if not exc.detail.startswith("url"):
                raise
            existing = (await topics.resolve_urls([canonical])).get(canonical)
            if existing is None:
                raise
        else:
            await audit.write(None, "topic_auto_create", "topic", topic_id, None, {"url": canonical, "origin": origin})
            return Created(await _topic(topic_id), True)
    return Created(await _topic(existing), False)


async def _topic(topic_id: int) -> dict[str, Any]:
    row = await sql.fetchrow(f"SELECT {COLUMNS} FROM {FROM} WHERE t.id = $1", topic_id)
    if row is None:
        raise NotFound(NOT_FOUND)
    return to_json(row)


async def first_sight(url: str, title: str | None, viewer: Viewer | None, client_ip: str,
                      settings: Settings) -> Created:
    """The thread of a page's address, created when allowed (see the module's docstring)."""
    canonical = topics.required_url(url)
    found = await topics.topic_by_url(canonical, viewer)
    if found is not None:
        return Created(found, False)
    if not creation_allowed(settings, canonical):
        raise NotFound(NOT_FOUND)  # unlisted origin, or auto articles off
    if await topics.resolve_urls([canonical]):
        # made a moment ago by a concurrent first sight (then it is this page's thread), or a
        # topic the viewer may not see (a held discussion: never shadowed by a new one)
        found = await topics.topic_by_url(canonical, viewer)
        if found is None:
            raise NotFound(NOT_FOUND)
        return Created(found, False)
    await ratelimit.check(ratelimit.Window(f"article:ip:{client_ip}", *PER_ADDRESS, RATE_DETAIL),
                          ratelimit.Window(f"article:site:{origin_of(canonical)}", *PER_SITE, RATE_DETAIL))
    clean = article_title(title, canonical)
    await policy.evaluate_edit("", SYSTEM_VIEWER, "", title=clean)  # banned words: 422, as any title
    return await create_article(canonical, clean, "first_sight", settings)


# ---------------------------------------------------------------- admin tools


async def merge_topics(slug: str, into: str, admin: Viewer, reason: str | None) -> dict[str, Any]:
    """Move every comment of `slug` into `into` (threading kept: paths are made of comment
    ids), make `slug`'s address and aliases aliases of `into`, and leave `slug` as a
    tombstone (status `deleted`, `merged_into` set, no address). Both topics' versions are
    bumped, so their live readers and caches see the change. In the caller's transaction."""
    slug, into = slug.strip().lower(), into.strip().lower()
    if slug == into:
        raise BadRequest("into: a topic cannot be merged into itself")
    rows = await sql.fetch("SELECT id, slug, url, status, comment_count FROM topic WHERE slug = ANY($1::text[])"
                           " ORDER BY id FOR UPDATE", [slug, into])
    by_slug = {r["slug"]: r for r in rows}
    source, target = by_slug.get(slug), by_slug.get(into)
    if source is None or source["status"] == "deleted":
        raise NotFound(NOT_FOUND)
    if target is None or target["status"] == "deleted":
        raise NotFound("into: no such topic")
    moved = sql.rowcount(await sql.execute("UPDATE comment SET topic = $2 WHERE topic = $1",
                                           source["id"], target["id"]))
    await sql.execute("UPDATE moderation_item SET origin_topic = $2 WHERE origin_topic = $1",
                      source["id"], target["id"])
    await sql.execute("UPDATE topic_alias SET topic = $2 WHERE topic = $1", source["id"], target["id"])
    await sql.execute("UPDATE topic SET status = 'deleted', url = NULL, merged_into = $2, comment_count = 0,"
                      " updated_at = clock_timestamp() WHERE id = $1", source["id"], target["id"])
    if source["url"] is not None:
        await sql.execute("INSERT INTO topic_alias (url, topic, created_at) VALUES ($1, $2, clock_timestamp())"
                          " ON CONFLICT (url) DO UPDATE SET topic = EXCLUDED.topic", source["url"], target["id"])
    # tombstones merged into the source now point at the target
    await sql.execute("UPDATE topic SET merged_into = $2 WHERE merged_into = $1", source["id"], target["id"])
    # both rows are locked: the counts move here, not through the commit-time queue, so the
    # answer shows them; the version bumps and notifications still go through events
    await sql.execute("UPDATE topic SET comment_count = comment_count + $2, updated_at = clock_timestamp()"
                      " WHERE id = $1", target["id"], source["comment_count"])
    await events.topic_changed(source["id"], kind=events.CHANGE)
    await events.topic_changed(target["id"], kind=events.CHANGE)
    await audit.write(admin.id, "topic_merge", "topic", source["id"], (reason or "").strip() or None,
                      {"into": target["id"], "comments": moved, "url": source["url"]})
    return await _topic(target["id"])


async def delete_auto_topic(slug: str, admin: Viewer, reason: str | None) -> None:
    """Delete a thread the service created by itself (first sight or feed) that has no
    comment at all (none held, none deleted either); 409 otherwise."""
    row = await sql.fetchrow("SELECT id, url, status, origin FROM topic WHERE slug = $1 FOR UPDATE",
                             slug.strip().lower())
    if row is None or row["status"] == "deleted":
        raise NotFound(NOT_FOUND)
    if row["origin"] not in ORIGINS:
        raise Conflict("Only a thread created by itself (on first sight or from the feed) can be deleted;"
                       " a person's topic stays.")
    if await sql.fetchval("SELECT EXISTS (SELECT 1 FROM comment WHERE topic = $1)", row["id"]):
        raise Conflict("The thread has comments: merge it into another one instead.")
    await audit.write(admin.id, "topic_delete", "topic", row["id"], (reason or "").strip() or None,
                      {"url": row["url"], "origin": row["origin"]})
    await sql.execute("DELETE FROM topic WHERE id = $1", row["id"])
