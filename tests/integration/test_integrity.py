"""Every path goes through moderation: flags weighed by trust, comments visible only where
their topic is (over every comment route), suspension removing staff powers, staff actions on
others' content audited, suspended authors deleting their own comments, replies to a held
comment, and the messages that name what is allowed."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from forum import sql
from tests.helpers import Account, make_user
from tests.integration.test_moderation_support import comment_status, make_comment, make_topic, set_rules
from tests.security.support import strip_types

FLAG_REASONS = ("spam", "abuse", "selling_or_sourcing", "dangerous_advice", "personal_information",
                "self_harm_risk", "off_topic", "other")


async def flag(client: httpx.AsyncClient, cid: int, who: Account, reason: str = "spam") -> httpx.Response:
    return await client.post(f"/api/comments/{cid}/flags", json={"reason": reason}, headers=who.headers)


async def reported_reasons(cid: int) -> list[str]:
    return list(await sql.fetchval(
        "SELECT reasons FROM moderation_item WHERE comment = $1 AND queue = 'reported' AND status = 'open'",
        cid) or [])


async def trusted_reader(topic: dict[str, Any], approved: int = 3) -> Account:
    """A reader with `approved` published comments (the rules' trust standing)."""
    reader = await make_user()
    for _ in range(approved):
        await make_comment(topic, reader)
    return reader


async def suspend(account: Account, days: int = 3) -> None:
    await sql.execute("UPDATE forum_user SET status = 'suspended', suspension_reason = 'test',"
                      " suspended_until = now() + make_interval(days => $2) WHERE id = $1", account.id, days)


# ---------------------------------------------------------------- flags weighed by trust


async def test_untrusted_flags_raise_the_item_but_never_hide(client: httpx.AsyncClient) -> None:
    await set_rules(flag_hide_threshold=3, trusted_after_approved=3)
    topic = await make_topic()
    c = await make_comment(topic, await make_user())
    for _ in range(5):
        assert (await flag(client, c["id"], await make_user())).status_code == 201
    assert await comment_status(c["id"]) == "published"
    assert await reported_reasons(c["id"]) == ["flags", "flags_untrusted"]
    assert (await client.get(f"/api/comments/{c['id']}")).status_code == 200


async def test_trusted_flags_hide_and_untrusted_do_not_count(client: httpx.AsyncClient) -> None:
    await set_rules(flag_hide_threshold=2, trusted_after_approved=3)
    topic = await make_topic()
    c = await make_comment(topic, await make_user())
    await flag(client, c["id"], await make_user())  # untrusted
    await flag(client, c["id"], await trusted_reader(topic))
    assert await comment_status(c["id"]) == "published"  # one trusted flag of two
    await flag(client, c["id"], await trusted_reader(topic))
    assert await comment_status(c["id"]) == "pending"
    assert await reported_reasons(c["id"]) == ["flags", "flags_untrusted", "hidden_by_flags"]


async def test_staff_flags_are_trusted(client: httpx.AsyncClient) -> None:
    await set_rules(flag_hide_threshold=2, trusted_after_approved=50)
    c = await make_comment(await make_topic(), await make_user())
    await flag(client, c["id"], await make_user("coach"))
    await flag(client, c["id"], await make_user("moderator"))
    assert await comment_status(c["id"]) == "pending"


@pytest.mark.parametrize("role", ["coach", "moderator", "admin"])
async def test_staff_content_is_queued_never_hidden(client: httpx.AsyncClient, role: str) -> None:
    await set_rules(flag_hide_threshold=2, trusted_after_approved=3)
    topic = await make_topic()
    c = await make_comment(topic, await make_user(role))
    for _ in range(3):  # new accounts: the example of the issue
        await flag(client, c["id"], await make_user())
    for _ in range(3):  # and trusted readers too
        await flag(client, c["id"], await trusted_reader(topic))
    assert await comment_status(c["id"]) == "published"
    assert "staff_author" in await reported_reasons(c["id"])


async def test_a_suspended_staff_flagger_is_not_trusted(client: httpx.AsyncClient) -> None:
    await set_rules(flag_hide_threshold=2, trusted_after_approved=50)
    c = await make_comment(await make_topic(), await make_user())
    coach, mod = await make_user("coach"), await make_user("moderator")
    await flag(client, c["id"], coach)
    await suspend(coach)
    await flag(client, c["id"], mod)
    assert await comment_status(c["id"]) == "published"


async def test_invalid_flag_reason_lists_the_allowed_ones(client: httpx.AsyncClient) -> None:
    c = await make_comment(await make_topic(), await make_user())
    r = await flag(client, c["id"], await make_user(), "because")
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert "reason" in detail and all(reason in detail for reason in FLAG_REASONS), detail


async def test_invalid_choice_in_a_query_lists_the_allowed_ones(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    r = await client.get("/api/moderation/queue", params={"queue": "nope"}, headers=mod.headers)
    assert r.status_code == 400
    assert all(q in r.json()["detail"] for q in ("pending", "reported", "urgent")), r.text


# ---------------------------------------------------------------- a comment is visible only where its topic is


def comment_routes(app: Any) -> list[tuple[str, str]]:
    """Every route that acts on one comment, from the app's own route table."""
    out = set()
    for route in app.routes:
        path = strip_types(route.path)
        if path.startswith("/api/comments/{comment_id}"):
            out.update((m, path) for m in route.methods if m not in ("HEAD", "OPTIONS"))
    return sorted(out)


BODIES = {
    ("PATCH", "/api/comments/{comment_id}"): {"body": "changed text"},
    ("POST", "/api/comments/{comment_id}/flags"): {"reason": "spam"},
}


async def call(client: httpx.AsyncClient, method: str, path: str, cid: int, who: Account | None) -> int:
    body = BODIES.get((method, path), {} if method in ("POST", "PATCH", "PUT") else None)
    r = await client.request(method, path.replace("{comment_id}", str(cid)), json=body,
                             headers=who.headers if who else {})
    return r.status_code


@pytest.mark.parametrize("topic_status", ["pending", "rejected", "spam", "deleted"])
async def test_every_comment_route_follows_the_topics_visibility(client: httpx.AsyncClient, app: Any,
                                                                 topic_status: str) -> None:
    await set_rules(trusted_after_approved=0)
    routes = comment_routes(app)
    assert len(routes) >= 9, routes  # one, replies, edit, revisions, delete, vote x2, flags, accept
    topic_author, author, other, coach = (await make_user(), await make_user(), await make_user(),
                                          await make_user("coach"))
    topic = await make_topic(author=topic_author, status=topic_status)
    question = await make_comment(topic, author)
    await sql.execute("UPDATE comment SET kind = 'question', question_status = 'answered' WHERE id = $1",
                      question["id"])
    answer = await make_comment(topic, coach, parent=question)
    await make_comment(topic, other, parent=answer)
    for method, path in routes:
        for who in (None, author, other, coach):
            for cid in (question["id"], answer["id"]):
                status = await call(client, method, path, cid, who)
                assert status in ((401, 404) if who is None else (404,)), (method, path, status, who)
    # replying under it: the topic itself is out of reach
    slug = await sql.fetchval("SELECT slug FROM topic WHERE id = $1", topic["id"])
    r = await client.post(f"/api/topics/{slug}/comments", headers=other.headers,
                          json={"body": "a reply", "parent_id": answer["id"]})
    assert r.status_code == 404
    # nothing changed behind the refusals
    assert await sql.fetchval("SELECT count(*) FROM vote") == 0
    assert await sql.fetchval("SELECT count(*) FROM flag") == 0
    assert await sql.fetchval("SELECT count(*) FROM comment WHERE accepted OR edited_at IS NOT NULL") == 0
    assert await sql.fetchval("SELECT count(*) FROM comment WHERE topic = $1", topic["id"]) == 3
    # moderators see what is in a held topic
    mod = await make_user("moderator")
    assert await call(client, "GET", "/api/comments/{comment_id}", answer["id"], mod) == 200
    assert await call(client, "GET", "/api/comments/{comment_id}/replies", answer["id"], mod) == 200
    # the pending topic's own author sees its comments, like the topic itself
    if topic_status == "pending":
        assert await call(client, "GET", "/api/comments/{comment_id}", answer["id"], topic_author) == 200


async def test_live_and_public_reads_hide_comments_of_a_rejected_topic(client: httpx.AsyncClient) -> None:
    from forum.comments.services import comment_dicts, public_comment

    topic = await make_topic(status="rejected")
    c = await make_comment(topic, await make_user())
    assert await public_comment(c["id"]) is None
    assert await comment_dicts([c["id"]], None) == {}


async def test_published_topic_comments_stay_reachable(client: httpx.AsyncClient) -> None:
    await set_rules(trusted_after_approved=0)
    topic = await make_topic()
    c = await make_comment(topic, await make_user())
    voter = await make_user()
    assert (await client.get(f"/api/comments/{c['id']}")).status_code == 200
    assert (await client.post(f"/api/comments/{c['id']}/vote", headers=voter.headers)).json() == {"score": 1}


# ---------------------------------------------------------------- suspension removes staff powers


@pytest.mark.parametrize("role", ["moderator", "admin"])
async def test_suspended_moderator_cannot_decide_suspend_or_read_the_queue(client: httpx.AsyncClient,
                                                                           role: str) -> None:
    staff, target = await make_user(role), await make_user()
    await suspend(staff)
    c = await make_comment(await make_topic(), target)
    await flag(client, c["id"], await make_user())
    item = await sql.fetchval("SELECT id FROM moderation_item WHERE comment = $1", c["id"])
    h = staff.headers
    for r in (await client.get("/api/moderation/queue", headers=h),
              await client.post(f"/api/moderation/items/{item}/decision", headers=h, json={"action": "dismiss"}),
              await client.post(f"/api/moderation/users/{target.id}/suspend", headers=h,
                                json={"reason": "x", "days": 1}),
              await client.get("/api/moderation/log", headers=h)):
        assert r.status_code == 403, r.text
        assert "suspended" in r.json()["detail"]
    assert await sql.fetchval("SELECT status FROM forum_user WHERE id = $1", target.id) == "active"
    assert await sql.fetchval("SELECT status FROM moderation_item WHERE id = $1", item) == "open"


async def test_suspended_moderator_reads_as_a_reader(client: httpx.AsyncClient) -> None:
    mod, reader = await make_user("moderator"), await make_user()
    topic = await make_topic()
    held = await make_comment(topic, reader, status="pending")
    shown = await make_comment(topic, reader)
    own = await make_comment(topic, mod)
    assert (await client.get(f"/api/comments/{held['id']}", headers=mod.headers)).status_code == 200
    await suspend(mod)
    assert (await client.get(f"/api/comments/{held['id']}", headers=mod.headers)).status_code == 404
    assert (await client.get(f"/api/comments/{shown['id']}", headers=mod.headers)).status_code == 200
    r = await client.get(f"/api/comments/{shown['id']}/revisions", headers=mod.headers)
    assert r.status_code == 403
    r = await client.delete(f"/api/comments/{shown['id']}", headers=mod.headers)
    assert r.status_code == 403 and "own" in r.json()["detail"]
    assert await comment_status(shown["id"]) == "published"
    # their own content they can still remove
    assert (await client.delete(f"/api/comments/{own['id']}", headers=mod.headers)).status_code == 204


async def test_suspension_that_ended_restores_staff_powers(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    await suspend(mod)
    assert (await client.get("/api/moderation/queues", headers=mod.headers)).status_code == 403
    await sql.execute("UPDATE forum_user SET suspended_until = now() - interval '1 minute' WHERE id = $1", mod.id)
    assert (await client.get("/api/moderation/queues", headers=mod.headers)).status_code == 200


# ---------------------------------------------------------------- a suspended author deletes their own comment


async def test_suspended_user_deletes_own_comment(client: httpx.AsyncClient) -> None:
    author = await make_user()
    topic = await make_topic()
    c = await make_comment(topic, author)
    await make_comment(topic, await make_user(), parent=c)  # with a reply: a tombstone
    alone = await make_comment(topic, author)
    await suspend(author)
    assert (await client.delete(f"/api/comments/{c['id']}", headers=author.headers)).status_code == 204
    assert await comment_status(c["id"]) == "deleted"
    assert (await client.delete(f"/api/comments/{alone['id']}", headers=author.headers)).status_code == 204
    assert await sql.fetchval("SELECT count(*) FROM comment WHERE id = $1", alone["id"]) == 0
    # but nothing else: no edits, no votes
    other = await make_comment(topic, await make_user())
    assert (await client.patch(f"/api/comments/{other['id']}", headers=author.headers,
                               json={"body": "x"})).status_code == 403
    assert (await client.post(f"/api/comments/{other['id']}/vote", headers=author.headers)).status_code == 403


# ---------------------------------------------------------------- staff actions on others' content are audited


async def log_entries(client: httpx.AsyncClient, mod: Account, action: str) -> list[dict[str, Any]]:
    r = await client.get("/api/moderation/log", params={"action": action}, headers=mod.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_staff_edit_and_delete_of_a_comment_are_audited_without_text(client: httpx.AsyncClient) -> None:
    author, mod = await make_user(), await make_user("moderator")
    topic = await make_topic()
    secret = f"private words {uuid.uuid4().hex}"
    c = await make_comment(topic, author, secret)
    r = await client.patch(f"/api/comments/{c['id']}", headers=mod.headers,
                           json={"body": "removed a phone number", "reason": "personal information"})
    assert r.status_code == 200, r.text
    [entry] = await log_entries(client, mod, "comment_edit")
    assert entry["actor"]["id"] == mod.id and entry["target_type"] == "comment" and entry["target_id"] == c["id"]
    assert entry["reason"] == "personal information" and entry["created_at"]
    assert entry["details"]["author_id"] == author.id
    r = await client.request("DELETE", f"/api/comments/{c['id']}", headers=mod.headers,
                             json={"reason": "off topic"})
    assert r.status_code == 204, r.text
    [entry] = await log_entries(client, mod, "comment_delete")
    assert entry["target_id"] == c["id"] and entry["reason"] == "off topic"
    assert entry["details"]["outcome"] == "removed"
    text = str(await sql.fetch("SELECT reason, details::text FROM audit_log"))
    assert secret not in text and "phone number" not in text


async def test_delete_without_a_body_is_audited_too(client: httpx.AsyncClient) -> None:
    author, mod = await make_user(), await make_user("admin")
    c = await make_comment(await make_topic(), author)
    assert (await client.delete(f"/api/comments/{c['id']}", headers=mod.headers)).status_code == 204
    [entry] = await log_entries(client, mod, "comment_delete")
    assert entry["reason"] is None and entry["actor"]["id"] == mod.id


async def test_own_edits_and_deletes_are_not_staff_actions(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    c = await make_comment(await make_topic(), mod)
    assert (await client.patch(f"/api/comments/{c['id']}", headers=mod.headers, json={"body": "mine"})).is_success
    assert (await client.delete(f"/api/comments/{c['id']}", headers=mod.headers)).status_code == 204
    assert await sql.fetchval("SELECT count(*) FROM audit_log") == 0


async def test_staff_topic_change_is_audited(client: httpx.AsyncClient) -> None:
    coach, mod = await make_user("coach"), await make_user("moderator")
    r = await client.post("/api/topics", headers=coach.headers,
                          json={"kind": "article", "title": "Evenings", "body": "Text"})
    slug = r.json()["slug"]
    r = await client.patch(f"/api/topics/{slug}", headers=coach.headers, json={"title": "Quiet evenings"})
    assert r.status_code == 200
    assert await sql.fetchval("SELECT count(*) FROM audit_log") == 0  # the author's own change
    r = await client.patch(f"/api/topics/{slug}", headers=mod.headers,
                           json={"comments": "closed", "title": "Renamed title", "reason": "heated thread"})
    assert r.status_code == 200, r.text
    [entry] = await log_entries(client, mod, "topic_update")
    assert entry["target_type"] == "topic" and entry["reason"] == "heated thread"
    assert entry["details"]["comments"] == {"before": "open", "after": "closed"}
    assert entry["details"]["fields"] == ["comments", "title"] and entry["details"]["author_id"] == coach.id
    assert "Renamed" not in str(entry)


# ---------------------------------------------------------------- replying to a comment awaiting moderation


async def test_reply_to_a_held_comment(client: httpx.AsyncClient) -> None:
    await set_rules(trusted_after_approved=0)
    topic = await make_topic()
    held = await make_comment(topic, await make_user(), status="pending")
    reader = await make_user()
    r = await client.post(f"/api/topics/{topic['slug']}/comments", headers=reader.headers,
                          json={"body": "hang in there", "parent_id": held["id"]})
    assert r.status_code == 409 and "awaiting moderation" in r.json()["detail"], r.text
    r = await client.post(f"/api/topics/{topic['slug']}/comments",
                          json={"body": "a guest says hi", "parent_id": held["id"], "guest_name": "Guest"})
    assert r.status_code == 409 and "awaiting moderation" in r.json()["detail"]
    for role in ("coach", "moderator"):
        staff = await make_user(role)
        r = await client.post(f"/api/topics/{topic['slug']}/comments", headers=staff.headers,
                              json={"body": f"we are here ({role})", "parent_id": held["id"]})
        assert r.status_code == 201, r.text
        assert r.json()["parent_id"] == held["id"]
    # an unknown parent is still "no such comment"
    r = await client.post(f"/api/topics/{topic['slug']}/comments", headers=reader.headers,
                          json={"body": "x", "parent_id": 987654})
    assert r.status_code == 404


async def test_a_held_private_question_stays_unknown_to_other_readers(client: httpx.AsyncClient) -> None:
    topic = await make_topic()
    asker = await make_user()
    held = await make_comment(topic, asker, status="pending")
    await sql.execute("UPDATE comment SET kind = 'question', private = true, audience = $2 WHERE id = $1",
                      held["id"], asker.id)
    r = await client.post(f"/api/topics/{topic['slug']}/comments", headers=(await make_user()).headers,
                          json={"body": "peeking", "parent_id": held["id"]})
    assert r.status_code == 404


# ---------------------------------------------------------------- messages


async def test_role_messages_use_the_right_article(client: httpx.AsyncClient) -> None:
    coach = await make_user("coach")
    r = await client.put("/api/moderation/rules", headers=(await make_user("moderator")).headers, json={})
    assert r.status_code in (400, 403)
    r = await client.get("/api/moderation/queues", headers=coach.headers)
    assert r.status_code == 403 and r.json()["detail"] == "Only a moderator or above may do this."
    from forum.auth import with_article

    assert with_article("admin") == "an admin" and with_article("coach") == "a coach"
