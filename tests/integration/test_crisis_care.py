"""Crisis care reaches people, not only a queue (issue 14).

Every crisis post (comment, reply, question, discussion, a `self_harm_risk` flag) goes
through moderation.crisis.open_urgent: an urgent item in the coaches' work list, an
`urgent` notification to every active coach (in-app, live over SSE, email when on, never
the text), the on-call webhook through the outbox (signed, retried), a claim so one coach
answers, one-action hiding, the `crisis_posts` rule, and items that survive withdrawal.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from forum import sql
from forum.notifications import mail
from forum.settings import Settings, SettingsError
from tests.helpers import Account, make_user
from tests.integration.test_live import _serve
from tests.integration.test_mail import Inbox, smtp  # noqa: F401  (the aiosmtpd fixture)
from tests.integration.test_moderation_support import make_comment, make_topic, set_rules

CRISIS = "end my life"
SUPPORT = "You are not alone; a coach will answer here."


@pytest.fixture
async def crisis_rules(client: httpx.AsyncClient) -> None:
    await set_rules(crisis_words=[CRISIS], crisis_message=SUPPORT)


async def trusted_reader() -> Account:
    reader = await make_user()
    topic = await make_topic()
    for _ in range(2):
        await make_comment(topic, reader)
    return reader


async def post(client: httpx.AsyncClient, who: Account | None, slug: str, body: str, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"body": body, **extra}
    if who is None:
        payload["guest_name"] = "A parent"
    r = await client.post(f"/api/topics/{slug}/comments", json=payload, headers=who.headers if who else {})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def worklist(client: httpx.AsyncClient, coach: Account, **params: Any) -> dict[str, Any]:
    r = await client.get("/api/coach/worklist", headers=coach.headers, params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def urgent_notifications(client: httpx.AsyncClient, who: Account) -> list[dict[str, Any]]:
    r = await client.get("/api/me/notifications", headers=who.headers)
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["kind"] == "urgent"]


# ---------------------------------------------------------------- every kind of crisis post


@pytest.mark.parametrize("kind", ["comment", "reply", "question", "discussion", "flag"])
async def test_every_kind_of_crisis_post_reaches_every_coach(client: httpx.AsyncClient, crisis_rules: None,
                                                             kind: str) -> None:
    coaches = [await make_user("coach"), await make_user("coach"), await make_user("moderator")]
    suspended = await make_user("coach", status="suspended")
    reader = await trusted_reader()
    topic = await make_topic()
    text = f"Some nights I want to {CRISIS}."
    if kind == "comment":
        made = await post(client, reader, topic["slug"], text)
        assert made["support"] == SUPPORT and made["status"] == "published"
    elif kind == "reply":
        parent = await post(client, await trusted_reader(), topic["slug"], "How are you all doing?")
        made = await post(client, reader, topic["slug"], text, parent_id=parent["id"])
    elif kind == "question":
        made = await post(client, reader, topic["slug"], text, kind="question")
    elif kind == "discussion":
        r = await client.post("/api/topics", headers=reader.headers,
                              json={"kind": "discussion", "title": "Hard week", "body": text})
        assert r.status_code == 201, r.text
        made = r.json()
    else:  # a reader flags someone else's post as a self-harm risk
        made = await post(client, await trusted_reader(), topic["slug"], "I can't see a way out")
        r = await client.post(f"/api/comments/{made['id']}/flags", headers=reader.headers,
                              json={"reason": "self_harm_risk"})
        assert r.status_code == 201, r.text

    items = (await worklist(client, coaches[0]))["items"]
    urgent = [i for i in items if i["kind"] == "urgent"]
    assert len(urgent) == 1, items
    entry = urgent[0]
    assert entry["target_type"] == ("topic" if kind == "discussion" else "comment")
    assert entry["withdrawn"] is False and entry["post"] is not None
    if kind == "discussion":
        assert entry["topic"]["id"] == made["id"] and CRISIS in entry["post"]["body_html"]
    else:
        assert entry["comment_id"] == made["id"]
    assert entry["reasons"] == (["self_harm_risk"] if kind == "flag" else ["crisis_word"])

    for coach in coaches:
        notes = await urgent_notifications(client, coach)
        assert len(notes) == 1 and notes[0]["item_id"] == entry["item_id"]
        # discreet: the notification names no post and no person
        assert notes[0]["comment_id"] is None and notes[0]["topic_slug"] is None
    assert await urgent_notifications(client, suspended) == []
    assert await urgent_notifications(client, reader) == []


async def test_a_second_cause_does_not_alert_twice(client: httpx.AsyncClient, crisis_rules: None) -> None:
    coach = await make_user("coach")
    topic = await make_topic()
    made = await post(client, await trusted_reader(), topic["slug"], f"I want to {CRISIS}")
    r = await client.post(f"/api/comments/{made['id']}/flags", headers=(await make_user()).headers,
                          json={"reason": "self_harm_risk"})
    assert r.status_code == 201
    assert len(await urgent_notifications(client, coach)) == 1
    urgent = [i for i in (await worklist(client, coach))["items"] if i["kind"] == "urgent"]
    assert len(urgent) == 1 and urgent[0]["reasons"] == ["crisis_word", "self_harm_risk"]


async def test_worklist_urgent_first_then_unanswered_questions_oldest_first(client: httpx.AsyncClient,
                                                                           crisis_rules: None) -> None:
    coach = await make_user("coach")
    topic = await make_topic()
    asker = await trusted_reader()
    q1 = await post(client, asker, topic["slug"], "How do I talk to my son?", kind="question")
    q2 = await post(client, asker, topic["slug"], "Is naloxone easy to use?", kind="question")
    crisis_q = await post(client, asker, topic["slug"], f"Should I just {CRISIS}?", kind="question")
    crisis_c = await post(client, await trusted_reader(), topic["slug"], f"I want to {CRISIS}")
    page = await worklist(client, coach)
    assert [(i["kind"], i["comment_id"]) for i in page["items"]] == [
        ("urgent", crisis_q["id"]), ("urgent", crisis_c["id"]), ("question", q1["id"]), ("question", q2["id"])]
    # paging keeps the order across both parts
    first = await worklist(client, coach, limit=3)
    rest = await worklist(client, coach, limit=3, cursor=first["next_cursor"])
    assert [i["comment_id"] for i in first["items"] + rest["items"]] == [
        crisis_q["id"], crisis_c["id"], q1["id"], q2["id"]]
    assert rest["next_cursor"] is None
    # the old route keeps its contract: questions only, urgent first
    old = (await client.get("/api/coach/questions", headers=coach.headers)).json()["items"]
    assert [q["id"] for q in old] == [crisis_q["id"], q1["id"], q2["id"]] and old[0]["urgent"] is True
    reader = await make_user()
    assert (await client.get("/api/coach/worklist", headers=reader.headers)).status_code == 403
    assert (await client.get("/api/coach/worklist")).status_code == 401
    bad = await client.get("/api/coach/worklist", headers=coach.headers, params={"cursor": "nonsense"})
    assert bad.status_code == 400 and "cursor" in bad.json()["detail"]


# ---------------------------------------------------------------- claim, hide, resolve, stats


async def test_one_coach_claims_and_answers_and_stats_count_it(client: httpx.AsyncClient, crisis_rules: None) -> None:
    a, b = await make_user("coach"), await make_user("coach")
    topic = await make_topic()
    made = await post(client, await trusted_reader(), topic["slug"], f"I want to {CRISIS}")
    item_id = (await worklist(client, a))["items"][0]["item_id"]

    r = await client.post(f"/api/coach/urgent/{item_id}/claim", headers=a.headers)
    assert r.status_code == 200 and r.json()["claimed_by"]["id"] == a.id
    assert (await client.post(f"/api/coach/urgent/{item_id}/claim", headers=b.headers)).status_code == 409
    assert (await worklist(client, b))["items"][0]["claimed_by"]["id"] == a.id
    # b may not resolve or hide what a holds
    assert (await client.post(f"/api/coach/urgent/{item_id}/resolve", headers=b.headers, json={})).status_code == 409
    stats = (await client.get("/api/coach/stats", headers=a.headers)).json()
    assert stats["urgent_open"] == 1 and stats["urgent_closed"] == 0

    # a's reply under the post answers it: the item closes, the response time is counted
    await sql.execute("UPDATE moderation_item SET created_at = now() - interval '12 minutes' WHERE id = $1", item_id)
    await post(client, a, topic["slug"], "I am here with you. Can you tell me where you are?", parent_id=made["id"])
    assert [i for i in (await worklist(client, a))["items"] if i["kind"] == "urgent"] == []
    row = await sql.fetchrow("SELECT status, decision, decided_by FROM moderation_item WHERE id = $1", item_id)
    assert dict(row) == {"status": "decided", "decision": "answered", "decided_by": a.id}
    stats = (await client.get("/api/coach/stats", headers=a.headers)).json()
    assert stats["urgent_open"] == 0 and stats["urgent_closed"] == 1
    assert 11.5 <= stats["urgent_median_response_minutes"] <= 12.5
    actions = [r["action"] for r in await sql.fetch("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["urgent_opened", "claim", "urgent_answered"]


async def test_a_coach_comment_in_a_crisis_discussion_answers_it(client: httpx.AsyncClient,
                                                                crisis_rules: None) -> None:
    coach, author = await make_user("coach"), await trusted_reader()
    r = await client.post("/api/topics", headers=author.headers,
                          json={"kind": "discussion", "title": "Tonight", "body": f"I will {CRISIS}"})
    slug = r.json()["slug"]
    await post(client, await trusted_reader(), slug, "Hold on, please")  # a reader's reply answers nothing
    assert [i["kind"] for i in (await worklist(client, coach))["items"]] == ["urgent"]
    await post(client, coach, slug, "I am a coach and I am here. Are you safe right now?")
    assert (await worklist(client, coach))["items"] == []
    assert await sql.fetchval("SELECT decision FROM moderation_item WHERE queue = 'urgent'") == "answered"


async def test_coach_claims_only_urgent_items(client: httpx.AsyncClient, crisis_rules: None) -> None:
    coach = await make_user("coach")
    topic = await make_topic()
    held = await post(client, None, topic["slug"], "a guest comment")  # a pending item, not urgent
    item = await sql.fetchval("SELECT id FROM moderation_item WHERE comment = $1", held["id"])
    for action in ("claim", "release"):
        assert (await client.post(f"/api/coach/urgent/{item}/{action}", headers=coach.headers)).status_code == 404
    assert (await client.post(f"/api/coach/urgent/{item}/hide", headers=coach.headers, json={})).status_code == 404
    assert (await client.get("/api/moderation/queue", headers=coach.headers,
                             params={"queue": "urgent"})).status_code == 403


async def test_resolve_closes_once_and_is_audited(client: httpx.AsyncClient, crisis_rules: None) -> None:
    coach = await make_user("coach")
    topic = await make_topic()
    await post(client, await trusted_reader(), topic["slug"], f"I want to {CRISIS}")
    item_id = (await worklist(client, coach))["items"][0]["item_id"]
    r = await client.post(f"/api/coach/urgent/{item_id}/resolve", headers=coach.headers,
                          json={"note": "called the family"})
    assert r.status_code == 200 and r.json()["decision"] == "resolved"
    again = await client.post(f"/api/coach/urgent/{item_id}/resolve", headers=coach.headers, json={})
    assert again.status_code == 409
    entry = await sql.fetchrow("SELECT actor_id, reason, details FROM audit_log WHERE action = 'urgent_resolved'")
    assert entry["actor_id"] == coach.id and entry["reason"] == "called the family"
    assert CRISIS not in entry["details"]
    extra = await client.post(f"/api/coach/urgent/{item_id}/resolve", headers=coach.headers, json={"x": 1})
    assert extra.status_code == 400


@pytest.mark.parametrize("who", ["coach", "moderator"])
async def test_hide_in_one_action_author_still_sees_it(client: httpx.AsyncClient, crisis_rules: None,
                                                       who: str) -> None:
    staff = await make_user(who)
    author = await trusted_reader()
    topic = await make_topic()
    made = await post(client, author, topic["slug"], f"I want to {CRISIS}, here is how")
    item_id = (await worklist(client, staff))["items"][0]["item_id"]
    r = await client.post(f"/api/coach/urgent/{item_id}/hide", headers=staff.headers,
                          json={"reason": "method details"})
    assert r.status_code == 200 and r.json()["target_status"] == "pending"
    assert (await client.get(f"/api/comments/{made['id']}")).status_code == 404
    thread = (await client.get(f"/api/topics/{topic['slug']}/comments")).json()
    assert made["id"] not in [c["id"] for c in thread["items"]]
    mine = await client.get(f"/api/comments/{made['id']}", headers=author.headers)
    assert mine.status_code == 200 and mine.json()["status"] == "pending"
    # held for a moderator; the urgent item stays open (hiding is not answering)
    queues = await sql.fetch("SELECT queue, reasons FROM moderation_item WHERE comment = $1 AND status = 'open'"
                             " ORDER BY queue", made["id"])
    assert [(q["queue"], list(q["reasons"])) for q in queues] == [("pending", ["crisis_hidden"]),
                                                                  ("urgent", ["crisis_word"])]
    entry = await sql.fetchrow("SELECT actor_id, target_id, reason FROM audit_log WHERE action = 'urgent_hide'")
    assert dict(entry) == {"actor_id": staff.id, "target_id": made["id"], "reason": "method details"}
    again = await client.post(f"/api/coach/urgent/{item_id}/hide", headers=staff.headers, json={})
    assert again.status_code == 409


async def test_hide_a_discussion(client: httpx.AsyncClient, crisis_rules: None) -> None:
    coach, author = await make_user("coach"), await trusted_reader()
    r = await client.post("/api/topics", headers=author.headers,
                          json={"kind": "discussion", "title": "Tonight", "body": f"I will {CRISIS}"})
    slug = r.json()["slug"]
    item_id = (await worklist(client, coach))["items"][0]["item_id"]
    assert (await client.post(f"/api/coach/urgent/{item_id}/hide", headers=coach.headers, json={})).status_code == 200
    assert (await client.get(f"/api/topics/{slug}")).status_code == 404
    assert (await client.get(f"/api/topics/{slug}", headers=author.headers)).status_code == 200


# ---------------------------------------------------------------- the crisis_posts rule


async def test_rule_publish_by_default_hold_when_set(client: httpx.AsyncClient, crisis_rules: None) -> None:
    admin, coach = await make_user("admin"), await make_user("coach")
    rules = (await client.get("/api/moderation/rules", headers=admin.headers)).json()
    assert rules["crisis_posts"] == "publish"
    topic = await make_topic()
    published = await post(client, await trusted_reader(), topic["slug"], f"I want to {CRISIS}")
    assert published["status"] == "published"

    body = {k: rules[k] for k in ("banned_words", "suspect_words", "crisis_words", "max_links_untrusted",
                                  "trusted_after_approved", "flag_hide_threshold", "edit_window_minutes",
                                  "premoderate_all", "crisis_message")}
    r = await client.put("/api/moderation/rules", headers=admin.headers, json={**body, "crisis_posts": "hold"})
    assert r.status_code == 200 and r.json()["crisis_posts"] == "hold"
    # a client that does not know the setting keeps it
    r = await client.put("/api/moderation/rules", headers=admin.headers, json=body)
    assert r.json()["crisis_posts"] == "hold"
    bad = await client.put("/api/moderation/rules", headers=admin.headers, json={**body, "crisis_posts": "hide"})
    assert bad.status_code == 400 and "crisis_posts" in bad.text
    change = await sql.fetchval("SELECT details FROM audit_log WHERE action = 'rules_update' ORDER BY id LIMIT 1")
    assert json.loads(change)["changes"]["crisis_posts"] == {"before": "publish", "after": "hold"}

    held = await post(client, await trusted_reader(), topic["slug"], f"Tonight I {CRISIS}")
    assert held["status"] == "pending" and held["support"] == SUPPORT
    reasons = await sql.fetch("SELECT queue, reasons FROM moderation_item WHERE comment = $1 ORDER BY queue",
                              held["id"])
    assert [(r["queue"], list(r["reasons"])) for r in reasons] == [("pending", ["crisis_hold"]),
                                                                  ("urgent", ["crisis_word"])]
    # coaches still see the held text in their work list, and are told
    entry = next(i for i in (await worklist(client, coach))["items"] if i["comment_id"] == held["id"])
    assert entry["post"]["status"] == "pending" and CRISIS in entry["post"]["body_html"]
    assert len(await urgent_notifications(client, coach)) == 2
    # a coach's own post is not held
    coach_post = await post(client, coach, topic["slug"], f"When someone says they want to {CRISIS}, listen.")
    assert coach_post["status"] == "published"


# ---------------------------------------------------------------- withdrawal


async def test_author_deletes_crisis_post_the_item_stays_open(client: httpx.AsyncClient, crisis_rules: None) -> None:
    coach, author = await make_user("coach"), await trusted_reader()
    topic = await make_topic()
    made = await post(client, author, topic["slug"], f"I want to {CRISIS}")
    item_id = (await worklist(client, coach))["items"][0]["item_id"]
    assert (await client.delete(f"/api/comments/{made['id']}", headers=author.headers)).status_code == 204
    assert await sql.fetchval("SELECT count(*) FROM comment WHERE id = $1", made["id"]) == 0
    entry = (await worklist(client, coach))["items"][0]
    assert entry["item_id"] == item_id and entry["withdrawn"] is True and entry["post"] is None
    assert entry["topic"]["slug"] == topic["slug"] and entry["withdrawn_at"] is not None
    assert len(await urgent_notifications(client, coach)) == 1  # the coach's notification stays too
    log = await sql.fetchrow("SELECT actor_id, target_id, details FROM audit_log WHERE action = 'urgent_withdrawn'")
    assert log["actor_id"] == author.id and log["target_id"] == item_id
    assert json.loads(log["details"]) == {"cause": "deleted", "comment_id": made["id"]}
    # moderators see it too, and close it with dismiss
    mod = await make_user("moderator")
    queue = (await client.get("/api/moderation/queue", headers=mod.headers, params={"queue": "urgent"})).json()
    assert queue["items"][0]["withdrawn"] is True and queue["items"][0]["comment"] is None
    assert queue["items"][0]["topic"]["slug"] == topic["slug"]
    bad = await client.post(f"/api/moderation/items/{item_id}/decision", headers=mod.headers,
                            json={"action": "reject", "reason": "x"})
    assert bad.status_code == 400
    r = await client.post(f"/api/moderation/items/{item_id}/decision", headers=mod.headers, json={"action": "dismiss"})
    assert r.status_code == 200 and r.json()["status"] == "decided"


async def test_erasure_keeps_the_urgent_items_open_without_text(client: httpx.AsyncClient,
                                                                crisis_rules: None) -> None:
    coach, author = await make_user("coach"), await trusted_reader()
    topic = await make_topic()
    lone = await post(client, author, topic["slug"], f"I want to {CRISIS}")
    replied = await post(client, author, topic["slug"], f"Again: I want to {CRISIS}")
    await post(client, await trusted_reader(), topic["slug"], "Please stay", parent_id=replied["id"])
    d = await client.post("/api/topics", headers=author.headers,
                          json={"kind": "discussion", "title": "Help", "body": f"I want to {CRISIS}"})
    assert d.status_code == 201
    assert (await client.delete("/api/me", headers=author.headers)).status_code == 204
    items = [i for i in (await worklist(client, coach))["items"] if i["kind"] == "urgent"]
    assert len(items) == 3 and all(i["withdrawn"] and i["post"] is None for i in items)
    assert CRISIS not in json.dumps(items)
    assert {i["comment_id"] for i in items} == {None}
    assert await sql.fetchval("SELECT count(*) FROM audit_log WHERE action = 'urgent_withdrawn'") == 3
    assert lone["id"] not in [r["id"] for r in await sql.fetch("SELECT id FROM comment")]


# ---------------------------------------------------------------- email and webhook


async def test_coach_email_is_discreet(client: httpx.AsyncClient, crisis_rules: None,
                                       smtp: tuple[Inbox, Settings]) -> None:  # noqa: F811
    inbox, mail_settings = smtp
    coach = await make_user("coach", email="coach@example.org")
    await sql.execute("UPDATE forum_user SET notify_email = true WHERE id = $1", coach.id)
    quiet = await make_user("coach", email="quiet@example.org")  # did not opt in
    author = await make_user(email="parent@example.net")
    topic = await make_topic()
    await post(client, author, topic["slug"], f"I want to {CRISIS}")  # a new reader: held, still urgent
    rows = await sql.fetch("SELECT \"user\", kind, subject, body FROM email_outbox ORDER BY id")
    assert [r["user"] for r in rows] == [coach.id]
    assert await urgent_notifications(client, quiet)
    assert await mail.Sender(mail_settings).run_once() == 1
    assert len(inbox.messages) == 1
    text = inbox.messages[0].content.decode()
    assert "Someone may need help now" in text and "https://forum.example.org/console" in text
    assert CRISIS not in text and author.handle not in text and topic["slug"] not in text
    assert "parent@example.net" not in text


class Receiver:
    """A local on-call endpoint: answers 500 `fail` times, then 204; keeps what it got."""

    def __init__(self) -> None:
        self.fail = 0
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = 500 if receiver.fail > 0 else 204
                receiver.fail -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/oncall"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


SECRET = "a-shared-secret-for-the-pager"


async def test_webhook_signed_retried_and_content_free(client: httpx.AsyncClient, crisis_rules: None,
                                                       settings: Settings, receiver: Receiver) -> None:
    hook_settings = settings.with_overrides(urgent_webhook_url=receiver.url, urgent_webhook_secret=SECRET,
                                            site_name="Family Forum", public_url="https://forum.example.org")
    mail.configure(hook_settings)
    try:
        author = await trusted_reader()
        topic = await make_topic()
        await post(client, author, topic["slug"], f"I want to {CRISIS}")
        rows = await sql.fetch("SELECT kind, \"user\", body FROM email_outbox")
        assert [(r["kind"], r["user"]) for r in rows] == [("webhook", None)]

        sender = mail.Sender(hook_settings)
        receiver.fail = 1
        assert await sender.run_once() == 1  # 500: kept for a retry
        row = await sql.fetchrow("SELECT attempts, sent_at, last_error FROM email_outbox")
        assert (row["attempts"], row["sent_at"], row["last_error"]) == (1, None, "HTTP 500")
        assert await sender.run_once() == 0  # not due yet (backoff)
        await sql.execute("UPDATE email_outbox SET next_attempt_at = now()")
        assert await sender.run_once() == 1
        assert await sql.fetchval("SELECT sent_at IS NOT NULL FROM email_outbox")
        assert len(receiver.requests) == 2

        headers, body = receiver.requests[-1]
        payload = json.loads(body)
        assert payload["text"] == "An urgent item is waiting on Family Forum: https://forum.example.org/console"
        assert CRISIS not in body.decode() and author.handle not in body.decode()
        assert topic["slug"] not in body.decode()
        assert headers["content-type"] == "application/json"
        expected = hmac.new(SECRET.encode(), headers["x-forum-timestamp"].encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        assert headers["x-forum-signature"] == f"sha256={expected}"
        assert not hmac.compare_digest(headers["x-forum-signature"],
                                       mail.webhook_signature("another-secret-entirely", headers["x-forum-timestamp"],
                                                              body))
    finally:
        mail.configure(settings)


async def test_webhook_settings_need_an_explicit_secret() -> None:
    with pytest.raises(SettingsError, match="FORUM_URGENT_WEBHOOK_SECRET"):
        Settings.from_env({"FORUM_URGENT_WEBHOOK_URL": "https://hooks.example.org/x"})
    with pytest.raises(SettingsError, match="http"):
        Settings.from_env({"FORUM_URGENT_WEBHOOK_URL": "ftp://x", "FORUM_URGENT_WEBHOOK_SECRET": SECRET})
    ok = Settings.from_env({"FORUM_URGENT_WEBHOOK_URL": "https://hooks.example.org/x",
                            "FORUM_URGENT_WEBHOOK_SECRET": SECRET})
    assert ok.urgent_webhook_enabled and "hooks.example.org" not in repr(ok) and SECRET not in repr(ok)


# ---------------------------------------------------------------- live (SSE)


@pytest.fixture
async def served(app: Any, client: httpx.AsyncClient) -> AsyncIterator[str]:
    await asyncio.wait_for(app.state.listener.connected.wait(), 10)
    server, task, url = await _serve(app)
    try:
        yield url
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def _read_events(url: str, who: Account, events: list[tuple[str, str]], opened: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=60)) as c, \
            c.stream("GET", f"{url}/api/me/notifications/events", headers=who.headers) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        event, data = "message", []
        async for line in r.aiter_lines():
            if line.startswith(":"):
                opened.set()
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "" and data:
                events.append((event, "\n".join(data)))
                event, data = "message", []


async def test_coaches_are_told_live(client: httpx.AsyncClient, crisis_rules: None, served: str) -> None:
    coach, other = await make_user("coach"), await make_user()
    events: list[tuple[str, str]] = []
    others: list[tuple[str, str]] = []
    opened, opened2 = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(_read_events(served, coach, events, opened)),
             asyncio.create_task(_read_events(served, other, others, opened2))]
    try:
        await asyncio.wait_for(asyncio.gather(opened.wait(), opened2.wait()), 10)
        topic = await make_topic()
        await post(client, await trusted_reader(), topic["slug"], f"I want to {CRISIS}")
        notes: list[str] = []
        for _ in range(100):
            notes = [d for e, d in events if e == "notification"]
            if notes:
                break
            await asyncio.sleep(0.05)
        assert len(notes) == 1
        note = json.loads(notes[0])
        assert note["kind"] == "urgent" and note["item_id"] is not None and CRISIS not in notes[0]
        # a reader's stream carries only their own notifications
        assert [e for e, _ in others if e == "notification"] == []
    finally:
        for t in tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
    assert (await client.get("/api/me/notifications/events")).status_code == 401
