"""Every path goes through moderation (rules in api.md): flags weighed by trust, comments
visible only where their topic is, suspension removing staff powers, staff actions on others'
content audited, suspended authors removing their own comments, replies to held comments."""

from __future__ import annotations

import pytest
from forumtest import OK, assert_error, expect, jbody, uid

FLAG_REASONS = ("spam", "abuse", "selling_or_sourcing", "dangerous_advice", "personal_information",
                "self_harm_risk", "off_topic", "other")


# ---------------------------------------------------------------- flags weighed by trust


def test_new_accounts_flags_never_hide_a_comment(forum, set_rules, trusted_reader, register, moderator, topic):
    set_rules(flag_hide_threshold=2)
    c = forum.post_comment(topic["slug"], f"an honest view {uid()}", trusted_reader().token)
    for _ in range(3):
        expect(forum.flag(c["id"], register().token, "spam"), 201)
    assert forum.visible(topic["slug"], c["id"]) is not None, "new accounts' flags hid the comment"
    item = forum.find_queue_item(c["id"], queues=("reported",), token=moderator.token)
    assert item is not None, "the flags opened no reported item"


def test_staff_content_is_queued_not_hidden(forum, set_rules, trusted_reader, coach, moderator, topic):
    set_rules(flag_hide_threshold=2)
    c = forum.post_comment(topic["slug"], f"a coach's answer {uid()}", coach.token)
    for _ in range(3):
        expect(forum.flag(c["id"], trusted_reader().token, "spam"), 201)
    assert forum.visible(topic["slug"], c["id"]) is not None, "flags hid a coach's comment"
    assert forum.find_queue_item(c["id"], queues=("reported",), token=moderator.token) is not None


def test_invalid_flag_reason_lists_the_allowed_ones(forum, trusted_reader, reader, topic):
    c = forum.post_comment(topic["slug"], f"flag me {uid()}", trusted_reader().token)
    detail = assert_error(forum.flag(c["id"], reader.token, "because"), 400)["detail"]
    missing = [r for r in FLAG_REASONS if r not in detail]
    assert not missing, f"the detail does not name {missing}: {detail!r}"


# ---------------------------------------------------------------- a comment is visible only where its topic is


@pytest.fixture
def held_discussion(api, forum, register, moderator):
    """A new reader's discussion held for review, with a moderator's published comment on it."""
    author = register()
    t = jbody(api.post("/api/topics", token=author.token,
                       json={"kind": "discussion", "title": f"Held {uid()}", "body": f"Held body {uid()}"}), 201)
    assert t["status"] == "pending", f"a new reader's discussion was {t['status']!r}"
    c = forum.post_comment(t["slug"], f"a moderator note {uid()}", moderator.token)
    assert c["status"] == "published"
    return t, c, author


def test_comments_of_a_held_discussion_are_out_of_reach(api, forum, reader, moderator, held_discussion):
    t, c, _ = held_discussion
    cid = c["id"]
    for token in (None, reader.token):
        assert_error(forum.comment(cid, token), 404)
        assert_error(api.get(f"/api/comments/{cid}/replies", token=token), 401, 404)
        assert_error(api.get(f"/api/comments/{cid}/revisions", token=token), 401, 404)
    assert_error(forum.vote(cid, reader.token), 404)
    assert_error(forum.flag(cid, reader.token, "spam"), 404)
    assert_error(api.post(f"/api/comments/{cid}/accept", token=reader.token), 404)
    assert_error(forum.post_comment_raw(t["slug"], f"reply {uid()}", reader.token, parent_id=cid), 404)
    expect(forum.comment(cid, moderator.token), 200)


def test_comments_of_a_rejected_discussion_stay_hidden(api, forum, reader, moderator, held_discussion):
    t, c, author = held_discussion
    items = [i for i in forum.queue_items("pending", token=moderator.token)
             if i.get("target_type") == "topic" and (i.get("topic") or {}).get("id") == t["id"]]
    assert items, "the held discussion is not in the pending queue"
    expect(forum.claim_and_decide(items[0]["id"], "reject", moderator.token, reason="off topic"), *OK)
    for token in (None, reader.token, author.token):
        assert_error(forum.comment(c["id"], token), 404)


# ---------------------------------------------------------------- suspension removes staff powers


def test_suspended_moderator_has_no_staff_powers(api, forum, register, reader):
    mod = register("moderator")
    expect(api.get("/api/moderation/queues", token=mod.token), 200)
    expect(api.post(f"/api/moderation/users/{mod.id}/suspend", token=forum.admin.token,
                    json={"reason": "review", "days": 1}), *OK)
    for r in (api.get("/api/moderation/queues", token=mod.token),
              api.get("/api/moderation/log", token=mod.token),
              api.post(f"/api/moderation/users/{reader.id}/suspend", token=mod.token,
                       json={"reason": "x", "days": 1})):
        assert_error(r, 403)
    assert jbody(forum.me(reader.token))["status"] == "active"
    expect(api.post(f"/api/moderation/users/{mod.id}/unsuspend", token=forum.admin.token, json={}), *OK)
    expect(api.get("/api/moderation/queues", token=mod.token), 200)


def test_suspended_coach_cannot_use_the_coach_list(api, forum, register):
    coach = register("coach")
    expect(api.get("/api/coach/questions", token=coach.token), 200)
    expect(api.post(f"/api/moderation/users/{coach.id}/suspend", token=forum.admin.token,
                    json={"reason": "review"}), *OK)
    assert_error(api.get("/api/coach/questions", token=coach.token), 403)


# ---------------------------------------------------------------- suspended authors delete their own


def test_suspended_user_can_delete_own_comment(api, forum, moderator, trusted_reader, topic):
    user = trusted_reader()
    own = forum.post_comment(topic["slug"], f"mine to remove {uid()}", user.token)
    expect(api.post(f"/api/moderation/users/{user.id}/suspend", token=moderator.token,
                    json={"reason": "cooling off", "days": 1}), *OK)
    expect(api.delete(f"/api/comments/{own['id']}", token=user.token), 204)
    assert forum.visible(topic["slug"], own["id"]) is None


# ---------------------------------------------------------------- staff actions are audited


def test_staff_edit_and_delete_are_audited_without_text(api, forum, trusted_reader, moderator, topic):
    secret = f"my phone is {uid()}"
    c = forum.post_comment(topic["slug"], secret, trusted_reader().token)
    expect(api.patch(f"/api/comments/{c['id']}", token=moderator.token,
                     json={"body": f"phone removed {uid()}", "reason": "personal information"}), 200)
    expect(api.request("DELETE", f"/api/comments/{c['id']}", token=moderator.token,
                       json={"reason": "off topic"}), 204)
    entries = [e for e in forum.log_entries(moderator.token, target_id=c["id"])
               if e.get("target_type") == "comment"]
    actions = {e["action"]: e for e in entries}
    assert {"comment_edit", "comment_delete"} <= set(actions), entries
    assert actions["comment_edit"]["reason"] == "personal information"
    assert actions["comment_delete"]["reason"] == "off topic"
    assert all(e["actor"]["id"] == moderator.id and e["created_at"] for e in actions.values())
    assert secret not in str(entries)


def test_staff_topic_change_is_audited(api, forum, moderator):
    t = forum.make_topic()
    expect(api.patch(f"/api/topics/{t['slug']}", token=moderator.token,
                     json={"comments": "closed", "reason": "the thread got heated"}), 200)
    entries = [e for e in forum.log_entries(moderator.token, target_id=t["id"], action="topic_update")
               if e.get("target_type") == "topic"]
    assert entries and entries[0]["reason"] == "the thread got heated", entries


# ---------------------------------------------------------------- replying to a held comment


def test_reply_to_a_held_comment(forum, reader, coach, topic):
    held = forum.post_comment(topic["slug"], f"a guest asks {uid()}", guest_name=f"Guest {uid(6)}")
    assert held["status"] == "pending"
    r = forum.post_comment_raw(topic["slug"], f"reply {uid()}", reader.token, parent_id=held["id"])
    detail = assert_error(r, 409)["detail"]
    assert "awaiting moderation" in detail, detail
    reply = forum.post_comment(topic["slug"], f"a coach is here {uid()}", coach.token, parent_id=held["id"])
    assert reply["parent_id"] == held["id"]


def test_role_refusals_read_well(api, moderator):
    detail = assert_error(api.put("/api/moderation/rules", token=moderator.token, json={}), 400, 403)["detail"]
    assert "a admin" not in detail
