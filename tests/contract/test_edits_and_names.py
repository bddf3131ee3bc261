"""Black-box: an edit is a new draft (held edits wait as pending revisions); disguised banned
words; names checked against banned words and staff look-alikes (contract: docs/api.md,
"Edits and names: the details")."""

from __future__ import annotations

from forumtest import OK, assert_error, expect, jbody, text_of, uid, word


def _published_by_new_reader(forum, topic, reader, body):
    c = forum.post_comment(topic["slug"], body, reader.token)
    return forum.ensure_published(c)


def test_a_held_edit_waits_and_only_its_author_reads_it(api, forum, reader, moderator, topic, set_rules):
    set_rules(trusted_after_approved=5)
    old, new = f"approved words {word()}", f"changed words {word()}"
    c = _published_by_new_reader(forum, topic, reader, old)
    r = api.patch(f"/api/comments/{c['id']}", token=reader.token, json={"body": new})
    mine = jbody(r, 200)
    assert mine.get("edit_pending") is True and new in text_of(mine["body_html"])
    public = jbody(forum.comment(c["id"]), 200)
    assert old in text_of(public["body_html"]) and not public.get("edit_pending")
    item = forum.find_queue_item(c["id"], queues=("pending",), token=moderator.token)
    assert item is not None and item["reasons"][0] == "edit"
    assert "+" + new in item["comment"]["revision"]["diff"]
    expect(forum.claim_and_decide(item["id"], "approve", moderator.token), *OK)
    assert new in text_of(jbody(forum.comment(c["id"]), 200)["body_html"])


def test_a_rejected_revision_leaves_the_published_text(api, forum, reader, moderator, topic, set_rules):
    set_rules(trusted_after_approved=5)
    old = f"kept words {word()}"
    c = _published_by_new_reader(forum, topic, reader, old)
    expect(api.patch(f"/api/comments/{c['id']}", token=reader.token, json={"body": f"dropped {word()}"}), 200)
    item = forum.find_queue_item(c["id"], queues=("pending",), token=moderator.token)
    expect(forum.claim_and_decide(item["id"], "reject", moderator.token, reason="off topic"), *OK)
    for token in (None, reader.token):
        got = jbody(forum.comment(c["id"], token), 200)
        assert old in text_of(got["body_html"]) and not got.get("edit_pending")


def test_disguised_banned_words_are_refused_in_posts_and_edits(api, forum, trusted_reader, topic, set_rules):
    banned = f"zq{uid()[-8:]}".lower()
    set_rules.add_words("banned_words", banned)
    t = trusted_reader()
    disguised = [banned[:2] + "&#" + str(ord(banned[2])) + ";" + banned[3:],  # an entity
                 banned[:3] + "*" + banned[3:] + "*",  # emphasis
                 banned[:3] + "\u200b" + banned[3:]]  # zero-width space
    for body in disguised:
        assert_error(forum.post_comment_raw(topic["slug"], f"say {body}", t.token), 422)
    c = forum.post_comment(topic["slug"], f"clean {word()}", t.token)
    assert_error(api.patch(f"/api/comments/{c['id']}", token=t.token, json={"body": disguised[1]}), 422)


def test_names_with_banned_words_or_staff_lookalikes_are_refused(api, forum, topic, set_rules):
    banned = f"zq{uid()[-8:]}".lower()
    set_rules.add_words("banned_words", banned)
    r = api.post("/api/auth/register", json={"handle": f"{banned}.x", "password": "Correct-horse-9-battery"})
    assert_error(r, 422)
    assert "handle" in r.json()["detail"]
    for name in (banned.upper(), "\u0421\u043e\u0430\u0441h", "Ｃｏａｃｈ", "\u202ehcaoC"):
        r = forum.post_comment_raw(topic["slug"], f"hi {word()}", None, guest_name=name)
        assert r.status_code in (400, 422), (name, r.status_code)
        assert "guest_name" in r.json()["detail"]
