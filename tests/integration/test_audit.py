"""The audit log: one entry per action, in the action's transaction, append-only."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from forum import sql
from moderation import audit
from tests.helpers import make_user
from tests.integration.test_moderation_support import audit_entries, held_comment, make_topic


async def test_trigger_refuses_update_and_delete(client: httpx.AsyncClient) -> None:
    entry_id = await audit.write(None, "test", "user", 1, None, {"n": 1})
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        await sql.execute("UPDATE audit_log SET reason = 'rewritten' WHERE id = $1", entry_id)
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        await sql.execute("DELETE FROM audit_log WHERE id = $1", entry_id)
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        await sql.execute("TRUNCATE audit_log")
    assert await sql.fetchval("SELECT reason FROM audit_log WHERE id = $1", entry_id) is None


async def test_every_decision_writes_exactly_one_entry(client: httpx.AsyncClient) -> None:
    mod, author = await make_user("moderator"), await make_user(email="who@example.org")
    topic = await make_topic()
    decisions = [("approve", {}), ("reject", {"reason": "off topic"}), ("spam", {"reason": "ads"}),
                 ("edit_approve", {"body": "better words"})]
    for action, fields in decisions:
        c, item_id = await held_comment(topic, author)
        r = await client.post(f"/api/moderation/items/{item_id}/decision", json={"action": action, **fields},
                              headers=mod.headers)
        assert r.status_code == 200, r.text
        [entry] = await audit_entries(target_type="comment", target_id=c["id"])
        assert (entry["actor_id"], entry["action"], entry["reason"]) == (mod.id, action, fields.get("reason"))
        assert f'"item_id": {item_id}' in entry["details"]
        assert "example.org" not in entry["details"] and author.handle not in entry["details"]


async def test_a_failed_decision_leaves_no_entry(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    _, item_id = await held_comment(await make_topic(), None)
    r = await client.post(f"/api/moderation/items/{item_id}/decision", json={"action": "reject"},
                          headers=mod.headers)
    assert r.status_code == 400
    assert await audit_entries() == []


async def test_log_reads_newest_first_with_filters_and_paging(client: httpx.AsyncClient) -> None:
    m1, m2 = await make_user("moderator"), await make_user("moderator")
    topic = await make_topic()
    for mod in (m1, m2, m1):
        _, item_id = await held_comment(topic, None)
        await client.post(f"/api/moderation/items/{item_id}/decision", json={"action": "approve"},
                          headers=mod.headers)
    victim = await make_user()
    await client.post(f"/api/moderation/users/{victim.id}/suspend", json={"reason": "cool off", "days": 1},
                      headers=m2.headers)
    r = await client.get("/api/moderation/log", headers=m1.headers)
    items = r.json()["items"]
    assert [e["action"] for e in items] == ["suspend", "approve", "approve", "approve"]
    assert items[0]["actor"] == {"id": m2.id, "handle": m2.handle, "role": "moderator"}
    assert set(items[0]) >= {"id", "actor", "action", "target_type", "target_id", "reason", "details", "created_at"}
    mine = (await client.get("/api/moderation/log", params={"actor_id": m1.id}, headers=m1.headers)).json()["items"]
    assert len(mine) == 2 and all(e["actor"]["id"] == m1.id for e in mine)
    about = (await client.get("/api/moderation/log", params={"target_id": victim.id, "action": "suspend"},
                              headers=m1.headers)).json()["items"]
    assert [(e["target_type"], e["target_id"], e["reason"]) for e in about] == [("user", victim.id, "cool off")]
    first = (await client.get("/api/moderation/log", params={"limit": 3}, headers=m1.headers)).json()
    rest = (await client.get("/api/moderation/log", params={"limit": 3, "cursor": first["next_cursor"]},
                             headers=m1.headers)).json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in items]
    assert rest["next_cursor"] is None


async def test_rule_change_is_audited_with_before_and_after(client: httpx.AsyncClient) -> None:
    admin = await make_user("admin")
    rules = (await client.get("/api/moderation/rules", headers=admin.headers)).json()
    new = {k: rules[k] for k in ("banned_words", "suspect_words", "crisis_words", "max_links_untrusted",
                                 "trusted_after_approved", "flag_hide_threshold", "edit_window_minutes",
                                 "premoderate_all", "crisis_message")}
    new["flag_hide_threshold"] = rules["flag_hide_threshold"] + 2
    new["suspect_words"] = rules["suspect_words"] + ["zqnewword"]
    assert (await client.put("/api/moderation/rules", json=new, headers=admin.headers)).status_code == 200
    [entry] = await audit_entries(action="rules_update")
    import json

    changes = json.loads(entry["details"])["changes"]
    assert changes["flag_hide_threshold"] == {"before": rules["flag_hide_threshold"],
                                              "after": rules["flag_hide_threshold"] + 2}
    assert changes["suspect_words"]["added"] == ["zqnewword"] and changes["suspect_words"]["removed"] == []
    assert set(changes) == {"flag_hide_threshold", "suspect_words"}


async def test_the_date_filter_applies_before_paging(client: httpx.AsyncClient) -> None:
    """`since` is part of the query (the console's audit log filter): every page holds only
    entries from that day on, and paging never ends early because old entries were cut."""
    from datetime import UTC, datetime, timedelta

    from moderation import services

    for i in range(5):  # the log is append-only: old entries are written old
        await sql.execute("INSERT INTO audit_log (action, target_type, target_id, details, created_at)"
                          " VALUES ('test_old', 'topic', $1, '{}', now() - interval '3 days')", i + 1)
    for i in range(3):
        await audit.write(None, "test_new", "topic", i + 1, None, {})
    since = datetime.now(UTC) - timedelta(days=1)
    first = await services.audit_log(2, None, None, None, None, None, since)
    assert [e["action"] for e in first["items"]] == ["test_new", "test_new"] and first["next_cursor"]
    rest = await services.audit_log(2, first["next_cursor"], None, None, None, None, since)
    assert [e["action"] for e in rest["items"]] == ["test_new"] and rest["next_cursor"] is None


async def test_every_combination_of_log_filters_gives_exactly_the_matching_entries(
        client: httpx.AsyncClient) -> None:
    """The log's statement carries only the filters given (moderation.services.audit_log):
    each combination, paged, against the same filter applied to every entry."""
    import itertools
    from datetime import timedelta

    from moderation import services

    m1, m2 = await make_user("moderator"), await make_user("moderator")
    for i in range(12):
        await audit.write((m1, m2)[i % 2].id, ("claim", "suspend", "rules_update")[i % 3],
                          ("user", "comment")[i % 4 // 2], 100 + i % 5)
    everything = [dict(r) for r in await sql.fetch(
        "SELECT id, actor_id, action, target_type, target_id, created_at FROM audit_log ORDER BY id DESC")]
    since = everything[5]["created_at"] - timedelta(microseconds=1)
    filters = {"actor_id": m2.id, "target_id": 102, "action": "suspend", "target_type": "comment", "since": since}
    for size in range(len(filters) + 1):
        for names in itertools.combinations(filters, size):
            given = {name: filters[name] for name in names}
            wanted = [e["id"] for e in everything
                      if all(e["created_at"] >= v if k == "since" else e[k] == v for k, v in given.items())]
            seen: list[int] = []
            cursor = None
            while True:
                page = await services.audit_log(2, cursor, given.get("actor_id"), given.get("target_id"),
                                                given.get("action"), given.get("target_type"), given.get("since"))
                seen += [item["id"] for item in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert seen == wanted, (given, seen, wanted)
