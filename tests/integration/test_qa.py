"""Coach Q&A: question status, answer/reply notifications, accept rules, claims, stats."""

from __future__ import annotations

import httpx

from forum import sql
from tests.helpers import make_user
from tests.integration.test_qa_support import approve, make_topic, notifications_of, publish_comment


async def _status(comment_id: int) -> tuple[str | None, object]:
    row = await sql.fetchrow("SELECT question_status, first_answer_at FROM comment WHERE id = $1", comment_id)
    assert row is not None
    return row["question_status"], row["first_answer_at"]


async def test_coach_reply_answers_and_notifies_the_asker_once(client: httpx.AsyncClient) -> None:
    asker, coach = await make_user(), await make_user("coach")
    topic = await make_topic()
    q = await publish_comment(topic, asker, kind="question")
    assert await _status(q["id"]) == ("unanswered", None)

    answer = await publish_comment(topic, coach, parent=q)
    status, first = await _status(q["id"])
    assert status == "answered" and first is not None

    items = (await notifications_of(client, asker))["items"]
    # the asker is also the parent's author: one notification, `answer`
    assert [(n["kind"], n["comment_id"], n["topic_slug"]) for n in items] == [
        ("answer", answer["id"], topic["slug"])]

    await publish_comment(topic, await make_user("coach"), parent=q)
    assert await _status(q["id"]) == ("answered", first)  # first_answer_at is set once


async def test_reader_reply_does_not_answer_but_notifies(client: httpx.AsyncClient) -> None:
    asker, reader = await make_user(), await make_user()
    topic = await make_topic()
    q = await publish_comment(topic, asker, kind="question")
    reply = await publish_comment(topic, reader, parent=q)
    assert (await _status(q["id"]))[0] == "unanswered"
    items = (await notifications_of(client, asker))["items"]
    assert [(n["kind"], n["comment_id"]) for n in items] == [("reply", reply["id"])]


async def test_deep_coach_reply_notifies_asker_and_parent_author(client: httpx.AsyncClient) -> None:
    asker, reader, coach = await make_user(), await make_user(), await make_user("coach")
    topic = await make_topic()
    q = await publish_comment(topic, asker, kind="question")
    mid = await publish_comment(topic, reader, parent=q)
    deep = await publish_comment(topic, coach, parent=mid)
    assert (await _status(q["id"]))[0] == "answered"
    asker_kinds = sorted(n["kind"] for n in (await notifications_of(client, asker))["items"])
    assert asker_kinds == ["answer", "reply"]  # reply: mid; answer: deep
    reader_items = (await notifications_of(client, reader))["items"]
    assert [(n["kind"], n["comment_id"]) for n in reader_items] == [("reply", deep["id"])]


async def test_no_self_notification(client: httpx.AsyncClient) -> None:
    a = await make_user()
    topic = await make_topic()
    root = await publish_comment(topic, a)
    await publish_comment(topic, a, parent=root)
    body = await notifications_of(client, a)
    assert body["items"] == [] and body["unread_count"] == 0


async def test_coach_asking_and_answering_own_question_is_not_an_answer(client: httpx.AsyncClient) -> None:
    coach = await make_user("coach")
    topic = await make_topic()
    q = await publish_comment(topic, coach, kind="question")
    await publish_comment(topic, coach, parent=q)
    assert (await _status(q["id"]))[0] == "unanswered"


async def test_no_notification_before_a_reply_is_visible(client: httpx.AsyncClient) -> None:
    a = await make_user()
    topic = await make_topic()
    root = await publish_comment(topic, a)
    guest_reply = await publish_comment(topic, None, parent=root, status="pending")
    assert (await notifications_of(client, a))["items"] == []
    await approve(guest_reply)
    items = (await notifications_of(client, a))["items"]
    assert [(n["kind"], n["comment_id"]) for n in items] == [("reply", guest_reply["id"])]


async def test_private_reply_never_notifies_someone_who_cannot_see_it(client: httpx.AsyncClient) -> None:
    asker, coach = await make_user(), await make_user("coach")
    topic = await make_topic()
    q = await publish_comment(topic, asker, kind="question", private=True)
    coach_reply = await publish_comment(topic, coach, parent=q)
    # the coach is later demoted: a reply under the private question must not reach them
    await sql.execute("UPDATE forum_user SET role = 'reader' WHERE id = $1", coach.id)
    coach.role = "reader"
    await publish_comment(topic, asker, parent=coach_reply)
    assert (await notifications_of(client, coach))["items"] == []
    assert [n["kind"] for n in (await notifications_of(client, asker))["items"]] == ["answer"]


# ---------------------------------------------------------------- accept


async def _answered(client: httpx.AsyncClient) -> tuple:
    asker, coach = await make_user(), await make_user("coach")
    topic = await make_topic()
    q = await publish_comment(topic, asker, kind="question")
    answer = await publish_comment(topic, coach, parent=q)
    return asker, coach, topic, q, answer


async def test_asker_accepts_and_the_answerer_is_notified(client: httpx.AsyncClient) -> None:
    asker, coach, topic, q, answer = await _answered(client)
    version = await sql.fetchval("SELECT version FROM topic WHERE id = $1", topic["id"])
    r = await client.post(f"/api/comments/{answer['id']}/accept", headers=asker.headers)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] is True
    assert await sql.fetchval("SELECT accepted FROM comment WHERE id = $1", answer["id"]) is True
    assert (await _status(q["id"]))[0] == "accepted"
    assert await sql.fetchval("SELECT version FROM topic WHERE id = $1", topic["id"]) > version
    items = (await notifications_of(client, coach))["items"]
    assert [(n["kind"], n["comment_id"]) for n in items] == [("accepted", answer["id"])]
    # accepting it again changes nothing and notifies nobody twice
    assert (await client.post(f"/api/comments/{answer['id']}/accept", headers=asker.headers)).status_code == 200
    assert len((await notifications_of(client, coach))["items"]) == 1


async def test_accepting_another_answer_moves_the_mark(client: httpx.AsyncClient) -> None:
    asker, _coach, topic, q, answer = await _answered(client)
    second = await publish_comment(topic, await make_user("coach"), parent=q)
    assert (await client.post(f"/api/comments/{answer['id']}/accept", headers=asker.headers)).status_code == 200
    other_coach = await make_user("coach")
    assert (await client.post(f"/api/comments/{second['id']}/accept",
                              headers=other_coach.headers)).status_code == 200
    rows = await sql.fetch("SELECT id, accepted FROM comment WHERE id = ANY($1::bigint[])",
                           [answer["id"], second["id"]])
    assert {r["id"]: r["accepted"] for r in rows} == {answer["id"]: False, second["id"]: True}


async def test_accept_rules(client: httpx.AsyncClient) -> None:
    asker, coach, topic, q, answer = await _answered(client)
    reader = await make_user()
    r = await client.post(f"/api/comments/{answer['id']}/accept", headers=reader.headers)
    assert r.status_code == 403
    assert await sql.fetchval("SELECT accepted FROM comment WHERE id = $1", answer["id"]) is False
    assert (await client.post(f"/api/comments/{answer['id']}/accept")).status_code == 401
    # the question itself, or a reply to a plain comment, is not an answer
    assert (await client.post(f"/api/comments/{q['id']}/accept", headers=asker.headers)).status_code == 400
    plain = await publish_comment(topic, reader)
    plain_reply = await publish_comment(topic, coach, parent=plain)
    assert (await client.post(f"/api/comments/{plain_reply['id']}/accept",
                              headers=reader.headers)).status_code == 400
    assert (await client.post("/api/comments/999999/accept", headers=asker.headers)).status_code == 404
    pending = await publish_comment(topic, None, parent=q, status="pending")
    assert (await client.post(f"/api/comments/{pending['id']}/accept", headers=asker.headers)).status_code == 404


async def test_private_answer_cannot_be_reached_by_others(client: httpx.AsyncClient) -> None:
    asker, coach, reader = await make_user(), await make_user("coach"), await make_user()
    topic = await make_topic()
    q = await publish_comment(topic, asker, kind="question", private=True)
    answer = await publish_comment(topic, coach, parent=q)
    r = await client.post(f"/api/comments/{answer['id']}/accept", headers=reader.headers)
    assert r.status_code == 404  # not 403: its existence is not revealed
    assert (await client.post(f"/api/comments/{answer['id']}/accept", headers=asker.headers)).status_code == 200


# ---------------------------------------------------------------- claims and stats


async def test_claim_is_a_lease(client: httpx.AsyncClient) -> None:
    asker = await make_user()
    c1, c2, reader = await make_user("coach"), await make_user("coach"), await make_user()
    topic = await make_topic()
    q = await publish_comment(topic, asker, kind="question")
    path = f"/api/coach/questions/{q['id']}/claim"
    r = await client.post(path, headers=c1.headers)
    assert r.status_code == 200, r.text
    assert r.json()["claimed_by"]["id"] == c1.id and r.json()["claim_expires_at"]
    assert (await client.post(path, headers=c2.headers)).status_code == 409
    assert (await client.post(path, headers=c1.headers)).status_code == 200  # renew own lease
    assert (await client.post(path, headers=reader.headers)).status_code == 403
    plain = await publish_comment(topic, asker)
    assert (await client.post(f"/api/coach/questions/{plain['id']}/claim", headers=c1.headers)).status_code == 404
    # an expired lease may be taken over
    await sql.execute("UPDATE question_claim SET expires_at = now() - interval '1 second'")
    r = await client.post(path, headers=c2.headers)
    assert r.status_code == 200 and r.json()["claimed_by"]["id"] == c2.id


async def test_coach_question_list_guards_and_validation(client: httpx.AsyncClient) -> None:
    reader, coach = await make_user(), await make_user("coach")
    assert (await client.get("/api/coach/questions", headers=reader.headers)).status_code == 403
    assert (await client.get("/api/coach/questions")).status_code == 401
    r = await client.get("/api/coach/questions", params={"status": "bogus"}, headers=coach.headers)
    assert r.status_code == 400 and "status" in r.json()["detail"]
    r = await client.get("/api/coach/questions", params={"cursor": "forged.tag"}, headers=coach.headers)
    assert r.status_code == 400


async def test_stats(client: httpx.AsyncClient) -> None:
    coach, reader = await make_user("coach"), await make_user()
    r = await client.get("/api/coach/stats", headers=coach.headers)
    assert r.status_code == 200
    assert r.json() == {"unanswered": 0, "unanswered_over_24h": 0, "median_first_answer_minutes": None,
                        "p90_first_answer_minutes": None, "answered_by_coach": [],
                        "urgent_open": 0, "urgent_closed": 0, "urgent_median_response_minutes": None,
                        "urgent_p90_response_minutes": None}
    assert (await client.get("/api/coach/stats", headers=reader.headers)).status_code == 403

    topic = await make_topic()
    waiting = await publish_comment(topic, reader, kind="question")
    for minutes in (10, 20, 30):
        q = await publish_comment(topic, reader, kind="question")
        await sql.execute("UPDATE comment SET created_at = now() - $2 * interval '1 minute',"
                          " first_published_at = now() - $2 * interval '1 minute' WHERE id = $1", q["id"], minutes)
        await publish_comment(topic, coach, parent=q)
    stale = await publish_comment(topic, reader, kind="question")
    await sql.execute("UPDATE comment SET created_at = now() - interval '25 hours' WHERE id = $1", stale["id"])
    body = (await client.get("/api/coach/stats", headers=coach.headers)).json()
    assert body["unanswered"] == 2 and waiting["question_status"] == "unanswered"
    assert body["unanswered_over_24h"] == 1
    assert 19.5 <= body["median_first_answer_minutes"] <= 20.5
    assert 27.5 <= body["p90_first_answer_minutes"] <= 28.5  # percentile_cont: 20 + 0.8 * 10
    assert body["answered_by_coach"] == [{"coach": coach.user, "answers": 3}]


async def test_coach_list_order_privacy_claims_and_paging(client: httpx.AsyncClient) -> None:
    asker, coach, reader = await make_user(), await make_user("coach"), await make_user()
    topic = await make_topic()
    old = await publish_comment(topic, asker, kind="question")
    private = await publish_comment(topic, asker, kind="question", private=True, body="family secret")
    urgent = await publish_comment(topic, asker, kind="question")
    await sql.execute("UPDATE comment SET urgent = true WHERE id = $1", urgent["id"])
    answered = await publish_comment(topic, asker, kind="question")
    await publish_comment(topic, coach, parent=answered)
    await publish_comment(topic, None, kind="question", status="pending")  # not published: not listed
    assert (await client.post(f"/api/coach/questions/{old['id']}/claim", headers=coach.headers)).status_code == 200

    r = await client.get("/api/coach/questions", params={"limit": 2}, headers=coach.headers)
    assert r.status_code == 200, r.text
    first = r.json()
    assert [i["id"] for i in first["items"]] == [urgent["id"], old["id"]]
    item = first["items"][1]
    assert item["question_status"] == "unanswered" and item["urgent"] is False
    assert item["topic_slug"] == topic["slug"] and item["comment"]["id"] == old["id"]
    assert item["claimed_by"] == coach.user and item["claim_expires_at"]
    assert first["items"][0]["urgent"] is True and first["items"][0]["claimed_by"] is None
    rest = (await client.get("/api/coach/questions", params={"limit": 2, "cursor": first["next_cursor"]},
                             headers=coach.headers)).json()
    assert [i["id"] for i in rest["items"]] == [private["id"]] and rest["next_cursor"] is None
    first = rest["items"][0]["comment"]
    assert first["private"] is True and "family secret" in first["body_html"]

    r = await client.get("/api/coach/questions", params={"status": "answered"}, headers=coach.headers)
    assert [i["id"] for i in r.json()["items"]] == [answered["id"]]
    # the private question stays hidden from readers on the comment read paths
    assert (await client.get(f"/api/comments/{private['id']}", headers=reader.headers)).status_code == 404
    assert "family secret" not in (await client.get(f"/api/topics/{topic['slug']}/comments")).text


async def test_coach_reply_through_the_comments_api_answers(client: httpx.AsyncClient) -> None:
    asker, coach = await make_user(), await make_user("coach")
    topic = await make_topic()
    q = await publish_comment(topic, asker, kind="question")
    r = await client.post(f"/api/topics/{topic['slug']}/comments", json={"body": "Try this.", "parent_id": q["id"]},
                          headers=coach.headers)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "published" and r.json()["author_badge"] == "coach"
    assert (await _status(q["id"]))[0] == "answered"
    shown = (await client.get(f"/api/comments/{q['id']}")).json()
    assert shown["question_status"] == "answered"
    items = (await notifications_of(client, asker))["items"]
    assert [(n["kind"], n["comment_id"]) for n in items] == [("answer", r.json()["id"])]


async def test_unanswered_gauge(client: httpx.AsyncClient) -> None:
    topic = await make_topic()
    await publish_comment(topic, await make_user(), kind="question")
    assert "forum_questions_unanswered 1.0" in (await client.get("/metrics")).text
