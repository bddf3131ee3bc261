"""The OpenAPI document is complete and true, and its UI loads nothing from elsewhere.

- it validates (openapi-spec-validator);
- `security`: walked from the route table (guards and the viewer/user dependencies), and
  checked against behaviour (a bad token is a 401 exactly where security is declared; an
  anonymous caller is a 401 exactly where it is required);
- every closed set is an enum; component names carry no module path;
- the error schema has the optional fields errors carry, and real errors match it;
- one timestamp format (RFC 3339, `Z`) in the schema and on the wire;
- the response headers routes set are documented, and documented ones are sent;
- /schema serves Swagger UI from this origin, with no inline script.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from litestar.handlers import HTTPRouteHandler

from forum import auth, ratelimit
from tests.security.conftest import World, fill_path, operations
from tests.security.support import strip_types

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")
BAD_TOKEN = {"Authorization": "Bearer not-a-token-of-this-forum"}


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _alternatives(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a (possibly nullable) property schema."""
    alts = schema.get("oneOf") or schema.get("anyOf") or [schema]
    return [a for a in alts if a.get("type") != "null"]


def _enum(schema: dict[str, Any]) -> set[Any] | None:
    """The closed set a (possibly nullable) string property allows, None when it is open."""
    alts = _alternatives(schema)
    if len(alts) != 1:
        return None
    if "const" in alts[0]:  # a set of one value
        return {alts[0]["const"]}
    if "enum" not in alts[0]:
        return None
    return set(alts[0]["enum"]) - {None}


def _is_string(schema: dict[str, Any]) -> bool:
    types = [a.get("type") for a in _alternatives(schema)]
    return any(t == "string" or (isinstance(t, list) and "string" in t) for t in types)


def test_document_validates(openapi_doc: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(openapi_doc)


@pytest.fixture
async def openapi_doc(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


# ---------------------------------------------------------------- security


def _reads_token(handler: Any) -> tuple[bool, bool]:
    """(reads the caller's token at all, refuses an anonymous caller), from the route table:
    the auth guards and the `viewer` / `user` dependencies are the only doors to a token."""
    guards = set(handler.resolve_guards())
    params = set(handler.parsed_fn_signature.parameters)
    auth_guards = {auth.requires_user, auth.requires_active_user, auth.requires_active_if_signed_in,
                   auth.requires_coach, auth.requires_moderator, auth.requires_admin}
    unknown = guards - auth_guards
    assert not unknown, f"{handler}: guard(s) {unknown} unknown to this test; say whether they need a token"
    needs = "user" in params or bool(guards - {auth.requires_active_if_signed_in})
    reads = needs or "viewer" in params or auth.requires_active_if_signed_in in guards
    return reads, needs


async def test_route_table_operations_declare_security(app: Any, openapi_doc: dict[str, Any]) -> None:
    documented = {(m, p): op for m, p, op in operations(openapi_doc)}
    checked = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not isinstance(handler, HTTPRouteHandler) or not handler.resolve_include_in_schema():
                continue
            reads, needs = _reads_token(handler)
            path = route.path
            for method in handler.http_methods:
                op = documented.get((method, strip_types(path).rstrip("/") or "/"))
                assert op is not None, f"{method} {path} is served but not in the document"
                checked += 1
                security = op.get("security")
                if needs:
                    assert security == [{"bearer": []}], f"{method} {path}: needs a token, declares {security}"
                elif reads:
                    assert security == [{}, {"bearer": []}], f"{method} {path}: optional token, declares {security}"
                elif op["operationId"] != "get_metrics":
                    assert not security, f"{method} {path}: never reads a token, declares {security}"
    assert checked >= 40
    schemes = openapi_doc["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer", "description": schemes["bearer"]["description"]}


async def test_declared_security_matches_behaviour(world: World) -> None:
    """A bad token is refused (401) exactly where the document says a token is read, and an
    anonymous caller exactly where it says one is required."""
    c = world.client
    mismatches = []
    for method, path, op in operations(world.doc):
        if op["operationId"] in ("stream_topic_events", "get_metrics"):
            continue  # a stream that reads no token (checked statically above); the metrics token
        url = fill_path(path, world)
        body = {} if method in ("POST", "PUT", "PATCH") else None
        # required query parameters get a well-formed value, so validation does not answer first
        query = {p["name"]: "https://blog.example/post" if p["name"] == "url" else "x"
                 for p in op.get("parameters", []) if p["in"] == "query" and p.get("required")}
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        security = op.get("security") or []
        bad = await c.request(method, url, headers=BAD_TOKEN, json=body)
        refused_bad = bad.status_code == 401
        if refused_bad != bool(security):
            mismatches.append(f"{method} {path}: bad token -> {bad.status_code}, declares {security}")
        anon = await c.request(method, url, json=body)
        required = bool(security) and {} not in security
        if (anon.status_code == 401) != required:
            mismatches.append(f"{method} {path}: anonymous -> {anon.status_code}, declares {security}")
    assert not mismatches, "\n".join(mismatches)


# ---------------------------------------------------------------- enums and names

# Every closed set of the API, as (component, property) -> values.
CLOSED_SETS: dict[tuple[str, str], set[str]] = {
    ("UserRef", "role"): {"reader", "coach", "moderator", "admin"},
    ("MeOut", "role"): {"reader", "coach", "moderator", "admin"},
    ("MeOut", "status"): {"active", "suspended", "erased"},
    ("ProfileOut", "role"): {"reader", "coach", "moderator", "admin"},
    ("RoleChangeIn", "role"): {"reader", "coach", "moderator", "admin"},
    ("AdminUserOut", "role"): {"reader", "coach", "moderator", "admin"},
    ("AdminUserOut", "status"): {"active", "suspended", "erased"},
    ("TopicCreate", "kind"): {"article", "discussion"},
    ("TopicCreate", "comments"): {"open", "premoderated", "closed"},
    ("TopicUpdate", "comments"): {"open", "premoderated", "closed"},
    ("TopicRead", "kind"): {"article", "discussion"},
    ("TopicRead", "comments"): {"open", "premoderated", "closed"},
    ("TopicRead", "status"): {"published", "pending", "rejected", "spam", "deleted"},
    ("CommentCreate", "kind"): {"comment", "question"},
    ("CommentRead", "kind"): {"comment", "question"},
    ("CommentRead", "status"): {"published", "pending", "rejected", "spam", "deleted"},
    ("CommentRead", "author_badge"): {"coach", "moderator", "admin"},
    ("CommentRead", "question_status"): {"unanswered", "answered", "accepted"},
    ("NotificationRead", "kind"): {"reply", "answer", "accepted", "moderation", "urgent"},
    ("CoachQuestion", "question_status"): {"unanswered", "answered", "accepted"},
    ("AnswerAccepted", "question_status"): {"unanswered", "answered", "accepted"},
    ("SearchHit", "kind"): {"comment", "topic"},
    ("FlagCreate", "reason"): {"spam", "abuse", "selling_or_sourcing", "dangerous_advice", "personal_information",
                               "self_harm_risk", "off_topic", "other"},
    ("FlagRead", "reason"): {"spam", "abuse", "selling_or_sourcing", "dangerous_advice", "personal_information",
                             "self_harm_risk", "off_topic", "other"},
    ("DecisionCreate", "action"): {"approve", "reject", "spam", "dismiss", "edit_approve"},
    ("BulkDecisionCreate", "action"): {"approve", "reject", "spam", "dismiss"},
    ("ItemState", "queue"): {"pending", "reported", "urgent"},
    ("ItemState", "status"): {"open", "decided"},
    ("ItemState", "target_type"): {"comment", "topic"},
    ("ItemState", "decision"): {"approve", "reject", "spam", "dismiss", "edit_approve", "answered", "resolved"},
    ("ItemState", "target_status"): {"published", "pending", "rejected", "spam", "deleted"},
    ("UserComment", "status"): {"published", "pending", "rejected", "spam", "deleted"},
    ("ModeratorUserView", "role"): {"reader", "coach", "moderator", "admin"},
    ("ModeratorUserView", "status"): {"active", "suspended", "erased"},
    ("SuspensionState", "status"): {"active", "suspended", "erased"},
    ("Health", "status"): {"ok", "degraded"},
    ("Health", "database"): {"ok", "unavailable"},
    ("Liveness", "status"): {"ok"},
    ("Readiness", "status"): {"ready", "not_ready"},
    ("Readiness", "database"): {"ok", "unavailable"},
    ("WorkPost", "kind"): {"comment", "question", "discussion", "article"},
    ("WorkPost", "status"): {"published", "pending", "rejected", "spam", "deleted"},
    ("WorkPost", "question_status"): {"unanswered", "answered", "accepted"},
    ("WorklistEntry", "kind"): {"urgent", "question"},
    ("WorklistEntry", "target_type"): {"comment", "topic"},
    ("UrgentHidden", "target_type"): {"comment", "topic"},
    ("UrgentHidden", "target_status"): {"published", "pending", "rejected", "spam", "deleted"},
    ("UrgentResolved", "status"): {"decided"},
    ("UrgentResolved", "decision"): {"resolved"},
}
# Query parameters that take a closed set: (operation id, parameter) -> values.
CLOSED_PARAMS: dict[tuple[str, str], set[str]] = {
    ("list_topic_comments", "sort"): {"oldest", "newest", "top"},
    ("list_topics", "kind"): {"article", "discussion"},
    ("list_queue_items", "queue"): {"pending", "reported", "urgent"},
    ("list_coach_questions", "status"): {"unanswered", "answered", "accepted"},
}
# Property names that always hold a closed set, wherever they appear (a new schema with one
# of them must declare its enum) -- except where the set is open on purpose.
CLOSED_NAMES = {"role", "status", "kind", "queue", "reason", "action", "decision", "question_status",
                "author_badge", "comments", "target_type", "target_status", "database"}
OPEN_ON_PURPOSE = {
    ("LogEntry", "action"),  # every audited action, growing with the features
    ("LogEntry", "target_type"),  # comment, topic, user, rules... idem
    ("LogEntry", "reason"), ("DecisionCreate", "reason"), ("BulkDecisionCreate", "reason"),
    ("SuspendCreate", "reason"), ("UnsuspendCreate", "reason"), ("NotificationRead", "reason"),
    # a staff member's free-text reason for an action on someone else's content
    ("CommentEdit", "reason"), ("StaffReason", "reason"), ("TopicUpdate", "reason"), ("UrgentHide", "reason"),
    ("TopicMerge", "reason"),  # the admin's words, kept in the audit log
}


def test_every_closed_set_is_an_enum(openapi_doc: dict[str, Any]) -> None:
    schemas = openapi_doc["components"]["schemas"]
    problems = []
    for (component, prop), values in CLOSED_SETS.items():
        schema = schemas[component]["properties"][prop]
        if _enum(schema) != values:
            problems.append(f"{component}.{prop}: {schema}")
    for name, component in schemas.items():
        for prop, schema in (component.get("properties") or {}).items():
            known = (name, prop) in OPEN_ON_PURPOSE or (name, prop) in CLOSED_SETS
            if prop in CLOSED_NAMES and _is_string(schema) and not known:
                problems.append(f"{name}.{prop} looks like a closed set: add it to CLOSED_SETS or OPEN_ON_PURPOSE")
    ops = {op["operationId"]: op for _, _, op in operations(openapi_doc)}
    for (operation_id, param), values in CLOSED_PARAMS.items():
        [schema] = [p["schema"] for p in ops[operation_id]["parameters"] if p["name"] == param]
        if _enum(schema) != values:
            problems.append(f"{operation_id} ?{param}: {schema}")
    assert not problems, "\n".join(problems)


async def test_a_value_outside_a_closed_set_is_a_named_400(world: World) -> None:
    c, w = world.client, world
    r = await c.post("/api/topics", headers=w.h(w.coach), json={"kind": "essay", "title": "T", "body": "b"})
    assert r.status_code == 400 and "kind" in r.json()["detail"], r.text
    assert "must be one of article, discussion" in r.json()["detail"]
    r = await c.get(f"/api/topics/{w.slug}/comments", params={"sort": "random"})
    assert r.status_code == 400 and "sort" in r.json()["detail"], r.text
    assert "must be one of oldest, newest, top" in r.json()["detail"]
    r = await c.patch(f"/api/admin/users/{w.reader.id}", headers=w.h(w.admin), json={"role": "owner"})
    assert r.status_code == 400 and "role" in r.json()["detail"], r.text


def test_component_names_carry_no_module_path(openapi_doc: dict[str, Any]) -> None:
    names = list(openapi_doc["components"]["schemas"])
    bad = [n for n in names if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", n)]
    assert not bad, bad
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', str(openapi_doc).replace("'", '"')))
    assert refs <= set(names)


# ---------------------------------------------------------------- errors


def test_error_schema_has_the_optional_fields(openapi_doc: dict[str, Any]) -> None:
    error = openapi_doc["components"]["schemas"]["ErrorBody"]
    assert set(error["required"]) == {"status_code", "detail"}
    props = error["properties"]
    assert props["retry_after"]["type"] == "integer"
    until = _alternatives(props["suspended_until"])
    assert until == [{"type": "string", "format": "date-time"}]
    assert {"null"} == {a.get("type") for a in props["suspended_until"]["oneOf"]} - {"string"}
    assert {"rule", "claimed_by"} <= set(props)
    for method, path, op in operations(openapi_doc):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")) and "content" in response:
                schema = response["content"]["application/json"]["schema"]
                # the health probes answer their own report, degraded (a load balancer reads it)
                if op["operationId"] not in ("get_health", "get_health_ready"):
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


async def test_errors_carry_the_documented_fields(world: World) -> None:
    c, w = world.client, world
    r = await c.post(f"/api/topics/{w.slug}/comments", headers=w.h(w.suspended), json={"body": "hello"})
    assert r.status_code == 403
    assert RFC3339_Z.match(r.json()["suspended_until"]), r.json()
    ratelimit.set_factor(1.0)
    try:
        for _ in range(40):
            r = await c.post("/api/auth/login", json={"login": "nobody_at_all", "password": "wrong-password"})
            if r.status_code == 429:
                break
    finally:
        ratelimit.set_factor(0.0)
    assert r.status_code == 429
    assert isinstance(r.json()["retry_after"], int) and str(r.json()["retry_after"]) == r.headers["retry-after"]


# ---------------------------------------------------------------- timestamps


def _times(value: Any, key: str = "") -> list[tuple[str, str]]:
    """(key, value) of every string that is a time (keys ending in _at or _until)."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _times(v, k)]
    if isinstance(value, list):
        return [t for v in value for t in _times(v, key)]
    if isinstance(value, str) and (key.endswith("_at") or key.endswith("until")):
        return [(key, value)]
    return []


def test_every_time_in_the_schema_is_a_date_time(openapi_doc: dict[str, Any]) -> None:
    wrong = []
    for name, component in openapi_doc["components"]["schemas"].items():
        for prop, schema in (component.get("properties") or {}).items():
            if prop.endswith(("_at", "_until")):
                alts = _alternatives(schema)
                if not alts or any(a.get("format") != "date-time" for a in alts):
                    wrong.append(f"{name}.{prop}: {schema}")
    assert not wrong, wrong


async def test_every_time_on_the_wire_is_rfc3339_with_z(world: World) -> None:
    c, w = world.client, world
    posted = await c.post(f"/api/topics/{w.slug}/comments", headers=w.h(w.coach),
                          json={"body": "A time check."})
    assert posted.status_code == 201, posted.text
    assert posted.json()["created_at"].endswith("Z")
    edited = await c.patch(f"/api/comments/{posted.json()['id']}", headers=w.h(w.coach), json={"body": "Edited."})
    assert edited.status_code == 200, edited.text
    answers = [posted, edited]
    for path, who in [(f"/api/topics/{w.slug}/comments", None), (f"/api/topics/{w.slug}", None),
                      ("/api/topics", None), (f"/api/comments/{w.comment_id}", None),
                      (f"/api/comments/{posted.json()['id']}/revisions", w.coach),
                      ("/api/me", w.reader), ("/api/me/export", w.reader), ("/api/me/notifications", w.reader),
                      ("/api/moderation/queue?queue=reported", w.moderator), ("/api/moderation/log", w.moderator),
                      (f"/api/moderation/users/{w.reader.id}", w.moderator), ("/api/moderation/rules", w.admin),
                      ("/api/coach/questions", w.coach), (f"/api/users/{w.reader.id}", None)]:
        r = await c.get(path, headers=w.h(who))
        assert r.status_code == 200, (path, r.text)
        answers.append(r)
    times = [t for r in answers for t in _times(r.json())]
    assert len(times) >= 20
    wrong = [t for t in times if not RFC3339_Z.match(t[1])]
    assert not wrong, wrong


# ---------------------------------------------------------------- headers


async def test_documented_headers(world: World) -> None:
    c, w = world.client, world
    ops = {op["operationId"]: op for _, _, op in operations(world.doc)}
    for op in ops.values():
        for status, response in op["responses"].items():
            assert "X-Request-ID" in response.get("headers", {}), (op["operationId"], status)
            if status in ("429", "503"):
                assert "Retry-After" in response["headers"], (op["operationId"], status)

    def documented(operation_id: str, status: int) -> set[str]:
        return {h.lower() for h in ops[operation_id]["responses"][str(status)].get("headers", {})}

    interesting = {"etag", "cache-control", "vary", "idempotent-replayed", "content-disposition", "retry-after",
                   "x-request-id", "content-encoding"}
    thread = await c.get(f"/api/topics/{w.slug}/comments", headers={"Accept-Encoding": "gzip"})
    assert thread.headers.get("content-encoding") == "gzip" or len(thread.content) < 1024
    not_modified = await c.get(f"/api/topics/{w.slug}/comments", headers={"If-None-Match": thread.headers["etag"]})
    assert not_modified.status_code == 304
    key = {"Idempotency-Key": "openapi-test-key"}
    first = await c.post(f"/api/topics/{w.slug}/comments", headers={**w.h(w.coach), **key}, json={"body": "Once."})
    again = await c.post(f"/api/topics/{w.slug}/comments", headers={**w.h(w.coach), **key}, json={"body": "Once."})
    assert again.headers["idempotent-replayed"] == "true" and again.json()["id"] == first.json()["id"]
    for operation_id, r in [("list_topic_comments", thread), ("list_topic_comments", not_modified),
                            ("create_comment", again), ("create_comment", first)]:
        sent = {h for h in r.headers if h in interesting}
        assert sent <= documented(operation_id, r.status_code), (operation_id, r.status_code, sent)
    assert {"etag", "cache-control"} <= documented("list_topic_comments", 304)


# ---------------------------------------------------------------- the UI


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.refs += [v for k, v in attrs if k in ("src", "href", "data-spec-url") and v]
        if tag == "script":
            self._in_script = True
            if not values.get("src"):
                self.inline_scripts += 1
        for k, _ in attrs:
            assert not k.startswith("on"), f"inline event handler {k}"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        assert not (self._in_script and data.strip()), "inline script"


async def test_the_ui_loads_only_from_this_origin(client: httpx.AsyncClient) -> None:
    page = await client.get("/schema")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    parser = _Refs()
    parser.feed(page.text)
    assert parser.inline_scripts == 0
    assert any(r.endswith("swagger-ui-bundle.js") for r in parser.refs)
    for ref in parser.refs:
        assert ref.startswith("/") and not ref.startswith("//"), f"not same-origin: {ref}"
        asset = await client.get(ref)
        assert asset.status_code == 200, ref
    assert "cdn" not in page.text and "http" not in page.text.replace("http-equiv", "")
    policies = page.headers.get_list("content-security-policy")
    strict = [p for p in policies if "script-src" in p]
    assert strict, policies
    script_src = re.search(r"script-src([^;]*)", strict[0])
    assert script_src and script_src.group(1).split() == ["'self'"], strict[0]
    assert "default-src 'none'" in strict[0] and "frame-ancestors 'none'" in strict[0]
    init = await client.get(next(r for r in parser.refs if r.endswith("forum-swagger-init.js")))
    assert b"validatorUrl: null" in init.content  # no badge fetched from validator.swagger.io
    licence = await client.get("/schema/assets/LICENSE")
    assert licence.status_code == 200 and b"Apache License" in licence.content
