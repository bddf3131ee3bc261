"""Crisis care: coaches' work list, urgent notifications (in-app and live), claims,
one-action hiding, the `crisis_posts` rule, and urgent items that outlive withdrawal."""

from __future__ import annotations

import json

import pytest
from forumtest import all_items, assert_error, eventually, expect, jbody, uid, word


@pytest.fixture
def crisis(set_rules):
    w = word()
    set_rules(crisis_words=[*list(set_rules.rules.get("crisis_words") or []), w],
              crisis_message=f"You are not alone {uid()}.")
    return w


def _entry(api, coach, comment_id):
    for item in all_items(api, "/api/coach/worklist", token=coach.token, params={"limit": 100}):
        if item["comment_id"] == comment_id:
            return item
    return None


def _entry_by_item(api, coach, item_id):
    for item in all_items(api, "/api/coach/worklist", token=coach.token, params={"limit": 100}):
        if item["item_id"] == item_id:
            return item
    return None


def test_crisis_comment_reaches_every_coach(api, forum, crisis, trusted_reader, coach, topic):
    other_coach = forum.register(role="coach")
    c = forum.post_comment(topic["slug"], f"tonight I feel {crisis} {uid()}", trusted_reader().token)
    assert c["status"] == "published" and c.get("support")
    entry = eventually(lambda: _entry(api, coach, c["id"]))
    assert entry is not None, "the crisis comment is not in the coaches' work list"
    assert entry["kind"] == "urgent" and entry["item_id"] and entry["withdrawn"] is False
    assert entry["post"]["body_html"] and crisis in entry["post"]["body_html"]
    for who in (coach, other_coach):
        note = forum.wait_notification(who.token, lambda n: n.get("kind") == "urgent"
                                       and n.get("item_id") == entry["item_id"])
        assert note is not None, "no `urgent` notification for a coach"
        assert note["comment_id"] is None and note["topic_slug"] is None  # discreet


def test_worklist_puts_urgent_items_before_questions(api, forum, crisis, trusted_reader, coach, topic):
    asker = trusted_reader()
    forum.post_comment(topic["slug"], f"a plain question {uid()}?", asker.token, kind="question")
    forum.post_comment(topic["slug"], f"I am {crisis} {uid()}", asker.token)
    kinds = [i["kind"] for i in all_items(api, "/api/coach/worklist", token=coach.token, params={"limit": 100})]
    assert "urgent" in kinds and "question" in kinds
    assert kinds == sorted(kinds, key=lambda k: k != "urgent"), "urgent items must come first"


def test_worklist_is_for_coaches(api, reader):
    assert_error(api.get("/api/coach/worklist", token=reader.token), 403)
    assert_error(api.get("/api/coach/worklist"), 401)


def test_one_coach_claims_hides_and_resolves(api, forum, crisis, trusted_reader, coach, topic):
    other = forum.register(role="coach")
    author = trusted_reader()
    c = forum.post_comment(topic["slug"], f"I am {crisis} and here is how {uid()}", author.token)
    item_id = eventually(lambda: _entry(api, coach, c["id"]))["item_id"]
    claimed = jbody(api.post(f"/api/coach/urgent/{item_id}/claim", token=coach.token), 200)
    assert claimed["claimed_by"]["id"] == coach.id
    assert_error(api.post(f"/api/coach/urgent/{item_id}/claim", token=other.token), 409)
    hidden = jbody(api.post(f"/api/coach/urgent/{item_id}/hide", token=coach.token,
                            json={"reason": "method details"}), 200)
    assert hidden["target_status"] == "pending"
    assert_error(forum.comment(c["id"]), 404)
    assert jbody(forum.comment(c["id"], author.token), 200)["status"] == "pending"
    done = jbody(api.post(f"/api/coach/urgent/{item_id}/resolve", token=coach.token, json={}), 200)
    assert done["decision"] == "resolved" and done["response_minutes"] >= 0
    assert_error(api.post(f"/api/coach/urgent/{item_id}/resolve", token=coach.token, json={}), 409)
    stats = jbody(api.get("/api/coach/stats", token=coach.token), 200)
    assert stats["urgent_closed"] >= 1 and stats["urgent_median_response_minutes"] is not None


def test_crisis_posts_rule_hold(api, forum, crisis, set_rules, trusted_reader, coach, topic):
    assert forum.get_rules()["crisis_posts"] == "publish"
    author = trusted_reader()
    set_rules(crisis_posts="hold")
    c = forum.post_comment(topic["slug"], f"held {crisis} {uid()}", author.token)
    assert c["status"] == "pending" and c.get("support")
    entry = eventually(lambda: _entry(api, coach, c["id"]))
    assert entry is not None and entry["post"]["status"] == "pending"
    r = api.put("/api/moderation/rules", token=forum.admin.token,
                json={**{k: v for k, v in forum.get_rules().items() if k not in ("updated_at", "updated_by")},
                      "crisis_posts": "silence"})
    assert_error(r, 400)


def test_deleted_crisis_post_keeps_its_urgent_item(api, forum, crisis, trusted_reader, coach, topic):
    author = trusted_reader()
    c = forum.post_comment(topic["slug"], f"I am {crisis} {uid()}", author.token)
    item_id = eventually(lambda: _entry(api, coach, c["id"]))["item_id"]
    expect(api.delete(f"/api/comments/{c['id']}", token=author.token), 204)
    entry = _entry_by_item(api, coach, item_id)
    assert entry is not None, "the urgent item vanished with the post"
    assert entry["withdrawn"] is True and entry["post"] is None
    assert crisis not in json.dumps(entry)


def test_coach_notification_stream(api, forum, sse, crisis, trusted_reader, coach, topic):
    author = trusted_reader()
    stream = sse("/api/me/notifications/events", token=coach.token)
    assert stream.status == 200 and stream.headers["content-type"].startswith("text/event-stream")
    forum.post_comment(topic["slug"], f"I am {crisis} {uid()}", author.token)
    ev = stream.wait_for(lambda e: e.event == "notification" and e.json["kind"] == "urgent")
    assert ev is not None, "no live `urgent` notification"
    assert crisis not in ev.data
    assert_error(api.get("/api/me/notifications/events"), 401)
