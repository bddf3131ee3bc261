"""Round trips to PostgreSQL per moderation request, pinned (the moderation bench scenario is
bound by them): the queue page, a claim, a decision. Every statement the app sends on any
pooled connection during the request is counted, BEGIN and COMMIT included. And the audit
details of decisions, which the deciding statement now writes itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import httpx
import pytest

from forum import sql
from forum.events import LISTENER_NAME
from moderation.items import open_item
from tests.helpers import make_user
from tests.integration.test_moderation_support import held_comment, make_comment, make_topic

_METHODS = ("execute", "executemany", "fetch", "fetchrow", "fetchval")


@contextmanager
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The statements the request sends (their first 60 characters, for the message). The live
    listener's keepalive, on its own connection once a second, is not the request's."""
    seen: list[str] = []

    def wrap(name: str) -> Any:
        original = getattr(asyncpg.Connection, name)

        async def method(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
            if not getattr(self.get_settings(), "application_name", "").startswith(LISTENER_NAME):
                seen.append(" ".join(query.split())[:60])
            return await original(self, query, *args, **kwargs)

        return method

    with monkeypatch.context() as m:
        for name in _METHODS:
            m.setattr(asyncpg.Connection, name, wrap(name))
        yield seen


async def _queue_fixture() -> tuple[Any, list[int]]:
    """A page with the shapes a queue page joins: held comments (one a reply, one a guest's),
    a flagged comment, a claimed item and a held topic."""
    mod = await make_user("moderator")
    author = await make_user()
    topic = await make_topic()
    parent = await make_comment(topic, author, "the parent")
    items = [(await held_comment(topic, author))[1] for _ in range(3)]
    items.append((await held_comment(topic, None))[1])
    reply = await make_comment(topic, author, "a held reply", status="pending", parent=parent)
    items.append(int(await sql.fetchval(
        "INSERT INTO moderation_item (queue, target_type, comment, reasons, status, created_at)"
        " VALUES ('pending', 'comment', $1, '{new_author}', 'open', clock_timestamp()) RETURNING id", reply["id"])))
    flagger = await make_user()
    await sql.execute("INSERT INTO flag (comment, \"user\", reason, created_at) VALUES ($1, $2, 'spam', now())",
                      reply["id"], flagger.id)
    held_topic = await make_topic(author=author, status="pending")
    items.append(int(await sql.fetchval(
        "INSERT INTO moderation_item (queue, target_type, topic, reasons, status, created_at)"
        " VALUES ('pending', 'topic', $1, '{new_author}', 'open', clock_timestamp()) RETURNING id",
        held_topic["id"])))
    await sql.execute("UPDATE moderation_item SET claimed_by = $1, claim_expires_at = now() + interval '5 minutes'"
                      " WHERE id = $2", mod.id, items[0])
    return mod, items


async def test_queue_page_is_two_statements(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    mod, items = await _queue_fixture()
    with counted(monkeypatch) as seen:
        r = await client.get("/api/moderation/queue", params={"queue": "pending", "limit": 4}, headers=mod.headers)
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == items[:4]
    assert len(seen) == 2, seen  # the viewer's session, the page
    with counted(monkeypatch) as seen:
        r = await client.get("/api/moderation/queue", params={"queue": "pending", "limit": 4,
                                                               "cursor": r.json()["next_cursor"]},
                             headers=mod.headers)
    assert [i["id"] for i in r.json()["items"]] == items[4:]
    assert len(seen) == 2, seen


async def test_claim_is_two_statements(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    mod = await make_user("moderator")
    _, item_id = await held_comment(await make_topic(), await make_user())
    with counted(monkeypatch) as seen:
        r = await client.post(f"/api/moderation/items/{item_id}/claim", headers=mod.headers)
    assert r.status_code == 200, r.text
    assert len(seen) == 2, seen  # the viewer's session, the conditional UPDATE


async def test_approve_statements(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    mod = await make_user("moderator")
    _, item_id = await held_comment(await make_topic(), await make_user())
    await client.post(f"/api/moderation/items/{item_id}/claim", headers=mod.headers)
    with counted(monkeypatch) as seen:
        r = await client.post(f"/api/moderation/items/{item_id}/decision", json={"action": "approve"},
                              headers=mod.headers)
    assert r.status_code == 200, r.text
    # the viewer's session; BEGIN; the item and comment locked; flags, sibling items, the item
    # and its audit entry; the comment published; the topic's count and version; COMMIT
    assert len(seen) == 7, seen


# The audit entry is written by the same statement that decides the item: its details, pinned.


async def _details(item_id: int) -> dict[str, Any]:
    rows = await sql.fetch("SELECT details FROM audit_log WHERE details->>'item_id' = $1", str(item_id))
    assert len(rows) == 1, rows
    return dict(json.loads(rows[0]["details"]))


async def test_decision_details_name_closed_items_and_resolved_flags(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    c, item_id = await held_comment(await make_topic(), await make_user())
    reported = await open_item("reported", comment_id=c["id"], reasons=["flags"])
    urgent = await open_item("urgent", comment_id=c["id"], reasons=["crisis_word"])
    for _ in range(2):
        await sql.execute('INSERT INTO flag (comment, "user", reason, created_at) VALUES ($1, $2, \'spam\', now())',
                          c["id"], (await make_user()).id)
    r = await client.post(f"/api/moderation/items/{item_id}/decision", json={"action": "spam", "reason": "ads"},
                          headers=mod.headers)
    assert r.status_code == 200, r.text
    assert r.json()["closed_item_ids"] == sorted([reported, urgent])
    assert await _details(item_id) == {"item_id": item_id, "queue": "pending",
                                       "status": {"before": "pending", "after": "spam"},
                                       "closed_item_ids": sorted([reported, urgent]), "flags_resolved": 2}
    [entry] = await sql.fetch("SELECT actor_id, action, target_type, target_id, reason FROM audit_log")
    assert tuple(entry) == (mod.id, "spam", "comment", c["id"], "ads")


async def test_decision_details_leave_out_what_did_not_happen(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    topic = await make_topic()
    c, item_id = await held_comment(topic, await make_user())
    urgent = await open_item("urgent", comment_id=c["id"], reasons=["crisis_word"])
    r = await client.post(f"/api/moderation/items/{item_id}/decision", json={"action": "edit_approve", "body": "new"},
                          headers=mod.headers)
    assert r.status_code == 200, r.text
    assert await _details(item_id) == {"item_id": item_id, "queue": "pending", "body_replaced": True,
                                       "status": {"before": "pending", "after": "published"}}
    r = await client.post(f"/api/moderation/items/{urgent}/decision", json={"action": "dismiss"},
                          headers=mod.headers)
    assert r.status_code == 200 and r.json()["closed_item_ids"] == []
    assert await _details(urgent) == {"item_id": urgent, "queue": "urgent",
                                      "status": {"before": "published", "after": "published"}}


async def test_topic_decision_details(client: httpx.AsyncClient) -> None:
    mod, author = await make_user("moderator"), await make_user()
    topic = await make_topic(status="pending", author=author)
    item_id = await open_item("pending", topic_id=topic["id"], reasons=["new_author"])
    reported = await open_item("reported", topic_id=topic["id"], reasons=["flags"])
    r = await client.post(f"/api/moderation/items/{item_id}/decision", json={"action": "reject", "reason": "no"},
                          headers=mod.headers)
    assert r.status_code == 200, r.text
    assert r.json()["closed_item_ids"] == [reported] and r.json()["target_status"] == "rejected"
    assert await _details(item_id) == {"item_id": item_id, "queue": "pending",
                                       "status": {"before": "pending", "after": "rejected"},
                                       "closed_item_ids": [reported]}
    [entry] = await sql.fetch("SELECT actor_id, action, target_type, target_id, reason FROM audit_log")
    assert tuple(entry) == (mod.id, "reject", "topic", topic["id"], "no")
