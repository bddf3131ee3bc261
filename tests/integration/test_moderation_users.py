"""Suspensions, the moderator's view of a user, the rules API and role guards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from forum import sql
from moderation import services
from tests.helpers import make_user
from tests.integration.test_moderation_support import audit_entries, make_comment, make_topic

RULE_FIELDS = ("banned_words", "suspect_words", "crisis_words", "max_links_untrusted", "trusted_after_approved",
               "flag_hide_threshold", "edit_window_minutes", "premoderate_all", "crisis_message")


async def suspend(client, mod, user, **payload):
    return await client.post(f"/api/moderation/users/{user.id}/suspend", json=payload, headers=mod.headers)


async def test_suspended_user_gets_403_with_end_date_then_unsuspend(client: httpx.AsyncClient) -> None:
    mod, reader = await make_user("moderator"), await make_user()
    target = await make_comment(await make_topic(), await make_user())
    r = await suspend(client, mod, reader, days=3, reason="cooling off")
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    r = await client.post(f"/api/comments/{target['id']}/flags", json={"reason": "spam"}, headers=reader.headers)
    assert r.status_code == 403
    end = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d")
    assert end in r.json()["detail"]
    r = await client.post(f"/api/moderation/users/{reader.id}/unsuspend", json={}, headers=mod.headers)
    assert r.status_code == 200 and r.json()["status"] == "active"
    r = await client.post(f"/api/comments/{target['id']}/flags", json={"reason": "spam"}, headers=reader.headers)
    assert r.status_code == 201
    assert [e["action"] for e in await audit_entries(target_id=reader.id)] == ["suspend", "unsuspend"]


async def test_suspension_without_days_lasts_until_lifted(client: httpx.AsyncClient) -> None:
    mod, reader = await make_user("moderator"), await make_user()
    r = await suspend(client, mod, reader, reason="until we talk")
    assert r.status_code == 200 and r.json()["suspended_until"] is None
    view = (await client.get(f"/api/moderation/users/{reader.id}", headers=mod.headers)).json()
    assert view["status"] == "suspended" and view["suspension_reason"] == "until we talk"


async def test_suspension_needs_a_reason_and_rank(client: httpx.AsyncClient) -> None:
    mod, other_mod, admin, reader = (await make_user("moderator"), await make_user("moderator"),
                                     await make_user("admin"), await make_user())
    r = await suspend(client, mod, reader, days=1)
    assert r.status_code == 400 and "reason" in r.json()["detail"]
    assert (await suspend(client, mod, reader, days=1, reason="  ")).status_code == 400
    assert (await suspend(client, mod, reader, days=0, reason="x")).status_code == 400
    assert (await suspend(client, mod, other_mod, reason="x")).status_code == 403
    assert (await suspend(client, mod, admin, reason="x")).status_code == 403
    assert (await suspend(client, mod, mod, reason="x")).status_code == 403
    assert (await suspend(client, admin, other_mod, reason="x")).status_code == 200
    assert (await client.post("/api/moderation/users/99999/suspend", json={"reason": "x"},
                              headers=mod.headers)).status_code == 404
    r = await client.post(f"/api/moderation/users/{reader.id}/unsuspend", json={}, headers=mod.headers)
    assert r.status_code == 409


async def test_suspension_ends_by_itself(client: httpx.AsyncClient) -> None:
    mod, reader = await make_user("moderator"), await make_user()
    await suspend(client, mod, reader, days=1, reason="short")
    await sql.execute("UPDATE forum_user SET suspended_until = now() - interval '1 second' WHERE id = $1", reader.id)
    target = await make_comment(await make_topic(), await make_user())
    r = await client.post(f"/api/comments/{target['id']}/flags", json={"reason": "spam"}, headers=reader.headers)
    assert r.status_code == 201
    assert (await client.get(f"/api/moderation/users/{reader.id}", headers=mod.headers)).json()["status"] == "active"
    assert await services.expire_suspensions() == 1
    assert await sql.fetchval("SELECT status FROM forum_user WHERE id = $1", reader.id) == "active"
    assert [e["action"] for e in await audit_entries(target_id=reader.id)] == ["suspend", "suspension_expired"]


async def test_moderator_view_of_a_user_has_counts_and_no_email(client: httpx.AsyncClient) -> None:
    mod, user = await make_user("moderator"), await make_user(email="hidden-address@example.org")
    topic = await make_topic()
    c = await make_comment(topic, user, "published words")
    await make_comment(topic, user, status="rejected")
    await make_comment(topic, user, status="pending")
    await client.post(f"/api/comments/{c['id']}/flags", json={"reason": "abuse"}, headers=(await make_user()).headers)
    r = await client.get(f"/api/moderation/users/{user.id}", headers=mod.headers)
    assert "hidden-address" not in r.text
    view = r.json()
    assert (view["role"], view["status"]) == ("reader", "active")
    assert (view["published_count"], view["rejected_count"], view["pending_count"], view["flagged_count"]) == \
        (1, 1, 1, 1)
    assert len(view["recent_comments"]) == 3 and view["recent_comments"][0]["topic_slug"] == topic["slug"]
    assert (await client.get("/api/moderation/users/99999", headers=mod.headers)).status_code == 404


async def test_moderator_view_lists_the_20_latest_comments_of_every_status(client: httpx.AsyncClient) -> None:
    """Newest first across statuses (the view merges one index range per status), ties on the
    time broken by the newer id, and the counts over all of them."""
    mod, user = await make_user("moderator"), await make_user()
    topic = await make_topic()
    statuses = ["published", "pending", "rejected", "spam", "deleted"] * 6
    made = [(await make_comment(topic, user, f"text {i}", status=st))["id"] for i, st in enumerate(statuses)]
    base = datetime.now(UTC) - timedelta(days=1)
    for i, cid in enumerate(made):  # pairs share a time: the newer id comes first
        await sql.execute("UPDATE comment SET created_at = $2 WHERE id = $1", cid, base + timedelta(minutes=i // 2))
    view = (await client.get(f"/api/moderation/users/{user.id}", headers=mod.headers)).json()
    expected = sorted(made, key=lambda cid: (made.index(cid) // 2, cid), reverse=True)[:20]
    assert [c["id"] for c in view["recent_comments"]] == expected
    assert {c["status"] for c in view["recent_comments"]} == set(statuses)
    assert (view["published_count"], view["pending_count"], view["rejected_count"]) == (6, 6, 12)


@pytest.mark.parametrize("user_id", [2**31, 2**40, 2**63 - 1])
async def test_user_ids_beyond_any_account_are_404(client: httpx.AsyncClient, user_id: int) -> None:
    mod = await make_user("moderator")
    assert (await client.get(f"/api/moderation/users/{user_id}", headers=mod.headers)).status_code == 404
    r = await client.post(f"/api/moderation/users/{user_id}/suspend", headers=mod.headers,
                          json={"days": 1, "reason": "test"})
    assert r.status_code == 404 and r.json()["detail"] == "No such user."
    r = await client.post(f"/api/moderation/users/{user_id}/unsuspend", headers=mod.headers, json={})
    assert r.status_code == 404


async def test_rules_read_and_replace(client: httpx.AsyncClient) -> None:
    mod, admin = await make_user("moderator"), await make_user("admin")
    rules = (await client.get("/api/moderation/rules", headers=mod.headers)).json()
    assert set(RULE_FIELDS) <= set(rules)
    assert "kill myself" in rules["crisis_words"] and "dm me" in rules["suspect_words"]
    body = {k: rules[k] for k in RULE_FIELDS}
    assert (await client.put("/api/moderation/rules", json=body, headers=mod.headers)).status_code == 403
    body.update(banned_words=["Zqfoo", "zqfoo", "  zq   bar  "], max_links_untrusted=5)
    r = await client.put("/api/moderation/rules", json=body, headers=admin.headers)
    assert r.status_code == 200
    assert r.json()["banned_words"] == ["Zqfoo", "zq bar"] and r.json()["max_links_untrusted"] == 5
    assert r.json()["updated_by"]["id"] == admin.id
    partial = {"banned_words": []}
    r = await client.put("/api/moderation/rules", json=partial, headers=admin.headers)
    assert r.status_code == 400
    for bad in ({"flag_hide_threshold": 0}, {"max_links_untrusted": -1}, {"banned_words": ["!!!"]},
                {"premoderate_all": "yes"}):
        r = await client.put("/api/moderation/rules", json={**body, **bad}, headers=admin.headers)
        assert r.status_code == 400, bad
        assert next(iter(bad)) in r.json()["detail"]


MODERATOR_ROUTES = [
    ("GET", "/api/moderation/queues", None),
    ("GET", "/api/moderation/queue?queue=pending", None),
    ("POST", "/api/moderation/items/1/claim", None),
    ("POST", "/api/moderation/items/1/release", None),
    ("POST", "/api/moderation/items/1/decision", {"action": "approve"}),
    ("POST", "/api/moderation/bulk", {"item_ids": [1], "action": "approve"}),
    ("GET", "/api/moderation/log", None),
    ("GET", "/api/moderation/users/1", None),
    ("POST", "/api/moderation/users/1/suspend", {"reason": "x"}),
    ("POST", "/api/moderation/users/1/unsuspend", {}),
    ("GET", "/api/moderation/rules", None),
]


@pytest.mark.parametrize("role", [None, "reader", "coach"])
async def test_role_guards_on_every_route(client: httpx.AsyncClient, role: str | None) -> None:
    headers = (await make_user(role)).headers if role else {}
    for method, path, body in [*MODERATOR_ROUTES, ("PUT", "/api/moderation/rules", {})]:
        r = await client.request(method, path, json=body, headers=headers)
        assert r.status_code == (401 if role is None else 403), (role, method, path, r.status_code)


async def test_moderators_pass_the_guards_but_not_on_rule_writes(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    for method, path, body in MODERATOR_ROUTES:
        r = await client.request(method, path, json=body, headers=mod.headers)
        assert r.status_code not in (401, 403) or path.endswith(("/suspend", "/unsuspend")), (path, r.status_code)
    r = await client.put("/api/moderation/rules", json={}, headers=mod.headers)
    assert r.status_code == 403


async def test_queue_gauge_is_set_on_scrape(client: httpx.AsyncClient) -> None:
    from tests.integration.test_moderation_support import held_comment

    await held_comment(await make_topic(), None)
    text = (await client.get("/metrics")).text
    assert 'forum_moderation_queue_open_items{queue="pending"} 1.0' in text
