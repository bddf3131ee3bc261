"""Queues, claims, decisions and bulk decisions, with racing moderators."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from forum import sql
from tests.helpers import make_user
from tests.integration.test_moderation_support import (
    audit_entries,
    comment_status,
    held_comment,
    make_comment,
    make_topic,
    set_rules,
)


async def decide(client, item_id, acct, action="approve", **fields):
    return await client.post(f"/api/moderation/items/{item_id}/decision", json={"action": action, **fields},
                             headers=acct.headers)


async def claim(client, item_id, acct):
    return await client.post(f"/api/moderation/items/{item_id}/claim", headers=acct.headers)


async def test_counts_and_paging_oldest_first(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    topic = await make_topic()
    ids = [(await held_comment(topic, None))[1] for _ in range(5)]
    counts = (await client.get("/api/moderation/queues", headers=mod.headers)).json()
    assert counts == {"pending": 5, "reported": 0, "urgent": 0}
    seen, cursor = [], None
    while True:
        params = {"queue": "pending", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/moderation/queue", params=params, headers=mod.headers)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids


async def test_bad_queue_limit_and_cursor_are_400(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    for params in ({"queue": "everything"}, {"limit": 0}, {"limit": 101}, {"cursor": "forged.tag"}):
        r = await client.get("/api/moderation/queue", params=params, headers=mod.headers)
        assert r.status_code == 400, (params, r.text)


async def test_item_shape_with_context_and_no_email(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    author = await make_user(email="secret-person@example.org")
    topic = await make_topic()
    parent = await make_comment(topic, await make_user(), "the parent text that gives context")
    c = await make_comment(topic, author, "held reply", status="pending", parent=parent)
    from moderation import policy

    await policy.record(policy.Verdict("pending", ["new_author"]), comment_id=c["id"])
    await make_comment(topic, author)  # one published
    await make_comment(topic, author, status="rejected")
    r = await client.get("/api/moderation/queue", params={"queue": "pending"}, headers=mod.headers)
    assert "secret-person" not in r.text
    [item] = r.json()["items"]
    assert set(item) >= {"id", "queue", "reasons", "target_type", "comment", "topic", "author_summary", "flags",
                         "claimed_by", "claim_expires_at", "created_at"}
    assert item["target_type"] == "comment" and item["reasons"] == ["new_author"]
    assert item["comment"]["topic_slug"] == topic["slug"] and item["comment"]["topic_title"].startswith("Title")
    assert item["comment"]["parent_excerpt"] == "the parent text that gives context"
    assert item["comment"]["body"] == "held reply"
    summary = item["author_summary"]
    assert (summary["id"], summary["handle"], summary["role"]) == (author.id, author.handle, "reader")
    assert (summary["published_count"], summary["rejected_count"], summary["flagged_count"]) == (1, 1, 0)
    assert summary["created_at"]


async def test_guest_item_has_no_author_summary(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    await held_comment(await make_topic(), None)
    [item] = (await client.get("/api/moderation/queue", headers=mod.headers)).json()["items"]
    assert item["author_summary"] is None and item["reasons"] == ["guest"]


async def test_claim_is_a_five_minute_lease_and_shows_in_the_queue(client: httpx.AsyncClient) -> None:
    m1, m2 = await make_user("moderator"), await make_user("moderator")
    _, item_id = await held_comment(await make_topic(), None)
    r = await claim(client, item_id, m1)
    assert r.status_code == 200 and r.json()["claimed_by"]["id"] == m1.id
    left = datetime.fromisoformat(r.json()["claim_expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=4, seconds=50) <= left <= timedelta(minutes=5)
    [item] = (await client.get("/api/moderation/queue", headers=m2.headers)).json()["items"]
    assert item["claimed_by"] == {"id": m1.id, "handle": m1.handle, "role": "moderator"}
    assert (await claim(client, item_id, m2)).status_code == 409
    assert (await claim(client, item_id, m1)).status_code == 200  # the holder renews
    assert (await client.post(f"/api/moderation/items/{item_id}/release", headers=m2.headers)).status_code == 409
    assert (await client.post(f"/api/moderation/items/{item_id}/release", headers=m1.headers)).status_code == 200
    assert (await claim(client, item_id, m2)).status_code == 200


async def test_claims_and_releases_are_audited_when_an_item_changes_hands(client: httpx.AsyncClient) -> None:
    m1, m2 = await make_user("moderator"), await make_user("moderator")
    c, item_id = await held_comment(await make_topic(), None)
    assert (await claim(client, item_id, m1)).status_code == 200
    assert (await claim(client, item_id, m1)).status_code == 200  # a renewal: nothing new to log
    assert (await claim(client, item_id, m2)).status_code == 409  # refused: nothing happened
    assert (await client.post(f"/api/moderation/items/{item_id}/release", headers=m1.headers)).status_code == 200
    assert (await client.post(f"/api/moderation/items/{item_id}/release", headers=m1.headers)).status_code == 200
    assert (await claim(client, item_id, m2)).status_code == 200
    await sql.execute("UPDATE moderation_item SET claim_expires_at = now() - interval '1 second' WHERE id = $1",
                      item_id)
    assert (await claim(client, item_id, m2)).status_code == 200  # its own lapsed lease, taken again
    entries = await audit_entries(target_type="moderation_item", target_id=item_id)
    assert [(e["action"], e["actor_id"]) for e in sorted(entries, key=lambda e: e["id"])] == [
        ("claim", m1.id), ("release", m1.id), ("claim", m2.id), ("claim", m2.id)]
    assert all(json.loads(e["details"]) == {"queue": "pending", "comment": c["id"], "topic": None} for e in entries)
    r = await client.get("/api/moderation/log", headers=m1.headers, params={"action": "claim"})
    assert r.status_code == 200 and any(e["target_id"] == item_id for e in r.json()["items"])


async def test_expired_lease_can_be_taken_over(client: httpx.AsyncClient) -> None:
    m1, m2 = await make_user("moderator"), await make_user("moderator")
    _, item_id = await held_comment(await make_topic(), None)
    assert (await claim(client, item_id, m1)).status_code == 200
    await sql.execute("UPDATE moderation_item SET claim_expires_at = now() - interval '1 second' WHERE id = $1",
                      item_id)
    [item] = (await client.get("/api/moderation/queue", headers=m2.headers)).json()["items"]
    assert item["claimed_by"] is None
    assert (await claim(client, item_id, m2)).status_code == 200
    assert (await decide(client, item_id, m1)).status_code == 409


async def test_many_moderators_racing_for_a_claim_get_one_winner(client: httpx.AsyncClient) -> None:
    mods = [await make_user("moderator") for _ in range(8)]
    topic = await make_topic()
    for _ in range(3):
        _, item_id = await held_comment(topic, None)
        codes = await asyncio.gather(*(claim(client, item_id, m) for m in mods))
        assert sorted(r.status_code for r in codes) == [200] + [409] * 7
        winner = mods[[r.status_code for r in codes].index(200)]
        entries = await audit_entries(target_type="moderation_item", target_id=item_id)
        assert [(e["action"], e["actor_id"]) for e in entries] == [("claim", winner.id)]  # the loser logs nothing


async def test_racing_decisions_decide_exactly_once(client: httpx.AsyncClient) -> None:
    mods = [await make_user("moderator") for _ in range(6)]
    topic = await make_topic()
    c, item_id = await held_comment(topic, await make_user())
    actions = [("approve", {}), ("reject", {"reason": "no"}), ("spam", {"reason": "ads"})] * 2
    results = await asyncio.gather(
        *(decide(client, item_id, m, a, **f) for m, (a, f) in zip(mods, actions, strict=True)))
    codes = [r.status_code for r in results]
    assert codes.count(200) == 1 and codes.count(409) == 5, codes
    winner = results[codes.index(200)].json()
    assert await comment_status(c["id"]) == winner["target_status"]
    assert len(await audit_entries(target_type="comment", target_id=c["id"])) == 1
    assert await sql.fetchval("SELECT count(*) FROM notification") == (0 if winner["decision"] == "approve" else 1)


async def test_decision_rules(client: httpx.AsyncClient) -> None:
    m1, m2 = await make_user("moderator"), await make_user("moderator")
    c, item_id = await held_comment(await make_topic(), None)
    for action in ("reject", "spam"):
        r = await decide(client, item_id, m1, action)
        assert r.status_code == 400 and "reason" in r.json()["detail"]
        r = await decide(client, item_id, m1, action, reason="   ")
        assert r.status_code == 400
    r = await decide(client, item_id, m1, "edit_approve")
    assert r.status_code == 400 and "body" in r.json()["detail"]
    assert (await decide(client, item_id, m1, "vaporize")).status_code == 400
    assert (await decide(client, item_id, m1, "dismiss")).status_code == 400  # nothing to dismiss on a held post
    assert (await decide(client, 99999, m1)).status_code == 404
    await claim(client, item_id, m1)
    assert (await decide(client, item_id, m2)).status_code == 409  # another's live lease
    assert await comment_status(c["id"]) == "pending"
    assert (await decide(client, item_id, m1)).status_code == 200
    assert await comment_status(c["id"]) == "published"
    assert (await decide(client, item_id, m1)).status_code == 409
    assert (await decide(client, item_id, m1, "reject", reason="changed my mind")).status_code == 409
    assert (await claim(client, item_id, m1)).status_code == 409
    counts = (await client.get("/api/moderation/queues", headers=m1.headers)).json()
    assert counts["pending"] == 0


@pytest.mark.parametrize("action", ["reject", "spam"])
async def test_reject_and_spam_hide_and_notify_with_reason(client: httpx.AsyncClient, action: str) -> None:
    mod, author = await make_user("moderator"), await make_user()
    c, item_id = await held_comment(await make_topic(), author)
    r = await decide(client, item_id, mod, action, reason="Please keep to the article")
    assert r.status_code == 200 and r.json()["target_status"] == ("rejected" if action == "reject" else "spam")
    note = await sql.fetchrow('SELECT kind, comment, actor, reason FROM notification WHERE "user" = $1', author.id)
    assert dict(note) == {"kind": "moderation", "comment": c["id"], "actor": mod.id,
                          "reason": "Please keep to the article"}


async def test_spam_marks_the_authors_other_items(client: httpx.AsyncClient) -> None:
    mod, author = await make_user("moderator"), await make_user()
    topic = await make_topic()
    _c1, item1 = await held_comment(topic, author)
    _c2, item2 = await held_comment(topic, author)
    published = await make_comment(topic, author)
    assert (await decide(client, item1, mod, "spam", reason="ads")).status_code == 200
    assert "author_spam" in await sql.fetchval("SELECT reasons FROM moderation_item WHERE id = $1", item2)
    reported = await sql.fetchval(
        "SELECT reasons FROM moderation_item WHERE comment = $1 AND queue = 'reported' AND status = 'open'",
        published["id"])
    assert list(reported) == ["author_spam"]


async def test_edit_approve_replaces_body_keeps_revision_and_publishes(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    c, item_id = await held_comment(await make_topic(), None, body="original wording")
    r = await decide(client, item_id, mod, "edit_approve", body="**fixed** wording")
    assert r.status_code == 200, r.text
    row = await sql.fetchrow("SELECT status, body, body_html FROM comment WHERE id = $1", c["id"])
    assert row["status"] == "published" and "<strong>fixed</strong>" in row["body_html"]
    assert await sql.fetchval("SELECT body FROM comment_revision WHERE comment = $1", c["id"]) == "original wording"
    [entry] = await audit_entries(action="edit_approve")
    assert "wording" not in str(entry["details"]) and "original" not in str(entry["details"])


async def test_edit_approve_refuses_banned_words(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    c, item_id = await held_comment(await make_topic(), None)
    assert (await decide(client, item_id, mod, "edit_approve", body="oh kys")).status_code == 422
    assert await comment_status(c["id"]) == "pending"
    assert await audit_entries() == []


async def test_dismiss_publishes_a_flag_hidden_comment_and_resets_flags(client: httpx.AsyncClient) -> None:
    await set_rules(flag_hide_threshold=2, trusted_after_approved=0)  # every flagger is trusted
    mod, author = await make_user("moderator"), await make_user()
    c = await make_comment(await make_topic(), author)
    for _ in range(2):
        await client.post(f"/api/comments/{c['id']}/flags", json={"reason": "spam"},
                          headers=(await make_user()).headers)
    assert await comment_status(c["id"]) == "pending"
    item_id = await sql.fetchval("SELECT id FROM moderation_item WHERE comment = $1 AND queue = 'reported'", c["id"])
    assert (await decide(client, item_id, mod, "dismiss")).status_code == 200
    assert await comment_status(c["id"]) == "published"
    assert await sql.fetchval("SELECT count(*) FROM flag WHERE resolved_at IS NULL") == 0
    # one new flag after the dismissal does not hide it again
    await client.post(f"/api/comments/{c['id']}/flags", json={"reason": "spam"}, headers=(await make_user()).headers)
    assert await comment_status(c["id"]) == "published"


async def test_approving_a_held_comment_closes_its_report_but_not_its_urgent_item(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    c, item_id = await held_comment(await make_topic(), None)
    from moderation.items import open_item

    urgent = await open_item("urgent", comment_id=c["id"], reasons=["crisis_word"])
    r = await decide(client, item_id, mod, "approve")
    assert r.status_code == 200
    assert await sql.fetchval("SELECT status FROM moderation_item WHERE id = $1", urgent) == "open"
    assert (await decide(client, urgent, mod, "dismiss")).status_code == 200


async def test_held_discussion_is_approved_as_a_topic(client: httpx.AsyncClient) -> None:
    mod, author = await make_user("moderator"), await make_user()
    topic = await make_topic(status="pending", author=author)
    from moderation import policy

    await policy.record(policy.Verdict("pending", ["new_author"]), topic_id=topic["id"])
    [item] = (await client.get("/api/moderation/queue", headers=mod.headers)).json()["items"]
    assert item["target_type"] == "topic" and item["topic"]["slug"] == topic["slug"] and item["comment"] is None
    assert item["author_summary"]["id"] == author.id
    version = await sql.fetchval("SELECT version FROM topic WHERE id = $1", topic["id"])
    assert (await decide(client, item["id"], mod, "approve")).status_code == 200
    row = await sql.fetchrow("SELECT status, version FROM topic WHERE id = $1", topic["id"])
    assert row["status"] == "published" and row["version"] > version


async def test_decision_can_suspend_the_author(client: httpx.AsyncClient) -> None:
    mod, author = await make_user("moderator"), await make_user()
    _, item_id = await held_comment(await make_topic(), author)
    r = await decide(client, item_id, mod, "reject", reason="selling", suspend_days=1)
    assert r.status_code == 200
    row = await sql.fetchrow("SELECT status, suspended_until FROM forum_user WHERE id = $1", author.id)
    assert row["status"] == "suspended"
    assert timedelta(hours=23) < row["suspended_until"] - datetime.now(UTC) <= timedelta(days=1)
    assert [e["action"] for e in await audit_entries(actor_id=mod.id)] == ["reject", "suspend"]


async def test_bulk_gives_one_result_per_item(client: httpx.AsyncClient) -> None:
    m1, m2 = await make_user("moderator"), await make_user("moderator")
    topic = await make_topic()
    held = [await held_comment(topic, None) for _ in range(3)]
    item_ids = [i for _, i in held]
    await claim(client, item_ids[2], m2)
    r = await client.post("/api/moderation/bulk", json={"item_ids": [*item_ids, 424242], "action": "approve"},
                          headers=m1.headers)
    assert r.status_code == 200
    results = {x["item_id"]: x for x in r.json()["results"]}
    assert [results[i]["status_code"] for i in item_ids] == [200, 200, 409]
    assert results[424242]["status_code"] == 404 and not results[424242]["ok"]
    assert [await comment_status(c["id"]) for c, _ in held] == ["published", "published", "pending"]
    r = await client.post("/api/moderation/bulk", json={"item_ids": item_ids, "action": "reject"},
                          headers=m1.headers)
    assert r.status_code == 400 and "reason" in r.json()["detail"]
    r = await client.post("/api/moderation/bulk", json={"item_ids": [], "action": "approve"}, headers=m1.headers)
    assert r.status_code == 400


async def test_one_open_item_reads_as_its_queue_page_shows_it(client: httpx.AsyncClient) -> None:
    """The console's item page reads one item by its id, with the queue page's context."""
    from moderation import services

    topic = await make_topic()
    author = await make_user()
    for _ in range(3):
        await held_comment(topic, author)
    _, item_id = await held_comment(topic, author)
    page = await services.list_queue("pending", 50, None)
    [listed] = [i for i in page["items"] if i["id"] == item_id]
    assert await services.open_queue_item(item_id) == listed
    await sql.execute("UPDATE moderation_item SET status = 'decided', decided_at = now() WHERE id = $1", item_id)
    assert await services.open_queue_item(item_id) is None
    assert await services.open_queue_item(10**12) is None
