"""Full-text search over what the public may read: published topics and published,
non-private comments on published topics.

Hits are ranked among the CANDIDATES most recent matches of each kind (see
`_CANDIDATES_SQL`), so a common word costs a few thousand rows, not a third of the site.
Rows are indexed by `search_tsv`, kept by a trigger (the 19_20 migration); the query text is
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
# Hits are ranked among the CANDIDATES most recent matching comments and as many topics
# (docs/api.md); WINDOW is how many of the newest rows are read before the GIN index is used.
CANDIDATES = 100
WINDOW = 50 * CANDIDATES


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

# The candidates: the CANDIDATES most recent matches of each kind, then ranked. Ranking every
# match of a common word reads and scores a third of all comments (4.5 s for "family" over a
# million comments, bench scenario 11). Each kind is found in one of two ways, in one
# statement, with the same answer either way:
# - `recent`: the WINDOW newest visible rows (a backward scan of the primary key), filtered by
#   the query, stopping at CANDIDATES matches: a few hundred rows for a word in a third of
#   the comments, 2,000 for one in 5%;
# - the second branch of `{kind}_cand`, only when `recent` found fewer than CANDIDATES (a
#   rarer query): every match through the GIN index, newest first, CANDIDATES of them.
# The plan does not depend on estimates of the query's words (a generic plan is as good as a
# custom one): `recent` has no index on the query to choose, the GIN branch runs only when
# needed.
_CANDIDATES_SQL = """
{kind}_recent AS MATERIALIZED (
    SELECT r.id, r.topic_id, r.search_tsv FROM (
        SELECT w.* FROM (
            SELECT {cols} FROM {table} x
             WHERE {visible}
             ORDER BY x.id DESC LIMIT {window}
        ) w, q
         WHERE w.search_tsv @@ q.query
        OFFSET 0
    ) r
     WHERE true{topic_check}
     LIMIT {limit}
),
{kind}_cand AS (
    SELECT * FROM {kind}_recent
     WHERE (SELECT count(*) FROM {kind}_recent) >= {limit}
    UNION ALL
    (SELECT {cols} FROM {table} x, q
      WHERE (SELECT count(*) FROM {kind}_recent) < {limit}
        AND x.search_tsv @@ q.query AND {visible}{topic_check_x}
      ORDER BY x.id DESC LIMIT {limit})
)"""
# A filter (a subplan per row), not a join: `recent` keeps the newest-first order of its scan
# without a sort, so its LIMIT stops the scan at the CANDIDATES newest matches; `OFFSET 0`
# keeps the word match below it, so only matches look their topic up.
_TOPIC_OF_COMMENT = " AND (SELECT t.status FROM topic t WHERE t.id = {row}.topic_id) = 'published'"

_SEARCH_SQL = f"""
WITH q AS (SELECT websearch_to_tsquery($1::regconfig, $2) AS query),
{_CANDIDATES_SQL.format(kind="comment", cols="x.id, x.topic AS topic_id, x.search_tsv", table="comment",
                        visible="x.status = 'published' AND NOT x.private", window=WINDOW, limit=CANDIDATES,
                        topic_check=_TOPIC_OF_COMMENT.format(row="r"),
                        topic_check_x=_TOPIC_OF_COMMENT.format(row="x").replace("x.topic_id", "x.topic"))},
{_CANDIDATES_SQL.format(kind="topic", cols="x.id, x.id AS topic_id, x.search_tsv", table="topic",
                        visible="x.status = 'published'", window=WINDOW, limit=CANDIDATES, topic_check="",
                        topic_check_x="")},
hits AS (
    SELECT 'comment'::text AS kind, 0 AS ord, c.id, c.topic_id, ts_rank_cd(c.search_tsv, q.query)::float8 AS rank
      FROM comment_cand c, q
    UNION ALL
    SELECT 'topic'::text, 1, t.id, t.id, ts_rank_cd(t.search_tsv, q.query)::float8
      FROM topic_cand t, q
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
