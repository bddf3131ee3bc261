"""Topics: blog articles (coach+) and discussions (any active user, moderated like comments)."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from forum import events, pagination, sql
from forum.auth import Viewer
from forum.comments.validation import clean_line
from forum.errors import BadRequest, Conflict, Forbidden, NotFound
from forum.markup import render
from forum.timefmt import rfc3339_or_none
from forum.topics.urls import URL_MAX, InvalidUrl, canonical_url, looks_like_url
from moderation import audit, policy

KINDS = ("article", "discussion")
MODES = ("open", "premoderated", "closed")
TITLE_MAX = 300
BODY_MAX = 60_000
SLUG_MAX = 120
_SLUG_OK = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Slugs that name routes beside /api/topics/{slug} (GET /api/topics/by-url): never a topic's.
RESERVED_SLUGS = frozenset({"by-url"})
COUNTS_MAX = 100  # topics per comment-count request

COLUMNS = """t.id, t.slug, t.kind, t.title, t.url, t.body_html, t.author, u.handle AS author_handle,
    u.role AS author_role, t.comments_mode, t.comment_count, t.status, t.created_at, t.updated_at"""
FROM = "topic t LEFT JOIN forum_user u ON u.id = t.author"


def iso(value: datetime | None) -> str | None:
    return rfc3339_or_none(value)  # the one wire format (forum/timefmt.py)


def to_json(row: Mapping[str, Any]) -> dict[str, Any]:
    author = None
    if row["author"] is not None and row["author_handle"] is not None:
        author = {"id": row["author"], "handle": row["author_handle"], "role": row["author_role"]}
    return {
        "id": row["id"], "slug": row["slug"], "kind": row["kind"], "title": row["title"], "url": row["url"],
        "body_html": row["body_html"], "author": author, "comments": row["comments_mode"],
        "comment_count": row["comment_count"], "status": row["status"],
        "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"]),
    }


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:80].rstrip("-") or "topic"


def clean_title(title: str) -> str:
    return clean_line(title, "title", TITLE_MAX)


def clean_topic_body(body: str, *, required: bool) -> str:
    text = body.replace("\x00", "").strip()
    if required and not text:
        raise BadRequest("body: must not be empty")
    if len(text) > BODY_MAX:
        raise BadRequest(f"body: at most {BODY_MAX} characters")
    return text


def clean_url(url: str | None) -> str | None:
    """The canonical form (forum/topics/urls.py) of a topic's address; None for none."""
    if url is None or not url.strip():
        return None
    try:
        return canonical_url(url)
    except InvalidUrl as exc:
        raise BadRequest(f"url: must be an http(s) address of at most {URL_MAX} characters ({exc})") from None


def clean_mode(mode: str) -> str:
    if mode not in MODES:
        raise BadRequest("comments: must be open, premoderated or closed")
    return mode


def visible(row: Mapping[str, Any], viewer: Viewer | None) -> bool:
    if row["status"] == "published":
        return True
    if viewer is None:
        return False
    return viewer.is_moderator or (row["status"] == "pending" and row["author"] == viewer.id)


async def get_topic(slug: str, viewer: Viewer | None) -> dict[str, Any]:
    row = await sql.fetchrow(f"SELECT {COLUMNS} FROM {FROM} WHERE t.slug = $1", slug)
    if row is None or not visible(row, viewer):
        raise NotFound("No such topic.")
    return to_json(row)


async def resolve_urls(canonicals: list[str]) -> dict[str, int]:
    """The one lookup of topics by address: canonical address -> topic id, for the addresses
    that name a topic, by its own `url` or by an alias (`topic_alias`: the address of a topic
    merged into it). Every lookup by address (by-url GET and POST, counts) goes through it."""
    if not canonicals:
        return {}
    rows = await sql.fetch(
        "SELECT url, id FROM topic WHERE url = ANY($1::text[])"
        " UNION ALL SELECT url, topic AS id FROM topic_alias WHERE url = ANY($1::text[])",
        sorted(set(canonicals)))
    found: dict[str, int] = {}
    for row in rows:
        found.setdefault(row["url"], row["id"])  # a topic's own address first
    return found


async def topic_by_url(canonical: str, viewer: Viewer | None) -> dict[str, Any] | None:
    """The topic an address (canonical form) names, if the viewer may see it."""
    topic_id = (await resolve_urls([canonical])).get(canonical)
    if topic_id is None:
        return None
    row = await sql.fetchrow(f"SELECT {COLUMNS} FROM {FROM} WHERE t.id = $1", topic_id)
    if row is None or not visible(row, viewer):
        return None
    return to_json(row)


def required_url(url: str) -> str:
    canonical = clean_url(url)
    if canonical is None:
        raise BadRequest("url: must be an http(s) address")
    return canonical


async def get_topic_by_url(url: str, viewer: Viewer | None) -> dict[str, Any]:
    """The topic of an article's address, compared in canonical form; the same 404 as an
    unknown slug when there is none (or the viewer may not see it)."""
    topic = await topic_by_url(required_url(url), viewer)
    if topic is None:
        raise NotFound("No such topic.")
    return topic


async def comment_counts(refs: list[str]) -> dict[str, int]:
    """Public comment counts (published, not private: `topic.comment_count`) of published
    topics named by slug or by address (an alias too), keyed as given. Unknown ones,
    addresses that are not addresses, and topics the public cannot see count 0; nothing is
    created."""
    if len(refs) > COUNTS_MAX:
        raise BadRequest(f"topics: at most {COUNTS_MAX} per request (got {len(refs)})")
    slugs: dict[str, str] = {}
    urls: dict[str, str] = {}
    for ref in refs:
        ref_clean = ref.strip()
        if looks_like_url(ref_clean):
            try:
                urls[ref] = canonical_url(ref_clean)
            except InvalidUrl:
                continue
        elif ref_clean:
            slugs[ref] = ref_clean.lower()
    ids = await resolve_urls(list(urls.values()))
    by_slug: dict[str, int] = {}
    by_id: dict[int, int] = {}
    if slugs or ids:
        rows = await sql.fetch(
            "SELECT id, slug, comment_count FROM topic"
            " WHERE status = 'published' AND (slug = ANY($1::text[]) OR id = ANY($2::int[]))",
            sorted(set(slugs.values())), sorted(set(ids.values())))
        for row in rows:
            by_slug[row["slug"]] = by_id[row["id"]] = row["comment_count"]
    counts = {ref: 0 for ref in refs}
    for ref, slug in slugs.items():
        counts[ref] = by_slug.get(slug, 0)
    for ref, url in urls.items():
        topic_id = ids.get(url)
        counts[ref] = by_id.get(topic_id, 0) if topic_id is not None else 0
    return counts


async def list_topics(kind: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    if kind is not None and kind not in KINDS:
        raise BadRequest("kind: must be article or discussion")
    position = pagination.decode_cursor("topics", cursor)
    args: list[Any] = []
    where = ["t.status = 'published'"]
    if kind is not None:
        args.append(kind)
        where.append(f"t.kind = ${len(args)}")
    if position is not None:
        try:
            args += [datetime.fromisoformat(position["t"]), int(position["i"])]
        except (KeyError, TypeError, ValueError):
            raise BadRequest("cursor: malformed cursor") from None
        where.append(f"(t.created_at, t.id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit + 1)
    rows = await sql.fetch(f"SELECT {COLUMNS} FROM {FROM} WHERE {' AND '.join(where)}"
                           f" ORDER BY t.created_at DESC, t.id DESC LIMIT ${len(args)}", *args)
    rows, more = pagination.page(rows, limit)
    next_cursor = None
    if more:
        next_cursor = pagination.encode_cursor("topics", {"t": rows[-1]["created_at"].isoformat(),
                                                          "i": rows[-1]["id"]})
    return {"items": [to_json(r) for r in rows], "next_cursor": next_cursor}


async def insert_topic(values: dict[str, Any], slug: str, generated: bool) -> int:
    """Insert with `slug`; a generated slug that is taken gets a random suffix."""
    for attempt in range(6):
        candidate = slug if attempt == 0 else f"{slug[:SLUG_MAX - 7]}-{secrets.token_hex(3)}"
        if candidate in RESERVED_SLUGS:
            continue
        try:
            async with sql.transaction():  # a savepoint: a unique violation must not spoil the caller's
                return int(await sql.fetchval(
                    """INSERT INTO topic (slug, kind, title, url, body, body_html, author, comments_mode, status,
                                          origin, comment_count, version, created_at, updated_at)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 1, clock_timestamp(), clock_timestamp())
                       RETURNING id""",
                    candidate, values["kind"], values["title"], values["url"], values["body"], values["body_html"],
                    values["author"], values["comments_mode"], values["status"], values.get("origin")))
        except asyncpg.UniqueViolationError as exc:
            if "url" in (exc.constraint_name or ""):
                raise Conflict("url: another topic already has this address") from None
            if not generated:
                raise Conflict("slug: another topic already has this slug") from None
    raise Conflict("slug: could not find a free slug; give one")


async def create_topic(*, kind: str, title: str, body: str, slug: str | None, url: str | None, comments: str,
                       viewer: Viewer, client_ip: str) -> dict[str, Any]:
    if kind not in KINDS:
        raise BadRequest("kind: must be article or discussion")
    if kind == "article" and not viewer.is_coach:
        raise Forbidden("Only coaches, moderators and admins may publish articles.")
    title = clean_title(title)
    text = clean_topic_body(body, required=kind == "discussion")
    mode = clean_mode(comments)
    url = clean_url(url)
    if slug is not None:
        slug = slug.strip().lower()
        if not _SLUG_OK.match(slug) or len(slug) > SLUG_MAX:
            raise BadRequest(f"slug: lower-case letters, digits and single dashes, at most {SLUG_MAX} characters")
        if slug in RESERVED_SLUGS:
            raise BadRequest(f"slug: {slug!r} is reserved; choose another")
    verdict = None
    if kind == "discussion":  # the policy's limits first, then the render (off the event loop)
        verdict = await policy.evaluate(policy.Draft(
            author=viewer, guest_name=None, body=text, body_html=None, target="topic",
            # the mode governs the discussion's comments, not the discussion itself
            topic_mode="open",
            client_ip=client_ip, kind="discussion", title=title))
        html = verdict.body_html
    else:  # an article: coaches and staff only
        html = await render(text) if text else ""
    values = {"kind": kind, "title": title, "url": url, "body": text, "body_html": html, "author": viewer.id,
              "comments_mode": mode, "status": verdict.status if verdict else "published"}
    topic_id = await insert_topic(values, slug or slugify(title), generated=slug is None)
    if verdict is not None:
        await policy.record(verdict, topic_id=topic_id)
    row = await sql.fetchrow(f"SELECT {COLUMNS} FROM {FROM} WHERE t.id = $1", topic_id)
    if row is None:
        raise RuntimeError("unexpected: no row")
    result = to_json(row)
    if verdict is not None and verdict.support:
        result["support"] = verdict.support
    return result


async def update_topic(slug: str, changes: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    row = await sql.fetchrow(f"SELECT {COLUMNS} FROM {FROM} WHERE t.slug = $1 FOR UPDATE OF t", slug)
    if row is None or not visible(row, viewer):
        raise NotFound("No such topic.")
    if not (viewer.is_moderator or (row["author"] == viewer.id and viewer.is_coach)):
        raise Forbidden("Only the topic's author (a coach) or a moderator may change it.")
    reason = changes.pop("reason", None)
    sets: list[str] = []
    args: list[Any] = [row["id"]]

    def put(column: str, value: Any) -> None:
        args.append(value)
        sets.append(f"{column} = ${len(args)}")

    if changes.get("title") is not None:
        title = clean_title(changes["title"])
        await policy.evaluate_edit("", viewer, "", title=title)  # banned words, read as in a post
        put("title", title)
    if changes.get("body") is not None:
        text = clean_topic_body(changes["body"], required=row["kind"] == "discussion")
        html = await render(text) if text else ""
        await policy.evaluate_edit(text, viewer, html)
        put("body", text)
        put("body_html", html)
    if "url" in changes:
        put("url", clean_url(changes["url"]))
    if changes.get("comments") is not None:
        put("comments_mode", clean_mode(changes["comments"]))
    if sets:
        try:
            async with sql.transaction():
                await sql.execute(f"UPDATE topic SET {', '.join(sets)}, updated_at = clock_timestamp()"
                                  " WHERE id = $1", *args)
        except asyncpg.UniqueViolationError:
            raise Conflict("url: another topic already has this address") from None
        await events.topic_changed(row["id"], kind=events.CHANGE)
        details: dict[str, Any] = {"fields": sorted(k for k, v in changes.items() if v is not None or k == "url")}
        if changes.get("comments") is not None:  # locking or closing: a code, not text
            details["comments"] = {"before": row["comments_mode"], "after": changes["comments"]}
        await audit.staff_action(viewer.id, row["author"], "topic_update", "topic", row["id"], reason, details)
    updated = await sql.fetchrow(f"SELECT {COLUMNS} FROM {FROM} WHERE t.id = $1", row["id"])
    if updated is None:
        raise RuntimeError("unexpected: no updated")
    return to_json(updated)
