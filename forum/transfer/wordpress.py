"""WordPress export (WXR 1.0-1.2) -> `Source`s: published posts and their comments.

Posts (`wp:post_type` post, `wp:status` publish) become `article` topics; comments keep
their threading (`wp:comment_parent`), date (GMT) and status (approved -> published,
hold -> pending; spam and trash skipped; pingbacks and trackbacks skipped). Authors
become guests under their display name; emails, IPs and user agents are not read.

The file is read as a stream (`iter_xml`): each `<item>` is handed over as soon as it
ends, as one `Source` holding that post and its comments, and then dropped, so memory
holds one post's comments at a time, not the file. Bodies are handed over as written
(`raw_html`): the importer cleans them, on several cores for a large file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from forum.errors import BadRequest
from forum.transfer.model import (
    TITLE_MAX,
    Source,
    SourceComment,
    SourceTopic,
    clean_text,
    clean_url,
    guest_name,
    parse_datetime,
    slugify,
)
from forum.transfer.xmlread import iter_xml, local, text

WP = "http://wordpress.org/export/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
STATUS = {"1": "published", "approve": "published", "approved": "published",
          "0": "pending", "hold": "pending", "unapproved": "pending"}
_WP_TAG = "{" + WP


def read_wordpress(path: Path, advance: Callable[[int], None] | None = None) -> Iterator[Source]:
    """One `Source` per `<item>`, in file order: a published post with its comments, or
    only the reason it was skipped. `advance(n)`: n more bytes of the file were read."""
    # Where we are comes from the events alone: the parser builds the tree ahead of the
    # events it has delivered, so an element's place in the tree says nothing about them.
    depth = 0
    root: Element | None = None
    channel: Element | None = None
    in_channel = in_item = wp_seen = False
    comments: list[dict[str, str]] = []  # the wp:comment fields of the current item
    items = 0
    now = datetime.now(UTC)
    for event, el in iter_xml(path, "WordPress export (WXR)", ("start", "end"), advance):
        if event == "start":
            depth += 1
            if depth == 1:
                root = el
                if local(el.tag) != "rss":
                    raise BadRequest(f"{path.name} is not a WordPress export: expected <rss><channel>, found"
                                     f" <{local(el.tag)}>. Nothing was imported.")
            elif depth == 2 and channel is None and local(el.tag) == "channel":
                channel, in_channel = el, True
            elif depth == 3 and in_channel and local(el.tag) == "item":
                in_item, comments = True, []
            if in_channel and not wp_seen and el.tag.startswith(_WP_TAG):
                wp_seen = True
            continue
        depth -= 1
        if not in_channel:
            continue
        if depth == 3 and in_item and el.tag.startswith(_WP_TAG) and el.tag.endswith("}comment"):
            comments.append(_fields(el))
            el.clear()  # its text is copied: free it now, the item may hold thousands
        elif depth == 2 and channel is not None:
            # A child of the channel ended: drop it once read (items, and the authors,
            # categories and terms, which the import does not use).
            if in_item:
                in_item = False
                items += 1
                yield _item(path, el, comments, f"item {items}", now)
                comments = []
            channel.remove(el)
        elif depth == 1:
            in_channel = False
    if channel is None:
        found = local(root.tag) if root is not None else "nothing"
        raise BadRequest(f"{path.name} is not a WordPress export: expected <rss><channel>, found <{found}>."
                         " Nothing was imported.")
    if not wp_seen:
        raise BadRequest(f"{path.name} has no WordPress (wp:) elements: is it a WXR export? Nothing was imported.")


def _fields(el: Element) -> dict[str, str]:
    """The first value of each wp: child (what `text(el, name, WP)` would read)."""
    out: dict[str, str] = {}
    for c in el:
        tag = c.tag
        if isinstance(tag, str) and tag.startswith(_WP_TAG):
            name = tag.rsplit("}", 1)[-1]
            if name not in out:
                out[name] = c.text or ""
    return out


def _item(path: Path, item: Element, comments: list[dict[str, str]], where: str, now: datetime) -> Source:
    source = Source(system="wordpress")
    post_id = text(item, "post_id", WP).strip()
    if not post_id:
        raise BadRequest(f"{path.name}: {where} has no wp:post_id. Nothing was imported.")
    post_type = text(item, "post_type", WP).strip() or "post"
    status = text(item, "status", WP).strip()
    if post_type != "post":
        source.skipped_topics[f"not a post ({post_type})"] += 1
        return source
    if status != "publish":
        source.skipped_topics[f"post not published ({status or 'no status'})"] += 1
        return source
    title = clean_text(text(item, "title"))[:TITLE_MAX] or f"Post {post_id}"
    created = (parse_datetime(text(item, "post_date_gmt", WP), field_name=f"{where} wp:post_date_gmt")
               or parse_datetime(text(item, "post_date", WP), field_name=f"{where} wp:post_date")
               or parse_datetime(text(item, "pubDate"), field_name=f"{where} pubDate") or now)
    slug = slugify(unquote(text(item, "post_name", WP))) or slugify(title) or f"wp-{post_id}"
    source.topics.append(SourceTopic(
        external_id=post_id, slug=slug, title=title, url=clean_url(text(item, "link")),
        body_html="", raw_html=text(item, "encoded", CONTENT), created_at=created))
    for m, fields in enumerate(comments, start=1):
        source.comments.append(_comment(fields, post_id, created, f"{where} comment {m}"))
    return source


def _comment(f: dict[str, str], post_id: str, post_date: datetime, where: str) -> SourceComment:
    comment_id = f.get("comment_id", "").strip()
    if not comment_id:
        raise BadRequest(f"{where} has no wp:comment_id. Nothing was imported.")
    parent = f.get("comment_parent", "").strip()
    approved = f.get("comment_approved", "").strip().lower()
    kind = f.get("comment_type", "").strip().lower()
    created = (parse_datetime(f.get("comment_date_gmt"), field_name=f"{where} wp:comment_date_gmt")
               or parse_datetime(f.get("comment_date"), field_name=f"{where} wp:comment_date")
               or post_date)
    skip: str | None = None
    if kind in ("pingback", "trackback"):
        skip = kind
    elif approved in ("spam", "trash", "post-trashed"):
        skip = "spam" if approved == "spam" else "trash"
    elif approved not in STATUS:
        skip = f"unknown status ({approved or 'none'})"
    return SourceComment(
        external_id=f"{post_id}:{comment_id}",
        topic_external_id=post_id,
        parent_external_id=f"{post_id}:{parent}" if parent and parent != "0" else None,
        status=STATUS.get(approved, "pending"),
        guest_name=guest_name(f.get("comment_author")),
        body_html="",
        created_at=created,
        skip_reason=skip,
        # A skipped comment is never cleaned or written: its text is not kept.
        raw_html=f.get("comment_content", "") if skip is None else None,
    )
