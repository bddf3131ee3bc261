"""Plain helpers for the forum acceptance suite (no fixtures here; see conftest.py).

Everything talks to a running server over HTTP only (black box). The contract is
docs/api.md (the API reference); the issues add the precise rules.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import string
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import html5lib
import httpx

BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8765").rstrip("/")
BASE_URL_2 = os.environ.get("BASE_URL_2", "").rstrip("/")  # optional second process, same database
ADMIN_LOGIN = os.environ.get("FORUM_ADMIN_LOGIN")
ADMIN_PASSWORD = os.environ.get("FORUM_ADMIN_PASSWORD")
TIMEOUT = float(os.environ.get("FORUM_TEST_TIMEOUT", "10"))
SLOW_TIMEOUT = float(os.environ.get("FORUM_TEST_SLOW_TIMEOUT", "60"))  # admin export only
MAX_RETRY_AFTER = float(os.environ.get("FORUM_TEST_MAX_RETRY_AFTER", "20"))
RETRIES_429 = 3

# Success codes the contract leaves open (it fixes 201 for creations, 204 for logout,
# erasure, deletes and notifications/read, 200 for claim, release, vote, accept).
OK = (200, 201, 204)

RUN_STATS: dict[str, Any] = {
    "retried_429": 0,
    "waited_429_s": 0.0,
    "trusted_by_approval": 0,
    "trusted_by_rules": 0,
    "trusted_already": 0,  # published at once (rules already lowered, e.g. by a module-level fallback)
    "trusted_failed": 0,
}
XSS_STATS: dict[str, dict[str, str]] = {"comment": {}, "topic": {}, "allowlist": {}}

# The nine rule fields named by the contract.
RULE_FIELDS = (
    "banned_words",
    "suspect_words",
    "crisis_words",
    "max_links_untrusted",
    "trusted_after_approved",
    "flag_hide_threshold",
    "edit_window_minutes",
    "premoderate_all",
    "crisis_message",
)
COMMENT_FIELDS = (
    "id", "topic_slug", "parent_id", "depth", "kind", "status", "private", "author",
    "guest_name", "author_badge", "body_html", "score", "accepted", "reply_count",
    "created_at", "edited_at",
)  # plus `replies`, checked on thread reads


# --------------------------------------------------------------------------- naming


def uid(n: int = 12) -> str:
    return uuid.uuid4().hex[:n]


def word(prefix: str = "zq", n: int = 10) -> str:
    """A random lower-case word (letters only) that no dictionary, word list or other
    test contains: used for search, banned/suspect/crisis words and body tracing."""
    return prefix + "".join(secrets.choice(string.ascii_lowercase) for _ in range(n))


def strong_password() -> str:
    return f"Pw-{uuid.uuid4().hex[:20]}!"


# Consonants only: no vowel, nothing read as one (l is i, y), and no digit (0, 1, 3, 4, 5
# and 7 are read as letters), so a random handle never spells a reserved word such as
# "staff" ("574ff" did: a 409, once in a few thousand registrations).
_HANDLE_LETTERS = "bcdfghjkmnpqrvwxz"


def new_handle() -> str:
    return "t_" + "".join(secrets.choice(_HANDLE_LETTERS) for _ in range(16))


def new_email() -> str:
    return f"m{uuid.uuid4().hex[:16]}@example.org"


# --------------------------------------------------------------------------- HTTP


def describe(r: httpx.Response) -> str:
    req = r.request
    try:
        text = r.text
    except Exception:  # stream not read
        text = "<stream>"
    return f"{req.method} {req.url} -> {r.status_code}: {text[:700]}"


def expect(r: httpx.Response, *codes: int) -> httpx.Response:
    assert r.status_code in codes, f"expected {codes}, got {describe(r)}"
    return r


def jbody(r: httpx.Response, *codes: int) -> Any:
    """Assert the status (200 by default) and return the JSON body ({} when empty)."""
    expect(r, *(codes or (200,)))
    if not r.content:
        return {}
    try:
        return r.json()
    except ValueError as exc:  # pragma: no cover - diagnostic
        raise AssertionError(f"response is not JSON: {describe(r)}") from exc


def assert_error(r: httpx.Response, *codes: int) -> dict:
    """The contract's error shape: JSON {status_code, detail}."""
    expect(r, *codes)
    ctype = r.headers.get("content-type", "")
    assert "json" in ctype, f"error is not JSON (content-type {ctype!r}): {describe(r)}"
    body = r.json()
    assert isinstance(body, dict), describe(r)
    assert body.get("status_code") == r.status_code, f"status_code field mismatch: {describe(r)}"
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), f"no detail: {describe(r)}"
    assert "Traceback" not in r.text, f"stack trace leaked: {describe(r)}"
    return body


def assert_4xx(r: httpx.Response) -> None:
    assert 400 <= r.status_code < 500, f"expected a 4xx, got {describe(r)}"
    assert "Traceback" not in r.text, f"stack trace leaked: {describe(r)}"


def _retry_after_seconds(r: httpx.Response) -> float | None:
    value = r.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

            when = parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
        except Exception:
            return None


class Api:
    """A thin wrapper over httpx.Client: bearer tokens, a 10 s timeout on every request,
    and 429 answers waited out (Retry-After <= FORUM_TEST_MAX_RETRY_AFTER, 3 times at
    most) so that the product's rate limits slow the suite down instead of failing it."""

    def __init__(self, base_url: str = BASE_URL, timeout: float = TIMEOUT):
        self.base_url = base_url
        self.client = httpx.Client(base_url=base_url, timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, path: str, *, token: str | None = None,
                headers: dict | None = None, retry_429: bool = True, **kw: Any) -> httpx.Response:
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        attempt = 0
        while True:
            r = self.client.request(method, path, headers=hdrs, **kw)
            if r.status_code != 429 or not retry_429 or attempt >= RETRIES_429 or MAX_RETRY_AFTER <= 0:
                return r
            wait = _retry_after_seconds(r)
            if wait is None or wait > MAX_RETRY_AFTER:
                return r
            RUN_STATS["retried_429"] += 1
            RUN_STATS["waited_429_s"] += wait
            time.sleep(wait + 0.05)
            attempt += 1

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)


def raw_request(method: str, target: str, *, headers: dict | None = None, body: bytes = b"",
                base_url: str = BASE_URL, timeout: float = TIMEOUT) -> tuple[int | None, str]:
    """Send one HTTP/1.1 request over a plain socket (for requests httpx refuses to build,
    such as a 100,000-character URL). Returns (status or None if no answer, raw response head)."""
    import socket

    parts = httpx.URL(base_url)
    host, port = parts.host, parts.port or (443 if parts.scheme == "https" else 80)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
             f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    with socket.create_connection((host, port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may answer and close before reading everything
            sock.sendall(data)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks):
                    break
        except OSError:
            pass
    head = b"".join(chunks).decode("latin-1")
    m = re.match(r"HTTP/1\.[01] (\d{3})", head)
    return (int(m.group(1)) if m else None), head


class Account(tuple):
    """(token, user) that also knows its password, email and login handle.

    `token, user = register()` works; so do `acct.token`, `acct.id`, `acct.password`."""

    def __new__(cls, token: str, user: dict, *, password: str | None = None,
                email: str | None = None, handle: str | None = None):
        obj = super().__new__(cls, (token, user))
        obj.password = password
        obj.email = email
        obj.login_handle = handle or user.get("handle")
        return obj

    @property
    def token(self) -> str:
        return self[0]

    @property
    def user(self) -> dict:
        return self[1]

    @property
    def id(self) -> int:
        return self[1]["id"]

    @property
    def handle(self) -> str:
        return self.login_handle

    def __repr__(self) -> str:  # never print tokens in reports
        return f"Account(id={self.user.get('id')}, handle={self.login_handle!r}, role={self.user.get('role')!r})"


def page_through(api: Api, path: str, *, token: str | None = None, params: dict | None = None,
                 max_pages: int = 200, limit: int | None = 100) -> Iterator[dict]:
    """Yield every page of a cursor-paged list ({items, next_cursor})."""
    params = dict(params or {})
    if limit is not None:
        params.setdefault("limit", limit)
    cursor = None
    for _ in range(max_pages):
        if cursor:
            params["cursor"] = cursor
        body = jbody(api.get(path, token=token, params=params), 200)
        assert "items" in body and "next_cursor" in body, f"not a paged list: {str(body)[:300]}"
        yield body
        cursor = body.get("next_cursor")
        if not cursor:
            return


def all_items(api: Api, path: str, **kw: Any) -> Iterator[dict]:
    for page in page_through(api, path, **kw):
        yield from page["items"]


def eventually(fn: Callable[[], Any], timeout: float = 5.0, interval: float = 0.25) -> Any:
    """Call fn until it returns something truthy or the timeout passes; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def parse_time(value: str) -> datetime:
    assert isinstance(value, str), f"not a time string: {value!r}"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- comment trees


def flatten(comments: Iterable[dict]) -> list[dict]:
    """Pre-order (depth-first) walk over nested `replies`."""
    out: list[dict] = []
    for c in comments or []:
        out.append(c)
        out.extend(flatten(c.get("replies") or []))
    return out


def find_comment(comments: Iterable[dict], cid: int) -> dict | None:
    for c in flatten(comments):
        if c.get("id") == cid:
            return c
    return None


def ids(comments: Iterable[dict]) -> list[int]:
    return [c["id"] for c in comments]


def question_id_of(item: dict) -> Any:
    """The question a /api/coach/questions item refers to (the item itself, or nested)."""
    for key in ("question", "comment"):
        if isinstance(item.get(key), dict) and "id" in item[key]:
            return item[key]["id"]
    for key in ("question_id", "comment_id"):
        if key in item:
            return item[key]
    return item.get("id")


def queue_comment_id(item: dict) -> Any:
    if isinstance(item.get("comment"), dict):
        return item["comment"].get("id")
    return item.get("comment_id")


def hit_comment_id(hit: dict) -> Any:
    if isinstance(hit.get("comment"), dict):
        return hit["comment"].get("id")
    if "comment_id" in hit:
        return hit["comment_id"]
    if hit.get("type") in ("comment", "question") or hit.get("kind") in ("comment", "question"):
        return hit.get("id")
    return None


def actor_id_of(entry: dict) -> Any:
    actor = entry.get("actor")
    if isinstance(actor, dict):
        return actor.get("id")
    return entry.get("actor_id", actor)


# --------------------------------------------------------------------------- the forum


class RulesGuard:
    """Changes the global moderation rules (PUT /api/moderation/rules as admin) and puts
    the original back afterwards. Changes stack: each call applies on top of the last."""

    def __init__(self, forum: Forum):
        self.forum = forum
        self.original: dict | None = None
        self.current: dict | None = None

    def _load(self) -> None:
        if self.original is None:
            self.original = self.forum.get_rules()
            self.current = dict(self.original)

    @property
    def rules(self) -> dict:
        self._load()
        return dict(self.current)

    def __call__(self, **changes: Any) -> dict:
        self._load()
        wanted = {**self.current, **changes}
        body = self.forum.put_rules(wanted)
        self.current = wanted
        return body

    def add_words(self, field: str, *words: str) -> dict:
        """Append words to banned_words / suspect_words / crisis_words."""
        self._load()
        return self(**{field: list(self.current.get(field) or []) + list(words)})

    def restore(self) -> None:
        if self.original is not None and self.current != self.original:
            self.forum.put_rules(self.original)
            self.current = dict(self.original)


class Forum:
    """Session-wide helpers. The admin logs in lazily, so tests that need no admin do not
    depend on FORUM_ADMIN_LOGIN / FORUM_ADMIN_PASSWORD."""

    def __init__(self, api: Api):
        self.api = api
        self._admin: Account | None = None
        self._scratch: dict | None = None
        self._lock = threading.Lock()

    # ---- accounts
    @property
    def admin(self) -> Account:
        with self._lock:
            if self._admin is None:
                if not ADMIN_LOGIN or not ADMIN_PASSWORD:
                    raise AssertionError(
                        "set FORUM_ADMIN_LOGIN and FORUM_ADMIN_PASSWORD to an existing admin account")
                r = self.api.post("/api/auth/login", json={"login": ADMIN_LOGIN, "password": ADMIN_PASSWORD})
                body = jbody(r, 200)
                assert body["user"]["role"] == "admin", f"FORUM_ADMIN_LOGIN is not an admin: {body['user']}"
                self._admin = Account(body["token"], body["user"], password=ADMIN_PASSWORD, handle=ADMIN_LOGIN)
            return self._admin

    def register(self, role: str = "reader", *, email: str | bool | None = None,
                 handle: str | None = None, password: str | None = None) -> Account:
        handle = handle or new_handle()
        password = password or strong_password()
        if email is True:
            email = new_email()
        payload: dict[str, Any] = {"handle": handle, "password": password}
        if email:
            payload["email"] = email
        body = jbody(self.api.post("/api/auth/register", json=payload), 201)
        acct = Account(body["token"], body["user"], password=password, email=email or None, handle=handle)
        if role != "reader":
            self.set_role(acct.id, role)
            acct.user["role"] = role
        return acct

    def set_role(self, user_id: int, role: str) -> None:
        r = self.api.patch(f"/api/admin/users/{user_id}", token=self.admin.token, json={"role": role})
        expect(r, *OK)

    def login(self, login: str, password: str) -> httpx.Response:
        return self.api.post("/api/auth/login", json={"login": login, "password": password})

    def me(self, token: str) -> httpx.Response:
        return self.api.get("/api/me", token=token)

    # ---- topics
    def make_topic(self, *, kind: str = "article", comments: str = "open", token: str | None = None,
                   title: str | None = None, body: str | None = None, **extra: Any) -> dict:
        payload = {
            "kind": kind,
            "title": title or f"Acceptance topic {uid()}",
            "body": body or f"Body of an acceptance-test topic {uid()}.",
            "comments": comments,
            **extra,
        }
        r = self.api.post("/api/topics", token=token or self.admin.token, json=payload)
        return jbody(r, 201)

    def scratch_topic(self) -> dict:
        """One admin article per session where trusted readers earn their approvals."""
        if self._scratch is None:
            self._scratch = self.make_topic(title=f"Acceptance scratch {uid()}")
        return self._scratch

    # ---- comments
    def post_comment_raw(self, slug: str, body: str | None = None, token: str | None = None, *,
                         parent_id: int | None = None, kind: str | None = None,
                         private: bool | None = None, guest_name: str | None = None,
                         headers: dict | None = None, api: Api | None = None) -> httpx.Response:
        payload: dict[str, Any] = {"body": body if body is not None else f"comment {uid()} here"}
        if parent_id is not None:
            payload["parent_id"] = parent_id
        if kind is not None:
            payload["kind"] = kind
        if private is not None:
            payload["private"] = private
        if guest_name is not None:
            payload["guest_name"] = guest_name
        return (api or self.api).post(f"/api/topics/{slug}/comments", token=token, json=payload, headers=headers)

    def post_comment(self, slug: str, body: str | None = None, token: str | None = None, *,
                     expect_status: int = 201, **kw: Any) -> dict:
        return jbody(self.post_comment_raw(slug, body, token, **kw), expect_status)

    def comment(self, cid: int, token: str | None = None) -> httpx.Response:
        return self.api.get(f"/api/comments/{cid}", token=token)

    def thread_page(self, slug: str, token: str | None = None, **params: Any) -> dict:
        return jbody(self.api.get(f"/api/topics/{slug}/comments", token=token, params=params), 200)

    def thread(self, slug: str, token: str | None = None, sort: str = "oldest") -> list[dict]:
        """Every root (with nested replies) across all pages."""
        roots: list[dict] = []
        for page in page_through(self.api, f"/api/topics/{slug}/comments", token=token,
                                 params={"sort": sort}, max_pages=50):
            roots.extend(page["items"])
        return roots

    def visible(self, slug: str, cid: int, token: str | None = None) -> dict | None:
        return find_comment(self.thread(slug, token), cid)

    def vote(self, cid: int, token: str) -> httpx.Response:
        return self.api.post(f"/api/comments/{cid}/vote", token=token)

    def flag(self, cid: int, token: str, reason: str = "spam", note: str | None = None) -> httpx.Response:
        payload: dict[str, Any] = {"reason": reason}
        if note is not None:
            payload["note"] = note
        return self.api.post(f"/api/comments/{cid}/flags", token=token, json=payload)

    # ---- moderation
    def get_rules(self) -> dict:
        return jbody(self.api.get("/api/moderation/rules", token=self.admin.token), 200)

    def put_rules(self, rules: dict) -> dict:
        payload = {k: v for k, v in rules.items() if k not in ("id", "created_at", "updated_at", "updated_by")}
        return jbody(self.api.put("/api/moderation/rules", token=self.admin.token, json=payload), *OK)

    def queue_items(self, queue: str, token: str | None = None, max_pages: int = 200) -> Iterator[dict]:
        yield from all_items(self.api, "/api/moderation/queue", token=token or self.admin.token,
                             params={"queue": queue}, max_pages=max_pages)

    def find_queue_item(self, comment_id: int, queues: Iterable[str] = ("pending", "reported", "urgent"),
                        token: str | None = None) -> dict | None:
        for queue in queues:
            for item in self.queue_items(queue, token):
                if queue_comment_id(item) == comment_id:
                    return item
        return None

    def claim(self, item_id: int, token: str | None = None) -> httpx.Response:
        return self.api.post(f"/api/moderation/items/{item_id}/claim", token=token or self.admin.token)

    def release(self, item_id: int, token: str | None = None) -> httpx.Response:
        return self.api.post(f"/api/moderation/items/{item_id}/release", token=token or self.admin.token)

    def decide(self, item_id: int, action: str, token: str | None = None, **fields: Any) -> httpx.Response:
        payload = {"action": action, **{k: v for k, v in fields.items() if v is not None}}
        return self.api.post(f"/api/moderation/items/{item_id}/decision", token=token or self.admin.token,
                             json=payload)

    def claim_and_decide(self, item_id: int, action: str, token: str | None = None, **fields: Any) -> httpx.Response:
        expect(self.claim(item_id, token), 200)
        return self.decide(item_id, action, token, **fields)

    def approve_comment(self, comment_id: int, token: str | None = None) -> dict:
        item = self.find_queue_item(comment_id, token=token)
        assert item is not None, f"no open moderation item for comment {comment_id}"
        expect(self.claim_and_decide(item["id"], "approve", token), *OK)
        return item

    def ensure_published(self, comment: dict) -> dict:
        """Approve a pending comment (as admin) when the product held it back."""
        if comment.get("status") == "published":
            return comment
        self.approve_comment(comment["id"])
        got = jbody(self.comment(comment["id"]), 200)
        assert got.get("status") == "published", f"still not published after approval: {got}"
        return got

    def make_trusted_reader(self, guard: RulesGuard, **register_kw: Any) -> Account:
        """A reader whose comments publish at once.

        Robust path first: the reader posts `trusted_after_approved` comments in a scratch
        topic and the admin approves each through the moderation queue (no global state
        touched). A probe comment must then come back `published`. Only if that fails does
        it fall back to lowering `trusted_after_approved` to 0 (and `premoderate_all` off)
        through `guard`, which restores the rules after the test."""
        acct = self.register(**register_kw)
        slug = self.scratch_topic()["slug"]
        why = ""
        try:
            try:
                needed = int(self.get_rules().get("trusted_after_approved", 2))
            except Exception:
                needed = 2
            approvals = 0
            for i in range(max(needed, 0)):
                c = self.post_comment(slug, f"warm-up comment {i} {uid()}", acct.token)
                if c.get("status") == "published":
                    break
                self.approve_comment(c["id"])
                approvals += 1
            probe = self.post_comment(slug, f"trust probe {uid()}", acct.token)
            if probe.get("status") == "published":
                RUN_STATS["trusted_by_approval" if approvals else "trusted_already"] += 1
                return acct
            why = f"after {needed} approvals a new comment was still {probe.get('status')!r}"
        except Exception as exc:
            why = f"approval path failed: {type(exc).__name__}: {str(exc)[:300]}"
        guard(trusted_after_approved=0, premoderate_all=False)
        probe = self.post_comment(slug, f"trust probe {uid()}", acct.token)
        if probe.get("status") == "published":
            RUN_STATS["trusted_by_rules"] += 1
            return acct
        RUN_STATS["trusted_failed"] += 1
        raise AssertionError(
            f"could not make a trusted reader ({why}; with trusted_after_approved=0 a new comment "
            f"was still {probe.get('status')!r})")

    def notifications(self, token: str) -> dict:
        return jbody(self.api.get("/api/me/notifications", token=token, params={"limit": 100}), 200)

    def wait_notification(self, token: str, pred: Callable[[dict], bool], timeout: float = 5.0) -> dict | None:
        def look() -> dict | None:
            for n in self.notifications(token)["items"]:
                if pred(n):
                    return n
            return None

        return eventually(look, timeout)

    def log_entries(self, token: str | None = None, max_pages: int = 3, **filters: Any) -> list[dict]:
        out: list[dict] = []
        for page in page_through(self.api, "/api/moderation/log", token=token or self.admin.token,
                                 params=filters, max_pages=max_pages):
            out.extend(page["items"])
        return out

    def coach_questions(self, status: str, token: str, max_pages: int = 100) -> list[dict]:
        return list(all_items(self.api, "/api/coach/questions", token=token, params={"status": status},
                              max_pages=max_pages))

    def search(self, q: str, token: str | None = None, **params: Any) -> httpx.Response:
        return self.api.get("/api/search", token=token, params={"q": q, **params})


def search_has_comment(body: dict, cid: int, marker: str) -> bool:
    items = body.get("items") or []
    if any(hit_comment_id(h) == cid for h in items if isinstance(h, dict)):
        return True
    return marker.lower() in json.dumps(items).lower()


# --------------------------------------------------------------------------- HTML checks

FORBIDDEN_ELEMENTS = {
    "script", "style", "iframe", "object", "embed", "svg", "math", "form", "base", "meta", "link",
    "frame", "frameset", "applet", "template", "noscript", "portal",
}
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "background", "poster", "cite", "data", "codebase",
    "srcset", "dynsrc", "lowsrc", "longdesc", "ping", "manifest", "icon", "profile", "usemap",
    "classid", "archive", "xlink:href",
}
SAFE_SCHEMES = {"http", "https", "mailto"}
ALLOWED_ELEMENTS = {"p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li"}
# Attributes tolerated beyond the contract's a[href, rel] (harmless, commonly emitted).
ALLOWED_ATTRIBUTES = {"a": {"href", "rel", "title"}, "ol": {"start"}, "code": {"class"}}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def local_name(name: str) -> str:
    """Tag or attribute name without its namespace ("{http://www.w3.org/2000/svg}svg" -> "svg")."""
    return name.rsplit("}", 1)[-1] if name.startswith("{") else name


_local = local_name


def normalize_url(value: str) -> str:
    """Strip whitespace and control characters anywhere, lower-case (conservative)."""
    return "".join(c for c in value if not c.isspace() and unicodedata.category(c) != "Cc").lower()


def parse_fragment(body_html: str):
    return html5lib.parseFragment(body_html or "", treebuilder="etree", namespaceHTMLElements=False)


def elements(body_html: str) -> list:
    return [el for el in parse_fragment(body_html).iter()
            if isinstance(el.tag, str) and el.tag != "DOCUMENT_FRAGMENT"]


def html_problems(body_html: str) -> list[str]:
    """Security findings in sanitized HTML as a browser would parse it."""
    problems: list[str] = []
    for el in elements(body_html):
        tag = _local(el.tag).lower()
        if tag in FORBIDDEN_ELEMENTS:
            problems.append(f"<{tag}> element")
        for raw_name, value in el.attrib.items():
            name = _local(raw_name).lower()
            norm = normalize_url(value or "")
            if name.startswith("on"):
                problems.append(f"{name}= on <{tag}>")
            if name == "style":
                problems.append(f"style= on <{tag}>")
            if name == "srcdoc":
                problems.append(f"srcdoc= on <{tag}>")
            if name in URL_ATTRIBUTES or raw_name.endswith("}href"):
                m = _SCHEME.match(norm)
                if m and m.group(1) not in SAFE_SCHEMES:
                    problems.append(f"{name}={value!r} on <{tag}> (scheme {m.group(1)})")
            if "javascript:" in norm or "vbscript:" in norm:
                problems.append(f"script URL text in {name}={value!r} on <{tag}>")
    return problems


def roundtrip(body_html: str) -> str:
    """Serialize the parsed fragment and return it (re-parsing it catches mutation XSS)."""
    return html5lib.serialize(parse_fragment(body_html), tree="etree", quote_attr_values="always",
                              omit_optional_tags=False)


def allowlist_violations(body_html: str) -> list[str]:
    out: list[str] = []
    for el in elements(body_html):
        tag = _local(el.tag).lower()
        if tag not in ALLOWED_ELEMENTS:
            out.append(f"<{tag}>")
            continue
        for raw_name, value in el.attrib.items():
            name = _local(raw_name).lower()
            if name not in ALLOWED_ATTRIBUTES.get(tag, set()):
                out.append(f"<{tag} {name}=>")
            elif tag == "code" and name == "class" and not re.fullmatch(r"(language-[\w+#.-]+\s*)+", value or ""):
                out.append(f"<code class={value!r}>")
    return out


def links(body_html: str) -> list[dict]:
    return [dict(el.attrib) for el in elements(body_html) if _local(el.tag).lower() == "a"]


def tags(body_html: str) -> list[str]:
    return [_local(el.tag).lower() for el in elements(body_html)]


def text_of(body_html: str) -> str:
    return "".join(parse_fragment(body_html).itertext())


# --------------------------------------------------------------------------- SSE


class SSEListener:
    """Reads a text/event-stream in a background thread (its own httpx client)."""

    def __init__(self, base_url: str, path: str, token: str | None = None, read_timeout: float = 20.0):
        self.base_url = base_url
        self.path = path
        self.token = token
        self.events: list[SimpleNamespace] = []
        self.status: int | None = None
        self.headers: httpx.Headers | None = None
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self._cond = threading.Condition()
        self._stop = False
        self._response: httpx.Response | None = None
        self._client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(TIMEOUT, read=read_timeout))
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self, settle: float = 1.0) -> SSEListener:
        self._thread.start()
        self.ready.wait(TIMEOUT)
        time.sleep(settle)  # let the server subscribe before anything is posted
        return self

    def _emit(self, event: str, data: str) -> None:
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = None
        with self._cond:
            self.events.append(SimpleNamespace(event=event, data=data, json=parsed))
            self._cond.notify_all()

    def _run(self) -> None:
        headers = {"Accept": "text/event-stream"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            with self._client.stream("GET", self.path, headers=headers) as r:
                self._response = r
                self.status = r.status_code
                self.headers = r.headers
                self.ready.set()
                if r.status_code != 200:
                    return
                event, data = "message", []
                for line in r.iter_lines():
                    if self._stop:
                        return
                    if line == "":
                        if data:
                            self._emit(event, "\n".join(data))
                        event, data = "message", []
                        continue
                    if line.startswith(":"):
                        continue
                    field, _, value = line.partition(":")
                    if value.startswith(" "):
                        value = value[1:]
                    if field == "event":
                        event = value
                    elif field == "data":
                        data.append(value)
        except BaseException as exc:
            if not self._stop:
                self.error = exc
        finally:
            self.ready.set()

    def wait_for(self, pred: Callable[[SimpleNamespace], bool], timeout: float = 5.0) -> SimpleNamespace | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for ev in self.events:
                    with contextlib.suppress(Exception):  # a predicate that fails on one event skips it
                        if pred(ev):
                            return ev
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(min(remaining, 0.25))

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(Exception):
            if self._response is not None:
                self._response.close()
        with contextlib.suppress(Exception):
            self._client.close()
        self._thread.join(2)


def event_comment_id(ev: SimpleNamespace) -> Any:
    data = ev.json
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("comment"), dict):
        return data["comment"].get("id")
    return data.get("id")


def is_comment_event(cid: int) -> Callable[[SimpleNamespace], bool]:
    return lambda ev: ev.event == "comment" and event_comment_id(ev) == cid
