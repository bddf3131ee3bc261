"""Full-text search over what the public may read: published topics and published,
non-private comments on published topics.

Rows are indexed by a generated `search_tsv` (see the 19_05 migration); the query text is
bounded before PostgreSQL sees it and parsed by `websearch_to_tsquery`, which accepts any
input, so odd queries cannot fail. Excerpts come from `ts_headline` over plain text with
private-use sentinels around matches: the text is HTML-escaped and only then are the
sentinels turned into `<mark>`, so an excerpt carries no markup but `<mark>`.
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

from forum import sql
from forum.pagination import decode_cursor, encode_cursor, page
from forum.search.schemas import SearchHit, SearchPage

MAX_QUERY_CHARS = 2000
MAX_QUERY_WORDS = 256
START, STOP = "\ue000", "\ue001"
_CURSOR_KIND = "search"
# Characters PostgreSQL text cannot hold, or that we use as sentinels.
_STRIP = re.compile("[\x00\ue000\ue001\ud800-\udfff]")
# websearch_to_tsquery nests one NOT per '-': a long run of them overflows PostgreSQL's
# tsquery stack ("tsquery stack too small", a 500). One '-' means the same as many.
_NEGATIONS = re.compile(r"-(?:[\s-]*-)+")

_language = "english"


def set_language(config_name: str) -> None:
    """The text search configuration queries use (set at start-up from the settings)."""
    global _language
    _language = config_name


def language() -> str:
    return _language


def bound_query(q: str | None) -> str:
    """At most MAX_QUERY_WORDS words and MAX_QUERY_CHARS characters, without NUL or sentinels."""
    if not q:
        return ""
    words = _NEGATIONS.sub("-", _STRIP.sub(" ", q[: MAX_QUERY_CHARS * 4])).split()[:MAX_QUERY_WORDS]
    return " ".join(words)[:MAX_QUERY_CHARS].strip()


def _query_tag(q: str) -> str:
    return hashlib.sha256(q.encode()).hexdigest()[:12]


def excerpt_html(headline: str) -> str:
    """Escape everything, then turn the sentinels into <mark> (balanced by construction)."""
    out: list[str] = []
    open_mark = False
    for part in re.split(f"([{START}{STOP}])", headline):
        if part == START:
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif part == STOP:
            if open_mark:
                out.append("</mark>")
                open_mark = False
        elif part:
            out.append(html.escape(part, quote=True))
    if open_mark:
        out.append("</mark>")
    return "".join(out)


# Plain text of sanitized HTML in SQL: drop tags, decode the entities the sanitizer writes.
_PLAIN = (
    "replace(replace(replace(replace(replace(regexp_replace(left({col}, 20000), '<[^>]*>', ' ', 'g'),"
    " '&lt;', '<'), '&gt;', '>'), '&quot;', '\"'), '&#39;', ''''), '&amp;', '&')"
)

_SEARCH_SQL = f"""
WITH q AS (SELECT websearch_to_tsquery($1::regconfig, $2) AS query),
hits AS (
    SELECT 'comment'::text AS kind, 0 AS ord, c.id, c.topic AS topic_id,
           ts_rank_cd(c.search_tsv, q.query)::float8 AS rank
      FROM comment c, q
     WHERE c.search_tsv @@ q.query AND c.status = 'published' AND NOT c.private
       AND EXISTS (SELECT 1 FROM topic t WHERE t.id = c.topic AND t.status = 'published')
    UNION ALL
    SELECT 'topic'::text, 1, t.id, t.id, ts_rank_cd(t.search_tsv, q.query)::float8
      FROM topic t, q
     WHERE t.search_tsv @@ q.query AND t.status = 'published'
),
paged AS (
    SELECT * FROM hits
     WHERE $3::float8 IS NULL OR (rank, ord, id) < ($3::float8, $4::int, $5::bigint)
     ORDER BY rank DESC, ord DESC, id DESC
     LIMIT $6
)
SELECT p.kind, p.ord, p.id, p.rank, t.slug, t.title,
       ts_headline($1::regconfig,
                   translate(CASE WHEN p.kind = 'comment' THEN {_PLAIN.format(col="c.body_html")}
                                  ELSE t.title || ' — ' || {_PLAIN.format(col="t.body_html")} END,
                             E'\\uE000\\uE001', ''),
                   q.query,
                   'StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=10, ShortWord=2,'
                   ' MaxFragments=2, FragmentDelimiter=" … "') AS headline
  FROM paged p
  CROSS JOIN q
  JOIN topic t ON t.id = p.topic_id
  LEFT JOIN comment c ON p.kind = 'comment' AND c.id = p.id
 ORDER BY p.rank DESC, p.ord DESC, p.id DESC
"""


async def search(q: str | None, limit: int, cursor: str | None) -> SearchPage:
    query = bound_query(q)
    after = decode_cursor(_CURSOR_KIND, cursor)
    if not query:
        return SearchPage(items=[], next_cursor=None)
    rank: float | None = None
    ord_ = 0
    last_id = 0
    if after is not None:
        try:
            if after.get("q") != _query_tag(query):
                raise ValueError("cursor of another query")
            rank, ord_, last_id = float(after["r"]), int(after["o"]), int(after["i"])
        except (KeyError, TypeError, ValueError):
            from forum.errors import BadRequest

            raise BadRequest("cursor: this cursor belongs to another search; start again without one") from None
    rows = await sql.fetch(_SEARCH_SQL, _language, query, rank, ord_, last_id, limit + 1)
    rows, more = page(rows, limit)
    items = [_hit(r) for r in rows]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(_CURSOR_KIND, {"q": _query_tag(query), "r": last["rank"],
                                                   "o": last["ord"], "i": last["id"]})
    return SearchPage(items=items, next_cursor=next_cursor)


def _hit(row: Any) -> SearchHit:
    is_comment = row["kind"] == "comment"
    return SearchHit(
        kind=row["kind"],
        id=row["id"],
        topic_slug=row["slug"],
        title=row["title"],
        excerpt_html=excerpt_html(row["headline"] or ""),
        rank=round(float(row["rank"]), 6),
        comment_id=row["id"] if is_comment else None,
    )
