"""WordPress export (WXR 1.0-1.2) -> `Source`: published posts and their comments.

Posts (`wp:post_type` post, `wp:status` publish) become `article` topics; comments keep
their threading (`wp:comment_parent`), date (GMT) and status (approved -> published,
hold -> pending; spam and trash skipped; pingbacks and trackbacks skipped). Authors
become guests under their display name; emails, IPs and user agents are not read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote
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

WP = "http://wordpress.org/export/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
STATUS = {"1": "published", "approve": "published", "approved": "published",
          "0": "pending", "hold": "pending", "unapproved": "pending"}


def read_wordpress(path: Path) -> Source:
    root = read_xml(path, "WordPress export (WXR)")
    channel = child(root, "channel")
    if local(root.tag) != "rss" or channel is None:
        raise BadRequest(f"{path.name} is not a WordPress export: expected <rss><channel>, found <{local(root.tag)}>."
                         " Nothing was imported.")
    if not any(el.tag.startswith("{" + WP) for el in channel.iter() if isinstance(el.tag, str)):
        raise BadRequest(f"{path.name} has no WordPress (wp:) elements: is it a WXR export? Nothing was imported.")
    source = Source(system="wordpress")
    now = datetime.now(UTC)
    for n, item in enumerate(children(channel, "item"), start=1):
        where = f"item {n}"
        post_id = text(item, "post_id", WP).strip()
        if not post_id:
            raise BadRequest(f"{path.name}: {where} has no wp:post_id. Nothing was imported.")
        post_type = text(item, "post_type", WP).strip() or "post"
        status = text(item, "status", WP).strip()
        if post_type != "post":
            source.skipped_topics[f"not a post ({post_type})"] += 1
            continue
        if status != "publish":
            source.skipped_topics[f"post not published ({status or 'no status'})"] += 1
            continue
        title = clean_text(text(item, "title"))[:TITLE_MAX] or f"Post {post_id}"
        created = (parse_datetime(text(item, "post_date_gmt", WP), field_name=f"{where} wp:post_date_gmt")
                   or parse_datetime(text(item, "post_date", WP), field_name=f"{where} wp:post_date")
                   or parse_datetime(text(item, "pubDate"), field_name=f"{where} pubDate") or now)
        slug = slugify(unquote(text(item, "post_name", WP))) or slugify(title) or f"wp-{post_id}"
        source.topics.append(SourceTopic(
            external_id=post_id, slug=slug, title=title, url=clean_url(text(item, "link")),
            body_html=sanitize_html(paragraphs(text(item, "encoded", CONTENT))), created_at=created))
        for m, el in enumerate(children(item, "comment", WP), start=1):
            source.comments.append(_comment(el, post_id, created, f"{where} comment {m}"))
    return source


def _comment(el: Element, post_id: str, post_date: datetime, where: str) -> SourceComment:
    comment_id = text(el, "comment_id", WP).strip()
    if not comment_id:
        raise BadRequest(f"{where} has no wp:comment_id. Nothing was imported.")
    parent = text(el, "comment_parent", WP).strip()
    approved = text(el, "comment_approved", WP).strip().lower()
    kind = text(el, "comment_type", WP).strip().lower()
    created = (parse_datetime(text(el, "comment_date_gmt", WP), field_name=f"{where} wp:comment_date_gmt")
               or parse_datetime(text(el, "comment_date", WP), field_name=f"{where} wp:comment_date")
               or post_date)
    body = sanitize_html(paragraphs(text(el, "comment_content", WP)))
    skip: str | None = None
    if kind in ("pingback", "trackback"):
        skip = kind
    elif approved in ("spam", "trash", "post-trashed"):
        skip = "spam" if approved == "spam" else "trash"
    elif approved not in STATUS:
        skip = f"unknown status ({approved or 'none'})"
    elif not body:
        skip = "empty"
    return SourceComment(
        external_id=f"{post_id}:{comment_id}",
        topic_external_id=post_id,
        parent_external_id=f"{post_id}:{parent}" if parent and parent != "0" else None,
        status=STATUS.get(approved, "pending"),
        guest_name=guest_name(text(el, "comment_author", WP)),
        body_html=body,
        created_at=created,
        skip_reason=skip,
    )
