"""Black-box acceptance suite for the forum HTTP API (contract: docs/api.md).

Setup the suite expects
-----------------------
- BASE_URL (default http://127.0.0.1:8765): a running server. Nothing else is touched:
  every check goes through HTTP.
- FORUM_ADMIN_LOGIN / FORUM_ADMIN_PASSWORD: an admin account that already exists, made
  with the server's CLI (`forum users create --handle ... --role admin`). It logs in once
  per session and promotes test users (PATCH /api/admin/users/{id} {role}), approves
  queue items for helpers, reads and writes moderation rules.
- Optional:
  - BASE_URL_2: a second server process on the same database (cross-process SSE test;
    skipped without it).
  - FORUM_TEST_TIMEOUT (default 10): seconds per request. FORUM_TEST_SLOW_TIMEOUT
    (default 60) is used only for GET /api/admin/export, which dumps the whole database.
  - FORUM_TEST_MAX_RETRY_AFTER (default 20): a 429 whose Retry-After is at most this many
    seconds is waited out and retried (3 times at most); 0 turns that off. Best: run the
    server with its registration/login/posting rate limits relaxed, because the suite
    registers a few hundred users and posts about a thousand comments from one address.

Independence
------------
Every test creates its own users (random handles from uuid4), topics and comment bodies
(unique words, so the product's repeat-post detection never fires), so the suite can run
again and again against the same database. Only the moderation rules are global: the
`set_rules` fixture changes them through PUT /api/moderation/rules and puts the original
back after the test. Run the suite serially (no pytest-xdist), because a test that
changes the rules would otherwise affect tests running at the same time.

Helpers (fixtures)
------------------
- api            session httpx wrapper (Api): api.get/post/... with token=..., 10 s timeout.
- forum          session Forum object with every helper below, for use outside fixtures.
- admin          the admin Account (logs in lazily).
- register(role="reader", email=None|True|"x@y", handle=None, password=None) -> Account,
                 a (token, user) tuple that also has .id .handle .password .email.
- make_topic(kind="article", comments="open", token=None (admin), title=, body=, **extra)
                 -> topic JSON (asserts 201).
- post_comment(slug, body=None, token=None, parent_id=, kind=, private=, guest_name=,
                 headers=, expect_status=201) -> comment JSON;
                 forum.post_comment_raw(...) returns the httpx.Response instead.
- set_rules(**changes) -> PUT rules (on top of the current ones); set_rules.rules is the
                 current dict, set_rules.add_words("banned_words", w) appends; the original
                 rules are restored after the test.
- trusted_reader(**register_kw) -> Account whose comments publish at once. How: the robust
                 way first, without global state: the reader posts `trusted_after_approved`
                 (read from the rules) comments in a session scratch topic and the admin
                 approves each one through the moderation queue (claim + approve); a probe
                 comment must then come back `published`. If the product's approval path
                 fails, it falls back to lowering `trusted_after_approved` to 0 (and
                 `premoderate_all` off) for the test through set_rules, restored after.
                 The terminal summary says how many readers each way produced.
- ensure_published(comment) approves a pending comment (staff answers may be held as
                 `new_author` by a strict product; tests about other things stay isolated).
- sse(path, token=None, base_url=None) opens a Server-Sent Events listener thread,
                 closed after the test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forumtest import (
    BASE_URL,
    RUN_STATS,
    XSS_STATS,
    Api,
    Forum,
    RulesGuard,
    SSEListener,
)


@pytest.fixture(scope="session")
def api():
    client = Api(BASE_URL)
    yield client
    client.close()


@pytest.fixture(scope="session", autouse=True)
def _server_reachable(api):
    try:
        api.get("/health")
    except httpx.TransportError as exc:
        pytest.exit(f"no forum server answers at BASE_URL={BASE_URL}: {exc!r}", returncode=3)


@pytest.fixture(scope="session")
def forum(api):
    return Forum(api)


@pytest.fixture(scope="session")
def admin(forum):
    return forum.admin


@pytest.fixture
def register(forum):
    return forum.register


@pytest.fixture
def make_topic(forum):
    return forum.make_topic


@pytest.fixture
def post_comment(forum):
    return forum.post_comment


@pytest.fixture
def set_rules(forum):
    guard = RulesGuard(forum)
    yield guard
    guard.restore()


@pytest.fixture
def trusted_reader(forum, set_rules):
    def make(**register_kw):
        return forum.make_trusted_reader(set_rules, **register_kw)

    return make


@pytest.fixture
def ensure_published(forum):
    return forum.ensure_published


@pytest.fixture
def topic(forum):
    """A fresh admin article with open comments."""
    return forum.make_topic()


@pytest.fixture
def reader(forum):
    return forum.register()


@pytest.fixture
def coach(forum):
    return forum.register(role="coach")


@pytest.fixture
def moderator(forum):
    return forum.register(role="moderator")


@pytest.fixture
def sse():
    listeners: list[SSEListener] = []

    def open_stream(path: str, token: str | None = None, base_url: str | None = None) -> SSEListener:
        listener = SSEListener(base_url or BASE_URL, path, token=token).start()
        listeners.append(listener)
        return listener

    yield open_stream
    for listener in listeners:
        listener.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = []
    for kind, label in (("comment", "comment bodies"), ("topic", "topic bodies")):
        stats = XSS_STATS.get(kind) or {}
        if not stats:
            continue
        counts: dict[str, int] = {}
        for outcome in stats.values():
            key = outcome.split(":", 1)[0]
            counts[key] = counts.get(key, 0) + 1
        lines.append(
            f"XSS {label}: {len(stats)} payloads run; checked {counts.get('safe', 0) + counts.get('unsafe', 0)}"
            f" (safe {counts.get('safe', 0)}, UNSAFE {counts.get('unsafe', 0)}); refused by the API "
            f"{counts.get('refused', 0)}; skipped for size/empty {counts.get('skipped', 0)}; "
            f"errors {counts.get('error', 0)}")
    allow = XSS_STATS.get("allowlist") or {}
    if allow:
        lines.append(f"XSS allowlist: {allow.get('checked', '0')} stored bodies checked, "
                     f"{allow.get('offenders', '0')} with markup outside the contract's allowlist")
    trust = ("trusted_by_approval", "trusted_by_rules", "trusted_already", "trusted_failed")
    if any(RUN_STATS[k] for k in trust):
        lines.append(
            f"trusted readers: {RUN_STATS['trusted_by_approval']} via moderator approvals, "
            f"{RUN_STATS['trusted_by_rules']} via the trusted_after_approved=0 fallback, "
            f"{RUN_STATS['trusted_already']} trusted at once, {RUN_STATS['trusted_failed']} failed")
    if RUN_STATS["retried_429"]:
        lines.append(f"rate limits: {RUN_STATS['retried_429']} answers 429 waited out "
                     f"({RUN_STATS['waited_429_s']:.0f} s in all)")
    if not lines:
        return
    terminalreporter.write_sep("-", "forum acceptance summary")
    for line in lines:
        terminalreporter.write_line(line)
