"""Flags: reasons, one per user, notes, visibility, the hide threshold, urgent flags."""

from __future__ import annotations

import httpx
import pytest

from forum import sql
from tests.helpers import make_user
from tests.integration.test_moderation_support import comment_status, make_comment, make_topic, set_rules


async def flag(client: httpx.AsyncClient, cid: int, acct, reason: str = "spam", note: str | None = None):
    payload = {"reason": reason, **({"note": note} if note is not None else {})}
    return await client.post(f"/api/comments/{cid}/flags", json=payload, headers=acct.headers)


async def open_items(cid: int) -> dict[str, list[str]]:
    rows = await sql.fetch("SELECT queue, reasons FROM moderation_item WHERE comment = $1 AND status = 'open'", cid)
    return {r["queue"]: list(r["reasons"]) for r in rows}


@pytest.mark.parametrize("reason", ["spam", "abuse", "selling_or_sourcing", "dangerous_advice",
                                    "personal_information", "self_harm_risk", "off_topic", "other"])
async def test_every_reason_is_accepted(client: httpx.AsyncClient, reason: str) -> None:
    author, flagger = await make_user(), await make_user()
    c = await make_comment(await make_topic(), author)
    r = await flag(client, c["id"], flagger, reason, note="seen it")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["reason"] == reason and body["comment_id"] == c["id"] and body["note"] == "seen it"


async def test_unknown_reason_and_long_note_are_400(client: httpx.AsyncClient) -> None:
    author, flagger = await make_user(), await make_user()
    c = await make_comment(await make_topic(), author)
    r = await flag(client, c["id"], flagger, "because")
    assert r.status_code == 400 and "reason" in r.json()["detail"]
    r = await flag(client, c["id"], flagger, "other", note="n" * 501)
    assert r.status_code == 400 and "note" in r.json()["detail"]
    assert await sql.fetchval("SELECT count(*) FROM flag") == 0


async def test_one_flag_per_user_per_comment(client: httpx.AsyncClient) -> None:
    author, flagger = await make_user(), await make_user()
    c = await make_comment(await make_topic(), author)
    assert (await flag(client, c["id"], flagger, "spam")).status_code == 201
    r = await flag(client, c["id"], flagger, "abuse")
    assert r.status_code == 409
    assert await sql.fetchval("SELECT count(*) FROM flag WHERE comment = $1", c["id"]) == 1


async def test_flag_needs_an_active_user_and_a_visible_comment(client: httpx.AsyncClient) -> None:
    author, flagger = await make_user(), await make_user()
    topic = await make_topic()
    c = await make_comment(topic, author)
    assert (await client.post(f"/api/comments/{c['id']}/flags", json={"reason": "spam"})).status_code == 401
    pending = await make_comment(topic, author, status="pending")
    assert (await flag(client, pending["id"], flagger)).status_code == 404
    assert (await flag(client, 999999, flagger)).status_code == 404
    assert (await flag(client, c["id"], author)).status_code == 403  # own comment
    suspended = await make_user(status="suspended")
    r = await flag(client, c["id"], suspended)
    assert r.status_code == 403 and "suspended" in r.json()["detail"]


async def test_flag_opens_a_reported_item_with_its_flags(client: httpx.AsyncClient) -> None:
    author, flagger = await make_user(), await make_user()
    mod = await make_user("moderator")
    c = await make_comment(await make_topic(), author)
    await flag(client, c["id"], flagger, "abuse", note="rude")
    assert await open_items(c["id"]) == {"reported": ["flags"]}
    page = (await client.get("/api/moderation/queue", params={"queue": "reported"}, headers=mod.headers)).json()
    [item] = page["items"]
    assert item["comment"]["id"] == c["id"] and item["reasons"] == ["flags"]
    assert [(f["reason"], f["note"], f["user"]["id"]) for f in item["flags"]] == [("abuse", "rude", flagger.id)]
    assert item["author_summary"]["flagged_count"] == 1


async def test_threshold_of_distinct_flaggers_hides_the_comment(client: httpx.AsyncClient) -> None:
    await set_rules(flag_hide_threshold=2, trusted_after_approved=0)  # every reader is trusted
    author = await make_user()
    c = await make_comment(await make_topic(), author)
    await flag(client, c["id"], await make_user(), "abuse")
    assert await comment_status(c["id"]) == "published"
    await flag(client, c["id"], await make_user(), "spam")
    assert await comment_status(c["id"]) == "pending"
    assert await open_items(c["id"]) == {"reported": ["flags", "hidden_by_flags"]}
    assert (await client.get(f"/api/comments/{c['id']}")).status_code == 404


async def test_self_harm_flag_opens_an_urgent_item_at_once(client: httpx.AsyncClient) -> None:
    author = await make_user()
    c = await make_comment(await make_topic(), author)
    await flag(client, c["id"], await make_user(), "self_harm_risk")
    assert await open_items(c["id"]) == {"reported": ["flags"], "urgent": ["self_harm_risk"]}
    assert await sql.fetchval("SELECT urgent FROM comment WHERE id = $1", c["id"]) is True
    assert await comment_status(c["id"]) == "published"


async def test_flags_are_rate_limited(client: httpx.AsyncClient, rate_limits_on: None) -> None:
    topic = await make_topic()
    author, flagger = await make_user(), await make_user()
    codes = []
    for _ in range(31):
        c = await make_comment(topic, author)
        codes.append((await flag(client, c["id"], flagger)).status_code)
    assert codes[:30] == [201] * 30 and codes[30] == 429


async def test_remove_flags_of_erased_user(client: httpx.AsyncClient) -> None:
    from moderation.services import remove_flags_of

    author, flagger, other = await make_user(), await make_user(), await make_user()
    c = await make_comment(await make_topic(), author)
    await flag(client, c["id"], flagger, "other", note="a note")
    await flag(client, c["id"], other, "spam")
    await remove_flags_of(flagger.id)
    assert [r["user"] for r in await sql.fetch('SELECT "user" FROM flag')] == [other.id]
