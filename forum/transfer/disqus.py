"""Disqus export (XML) -> `Source`: threads with comments and their posts.

A thread becomes an `article` topic (its link as `url`, so a topic already imported from
WordPress with the same link receives the comments); each post a comment under its
parent. Deleted and spam posts are skipped; posts marked not approved wait in the
moderation queue. Authors become guests under their name; emails and IPs are not read.
Threads without any importable post are not imported (Disqus lists every page it saw).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element

from forum.errors import BadRequest
from forum.markup import sanitize_html
from forum.transfer.model import (
    TITLE_MAX,
    Source,
    SourceComment,
    SourceTopic,
    clean_text,
    clean_url,
    guest_name,
    paragraphs,
    parse_datetime,
    slugify,
)
from forum.transfer.xmlread import child, children, local, read_xml, text

DSQ = "http://disqus.com/disqus-internals"
DSQ_ID = "{" + DSQ + "}id"


def _true(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


def _dsq_id(el: Element | None) -> str:
    if el is None:
        return ""
    return (el.get(DSQ_ID) or el.get("id") or "").strip()


def read_disqus(path: Path) -> Source:
    root = read_xml(path, "Disqus export")
    if local(root.tag) != "disqus":
        raise BadRequest(f"{path.name} is not a Disqus export: expected <disqus>, found <{local(root.tag)}>."
                         " Nothing was imported.")
    source = Source(system="disqus")
    now = datetime.now(UTC)
    threads: dict[str, SourceTopic] = {}
    deleted_threads: set[str] = set()
    for n, el in enumerate(children(root, "thread"), start=1):
        thread_id = _dsq_id(el)
        if not thread_id:
            raise BadRequest(f"{path.name}: thread {n} has no dsq:id. Nothing was imported.")
        if _true(text(el, "isDeleted")):
            deleted_threads.add(thread_id)
            continue
        link = text(el, "link")
        title = clean_text(text(el, "title"))[:TITLE_MAX] or f"Thread {thread_id}"
        path_part = unquote(urlsplit(link.strip()).path.rstrip("/").rsplit("/", 1)[-1]) if link else ""
        threads[thread_id] = SourceTopic(
            external_id=thread_id,
            slug=slugify(path_part) or slugify(title) or f"disqus-{thread_id}",
            title=title,
            url=clean_url(link),
            body_html=sanitize_html(paragraphs(text(el, "message"))),
            created_at=parse_datetime(text(el, "createdAt"), field_name=f"thread {thread_id} createdAt") or now,
        )
    with_posts: Counter[str] = Counter()
    for n, el in enumerate(children(root, "post"), start=1):
        post_id = _dsq_id(el)
        if not post_id:
            raise BadRequest(f"{path.name}: post {n} has no dsq:id. Nothing was imported.")
        thread_id = _dsq_id(child(el, "thread"))
        if not thread_id:
            raise BadRequest(f"{path.name}: post {post_id} names no thread. Nothing was imported.")
        parent = _dsq_id(child(el, "parent")) or None
        body = sanitize_html(paragraphs(text(el, "message")))
        author = child(el, "author")
        name = text(author, "name") if author is not None else ""
        if not clean_text(name) and author is not None:
            name = text(author, "username")
        skip: str | None = None
        if _true(text(el, "isSpam")):
            skip = "spam"
        elif _true(text(el, "isDeleted")):
            skip = "deleted"
        elif thread_id in deleted_threads:
            skip = "thread deleted"
        elif thread_id not in threads:
            raise BadRequest(f"{path.name}: post {post_id} belongs to thread {thread_id}, which the file"
                             " does not contain. Nothing was imported.")
        elif not body:
            skip = "empty"
        approved = text(el, "isApproved")
        status = "pending" if approved.strip() and not _true(approved) else "published"
        created = parse_datetime(text(el, "createdAt"), field_name=f"post {post_id} createdAt")
        if skip is None:
            with_posts[thread_id] += 1
        source.comments.append(SourceComment(
            external_id=post_id,
            topic_external_id=thread_id,
            parent_external_id=parent,
            status=status,
            guest_name=guest_name(name),
            body_html=body,
            created_at=created or (threads[thread_id].created_at if thread_id in threads else now),
            skip_reason=skip,
        ))
    for thread_id, topic in threads.items():
        if with_posts[thread_id]:
            source.topics.append(topic)
        else:
            source.skipped_topics["thread without comments"] += 1
    source.skipped_topics["thread deleted"] += len(deleted_threads)
    if not source.skipped_topics["thread deleted"]:
        del source.skipped_topics["thread deleted"]
    return source
