"""What the WordPress and Disqus readers hand to the writer, and the import report.

A reader may hand over bodies as the file has them (`raw_html`, the WordPress reader
does, so that cleaning can run in worker processes); the importer cleans them
(`clean_body`: paragraphs, then the sanitizer) before anything is written, and the
writer refuses a body that was not cleaned."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from forum.errors import BadRequest
from forum.topics.urls import InvalidUrl, canonical_url

GUEST_NAME_MAX = 40
TITLE_MAX = 300
SLUG_MAX = 200
URL_MAX = 2000


@dataclass
class SourceTopic:
    external_id: str
    slug: str
    title: str
    url: str | None
    body_html: str  # sanitized ("" until cleaned when raw_html is set)
    created_at: datetime
    raw_html: str | None = None  # as in the file; cleaned into body_html before writing


@dataclass
class SourceComment:
    external_id: str
    topic_external_id: str
    parent_external_id: str | None
    status: str  # published | pending (kept) - ignored when skip_reason is set
    guest_name: str
    body_html: str  # sanitized ("" until cleaned when raw_html is set)
    created_at: datetime
    skip_reason: str | None = None  # set for comments that are read but not imported
    raw_html: str | None = None  # as in the file; cleaned into body_html before writing


@dataclass
class Source:
    """What a reader read: a whole file (Disqus) or one batch of it (WordPress)."""

    system: str  # wordpress | disqus
    topics: list[SourceTopic] = field(default_factory=list)
    comments: list[SourceComment] = field(default_factory=list)
    skipped_topics: Counter[str] = field(default_factory=Counter)


@dataclass
class Report:
    system: str
    file: str
    topics_created: int = 0
    topics_matched: int = 0  # an existing topic with the same url received the comments
    topics_already: int = 0  # imported before
    comments_created: int = 0
    comments_published: int = 0
    comments_pending: int = 0
    comments_already: int = 0
    reparented: int = 0  # parent skipped: attached to the nearest imported ancestor
    skipped_topics: Counter[str] = field(default_factory=Counter)
    skipped_comments: Counter[str] = field(default_factory=Counter)

    def text(self) -> str:
        lines = [
            f"Imported {self.file} ({self.system})",
            f"  topics:   {self.topics_created} created, {self.topics_matched} matched by url,"
            f" {self.topics_already} already imported",
            f"  comments: {self.comments_created} created ({self.comments_published} published,"
            f" {self.comments_pending} pending moderation), {self.comments_already} already imported",
        ]
        if self.reparented:
            lines.append(f"  {self.reparented} replies attached to the nearest imported ancestor"
                         " (their parent was skipped)")
        for label, counter in (("topics", self.skipped_topics), ("comments", self.skipped_comments)):
            total = sum(counter.values())
            lines.append(f"  skipped {label}: {total}")
            for reason, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"    {reason}: {n}")
        return "\n".join(lines)


def clean_text(value: str | None) -> str:
    """One line of text: control characters removed, whitespace collapsed."""
    if not value:
        return ""
    value = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C" or ch in "\t\n ")
    return " ".join(value.split())


def guest_name(value: str | None, fallback: str = "Guest") -> str:
    return (clean_text(value) or fallback)[:GUEST_NAME_MAX].strip() or fallback


def slugify(value: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_MAX].strip("-")


def clean_url(value: str | None) -> str | None:
    """The canonical form of an imported article's address (forum/topics/urls.py), so an
    import matches the topic that already has that article; None when it is not one."""
    value = clean_text(value)
    if not value:
        return None
    try:
        return canonical_url(value)
    except InvalidUrl:
        return None


def paragraphs(text: str) -> str:
    """WordPress stores comments as text with blank lines between paragraphs (wpautop)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if re.search(r"<\s*(p|div|ul|ol|blockquote|pre)\b", text, re.IGNORECASE):
        return text
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    return "".join(f"<p>{b.replace(chr(10), '<br>')}</p>" for b in blocks)


def parse_datetime(value: str | None, *, field_name: str) -> datetime | None:
    """ISO 8601 or WordPress 'YYYY-MM-DD HH:MM:SS' (UTC); None when absent or zero."""
    value = (value or "").strip()
    if not value or value.startswith("0000-00-00"):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise BadRequest(f"{field_name}: {value!r} is not a date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
