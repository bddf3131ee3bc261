"""The one function that decides the fate of every new comment and discussion.

    verdict = await evaluate(draft)      # may raise ContentRefused (422), RateLimited (429), Conflict (409)
    ... insert the comment/topic with verdict.status ...
    await record(verdict, comment_id=...)  # opens the queue items, same transaction

Both run inside the writer's transaction, so a refused or failed post leaves nothing
behind (not even a rate-limit hit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from forum import ratelimit, sql
from forum.auth import Viewer
from forum.errors import Conflict, ContentRefused
from forum.textnorm import post_readings, word_readings
from moderation.wordmatch import WordMatcher

# Posting limits (Discourse / Coral spirit), all scaled by FORUM_RATE_LIMITS.
NEW_AUTHOR_SPACING_S = 15.0
TRUSTED_SPACING_S = 5.0
GUEST_SPACING_S = 15.0
NEW_AUTHOR_PER_HOUR = 20
TRUSTED_PER_HOUR = 120
PER_ADDRESS_LIMIT = 30  # posts from one client address (families share connections)
PER_ADDRESS_WINDOW_S = 300
REPEAT_WINDOW_MINUTES = 10
REJECTION_RATE_LIMIT = 0.30
REJECTION_WINDOW_DAYS = 7

REFUSED_DETAIL = "A content rule refused this text: it contains a word or phrase that is not allowed here."


def refused_name_detail(field: str) -> str:
    return f"{field}: not allowed: it contains a word or phrase that is not allowed here; choose another."


@dataclass(frozen=True)
class Draft:
    author: Viewer | None  # None for a guest
    guest_name: str | None
    body: str  # Markdown source
    # sanitized HTML (links counted here); None: `evaluate` renders it after the rate
    # limits, off the event loop (forum.markup.render), and returns it in the verdict
    body_html: str | None
    target: str  # "comment" | "topic"
    topic_id: int | None = None
    topic_mode: str = "open"  # open | premoderated | closed
    client_ip: str = "unknown"
    kind: str = "comment"  # comment | question | discussion
    title: str = ""  # a discussion's title: checked by the word rules like the body
    # an edit of a published or held comment: a new draft, but no repeat or posting-rate check
    is_edit: bool = False
    # a trial (moderation/trial.py, "try a text"): nothing is posted, no posting limit counts
    trial: bool = False


@dataclass
class Verdict:
    status: str  # "published" | "pending"
    reasons: list[str] = field(default_factory=list)
    urgent: bool = False
    support: str | None = None  # the crisis message, returned to the poster
    body_html: str = ""  # the draft's sanitized HTML


@dataclass(frozen=True)
class Rules:
    banned_words: tuple[str, ...]
    suspect_words: tuple[str, ...]
    crisis_words: tuple[str, ...]
    max_links_untrusted: int
    trusted_after_approved: int
    flag_hide_threshold: int
    edit_window_minutes: int
    premoderate_all: bool
    crisis_message: str
    crisis_posts: str = "publish"  # publish | hold: what a crisis post by a reader does (moderation.crisis)
    version: str = ""  # the row's xmin: changes with every write, in every process


@dataclass(frozen=True)
class Matchers:
    banned: WordMatcher
    suspect: WordMatcher
    crisis: WordMatcher


_RULE_COLUMNS = (
    "banned_words, suspect_words, crisis_words, max_links_untrusted, trusted_after_approved,"
    " flag_hide_threshold, edit_window_minutes, premoderate_all, crisis_message, crisis_posts"
)
# (version, rules, compiled lists): rebuilt only when the row changed (checked per call).
_cache: tuple[str, Rules, Matchers] | None = None


async def _load(version: str | None = None) -> tuple[Rules, Matchers]:
    """The rules and compiled lists; `version` is the row's xmin when the caller read it already."""
    global _cache
    if version is None:
        version = await sql.fetchval("SELECT xmin::text FROM moderation_rules LIMIT 1")
    if version is None:
        raise RuntimeError("moderation_rules has no row: run the migrations")
    cached = _cache
    if cached is not None and cached[0] == version:
        return cached[1], cached[2]
    row = await sql.fetchrow(f"SELECT xmin::text AS version, {_RULE_COLUMNS} FROM moderation_rules LIMIT 1")
    if row is None:
        raise RuntimeError("moderation_rules has no row: run the migrations")
    rules = Rules(tuple(row["banned_words"] or ()), tuple(row["suspect_words"] or ()),
                  tuple(row["crisis_words"] or ()), row["max_links_untrusted"], row["trusted_after_approved"],
                  row["flag_hide_threshold"], row["edit_window_minutes"], row["premoderate_all"],
                  row["crisis_message"], row["crisis_posts"], row["version"])
    matchers = Matchers(WordMatcher.build(rules.banned_words), WordMatcher.build(rules.suspect_words),
                        WordMatcher.build(rules.crisis_words))
    _cache = (rules.version, rules, matchers)
    return rules, matchers


async def current_rules() -> Rules:
    """The rules in force (one row), cached per process and re-read when the row changes."""
    rules, _ = await _load()
    return rules


async def current_matchers() -> Matchers:
    _, matchers = await _load()
    return matchers


def count_links(body_html: str) -> int:
    from forum.markup import count_links as links_in

    return links_in(body_html)


@dataclass(frozen=True)
class AuthorStanding:
    approved: int
    rejected_recent: int
    decided_recent: int

    @property
    def rejection_rate(self) -> float:
        return self.rejected_recent / self.decided_recent if self.decided_recent else 0.0


# The author's standing, in parts of one statement: approved comments (counted up to the
# rules' `trusted_after_approved`), and rejected/spam ones of the last REJECTION_WINDOW_DAYS
# (comment_author_idx range). The decided count is only needed when something was rejected.
# The ORDER BY is comment_author_idx's own order: it keeps the plan an index scan that stops
# at the LIMIT (without it a bitmap scan read every comment of the author, on every post).
_APPROVED = """(SELECT count(*) FROM (SELECT 1 FROM comment WHERE author = $1 AND first_published_at IS NOT NULL
                 ORDER BY author, status, created_at
                 LIMIT (SELECT greatest(trusted_after_approved, 0) FROM moderation_rules LIMIT 1)) a)"""
# One count per status: each an index range on comment_author_idx (author, status, created_at).
# With `status IN (...)` the planner may scan all of the author's recent comments instead,
# filtering the status (seen: 5,700 rows read per post for a busy author).
_REJECTED = "(" + " + ".join(
    f"""(SELECT count(*) FROM comment WHERE author = $1 AND status = '{status}'
                 AND created_at > now() - interval '{REJECTION_WINDOW_DAYS} days')"""
    for status in ("rejected", "spam")) + ")"
_DECIDED = f"""SELECT count(*) FROM comment WHERE author = $1
                 AND (status IN ('rejected', 'spam') OR first_published_at IS NOT NULL)
                 AND created_at > now() - interval '{REJECTION_WINDOW_DAYS} days'"""
# A repeat of the same text within REPEAT_WINDOW_MINUTES, per kind of draft ($1 author or guest name, $2 body).
# Comments are found by the MD5 of their text (comment_body_md5_idx), not by author: an
# author's whole history is not read on every post.
_REPEAT = {
    "topic": "SELECT 1 FROM topic WHERE author = $1 AND body = $2 AND title = $3"
             f" AND created_at > now() - interval '{REPEAT_WINDOW_MINUTES} minutes' LIMIT 1",
    "author": "SELECT 1 FROM comment WHERE md5(body)::uuid = md5($2)::uuid AND author = $1 AND body = $2"
              " AND status <> 'deleted'"
              f" AND created_at > now() - interval '{REPEAT_WINDOW_MINUTES} minutes' LIMIT 1",
    "guest": "SELECT 1 FROM comment WHERE md5(body)::uuid = md5($2)::uuid AND author IS NULL"
             " AND guest_name = $1 AND body = $2"
             f" AND status <> 'deleted' AND created_at > now() - interval '{REPEAT_WINDOW_MINUTES} minutes' LIMIT 1",
}


async def author_standing(user_id: int) -> AuthorStanding:
    row = await sql.fetchrow(f"SELECT {_APPROVED} AS approved, {_REJECTED} AS rejected_recent", user_id)
    if row is None:
        raise RuntimeError("unexpected: no row")
    return await _standing(user_id, row["approved"], row["rejected_recent"])


async def _standing(user_id: int, approved: int, rejected_recent: int) -> AuthorStanding:
    decided = await sql.fetchval(_DECIDED, user_id) if rejected_recent else 0
    return AuthorStanding(approved, rejected_recent, decided)


@dataclass(frozen=True)
class Facts:
    """What a verdict needs from the database, read in one statement (`facts_columns`)."""
    version: str  # the rules row's xmin
    repeated: bool  # the same text from the same author within REPEAT_WINDOW_MINUTES
    approved: int  # the author's standing (0 when not needed: guests, coach+)
    rejected_recent: int


def _needs_standing(author: Viewer | None) -> bool:
    return author is not None and not author.is_coach


def facts_columns(*, target: str, author: Viewer | None, guest_name: str | None, body: str,
                  title: str = "", edit: bool = False) -> tuple[list[str], list[Any]]:
    """The select-list expressions of the facts (`$1`...) and their arguments, so that a
    caller can read them in a statement it makes anyway; `facts_from` reads the row.
    `edit`: the draft replaces an existing text (no repeat check)."""
    columns = ["(SELECT xmin::text FROM moderation_rules LIMIT 1) AS policy_version"]
    args: list[Any] = []
    if edit:
        columns.append("false AS policy_repeated")
    elif target == "topic" and author is not None:
        columns.append(f"EXISTS ({_REPEAT['topic']}) AS policy_repeated")
        args = [author.id, body, title]
    elif target == "topic":
        columns.append("false AS policy_repeated")
    elif author is not None:
        columns.append(f"EXISTS ({_REPEAT['author']}) AS policy_repeated")
        args = [author.id, body]
    else:
        columns.append(f"EXISTS ({_REPEAT['guest']}) AS policy_repeated")
        args = [guest_name, body]
    if _needs_standing(author):
        if author is None:
            raise RuntimeError("unexpected: no author")
        columns += [f"{_APPROVED} AS policy_approved", f"{_REJECTED} AS policy_rejected_recent"]
        if not args:
            args = [author.id]
    return columns, args


def facts_from(row: Any, author: Viewer | None) -> Facts:
    if not (row is not None and row["policy_version"] is not None):
        raise RuntimeError("moderation_rules has no row: run the migrations")
    if _needs_standing(author):
        return Facts(row["policy_version"], bool(row["policy_repeated"]), row["policy_approved"],
                     row["policy_rejected_recent"])
    return Facts(row["policy_version"], bool(row["policy_repeated"]), 0, 0)


async def _facts(draft: Draft) -> Facts:
    """One round trip: the rules' version, whether this is a repeat post, the author's standing."""
    columns, args = facts_columns(target=draft.target, author=draft.author, guest_name=draft.guest_name,
                                  body=draft.body, title=draft.title, edit=draft.is_edit)
    return facts_from(await sql.fetchrow(f"SELECT {', '.join(columns)}", *args), draft.author)


async def _rate_limit(draft: Draft, trusted: bool) -> None:
    author = draft.author
    if author is not None and author.is_moderator:
        return
    per_address = ratelimit.Window(f"post:ip:{draft.client_ip}", PER_ADDRESS_LIMIT, PER_ADDRESS_WINDOW_S,
                                   "Too many posts from this address; please wait a little.")
    if author is None:
        await ratelimit.check(per_address, ratelimit.Spacing(f"post:guest:{draft.client_ip}", GUEST_SPACING_S))
        return
    await ratelimit.check(
        per_address,
        ratelimit.Spacing(f"post:user:{author.id}", TRUSTED_SPACING_S if trusted else NEW_AUTHOR_SPACING_S),
        ratelimit.Window(f"post:user-hour:{author.id}", TRUSTED_PER_HOUR if trusted else NEW_AUTHOR_PER_HOUR,
                         3600, "You have posted a lot in the last hour; please wait before posting again."))


async def evaluate(draft: Draft, facts: Facts | None = None) -> Verdict:
    """Published or pending (with reasons), urgent or not; raises for refused posts.
    `facts`: read by the caller with `facts_columns` for this draft, in this transaction."""
    author = draft.author
    if facts is None:
        facts = await _facts(draft)
    rules, matchers = await _load(facts.version)
    if facts.repeated and not draft.is_edit:
        raise Conflict("You posted the same text a moment ago; it was not posted again.")

    reasons: list[str] = []
    trusted = False
    if author is None:
        reasons.append("guest")
    elif author.is_coach:
        trusted = True
    else:
        standing = await _standing(author.id, facts.approved, facts.rejected_recent)
        trusted = standing.approved >= rules.trusted_after_approved
        if not trusted:
            reasons.append("new_author")
        if standing.rejected_recent and standing.rejection_rate > REJECTION_RATE_LIMIT:
            reasons.append("rejection_history")
    if not (draft.is_edit or draft.trial):  # an edit is paced by the edit window, not by the posting limits
        await _rate_limit(draft, trusted)
    # Only now the costly part: a rate-limited draft is never rendered.
    from forum.markup import render

    body_html = draft.body_html if draft.body_html is not None else await render(draft.body)
    # once per draft: the text a reader sees, normalised (forum.textnorm), read by every list
    readings = post_readings(body_html, draft.title)
    if matchers.banned.find_any(readings) is not None:
        raise ContentRefused(REFUSED_DETAIL, rule="banned_words")

    staff = author is not None and author.is_moderator  # they would approve themselves
    if not staff:
        if not trusted and count_links(body_html) > rules.max_links_untrusted:
            reasons.append("links")
        if matchers.suspect.find_any(readings) is not None:
            reasons.append("suspect_word")
        if draft.topic_mode == "premoderated":
            reasons.append("premoderated_topic")
        if rules.premoderate_all:
            reasons.append("premoderate_all")
    crisis = matchers.crisis.find_any(readings) is not None
    if crisis and rules.crisis_posts == "hold" and not (author is not None and author.is_coach):
        reasons.append("crisis_hold")
    verdict = Verdict(status="pending" if reasons else "published", reasons=reasons, body_html=body_html)
    if crisis:
        verdict.urgent = True
        verdict.support = rules.crisis_message or None
    return verdict


async def record(verdict: Verdict, *, comment_id: int | None = None, topic_id: int | None = None,
                 actor_id: int | None = None) -> None:
    """Open the queue items a verdict calls for (same transaction as the insert or edit).
    An urgent verdict goes through `moderation.crisis.open_urgent` (coaches are told)."""
    from moderation import crisis
    from moderation.items import open_item

    if (comment_id is None) == (topic_id is None):
        raise ValueError("record() needs exactly one of comment_id and topic_id")
    if verdict.status == "pending":
        await open_item("pending", comment_id=comment_id, topic_id=topic_id, reasons=verdict.reasons)
    if verdict.urgent:
        await crisis.open_urgent(comment_id=comment_id, topic_id=topic_id, reason="crisis_word", actor_id=actor_id)


async def evaluate_edit(body: str, editor: Viewer, body_html: str | None = None, title: str = "") -> None:
    """A staff edit (of someone else's comment, of a topic, edit_approve) is not held, but it
    may not bring in a banned word either (raises ContentRefused, 422). An author's edit of
    their own comment goes through `evaluate` like a new post."""
    from forum.markup import render

    matchers = await current_matchers()
    html = body_html if body_html is not None else await render(body)
    if matchers.banned.find_any(post_readings(html, title)) is not None:
        raise ContentRefused(REFUSED_DETAIL, rule="banned_words")


async def refuse_banned_name(field: str, name: str) -> None:
    """A handle or guest name is shown beside every post: it may not carry a banned word,
    read through the same normaliser as posts (422 naming the field)."""
    matchers = await current_matchers()
    # "x_word" is two words in a name (in a post, `selling_or_sourcing` stays one token)
    if matchers.banned.find_any(word_readings(name.replace("_", " "))) is not None:
        raise ContentRefused(refused_name_detail(field), rule="banned_words")
