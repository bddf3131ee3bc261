"""POST /api/moderation/rules/try: the policy's verdict on a text, nothing posted."""

from __future__ import annotations

import httpx

from forum import sql
from tests.helpers import auth, make_user


async def test_trial_agrees_with_the_rules_and_posts_nothing(client: httpx.AsyncClient) -> None:
    mod = await make_user("moderator")
    await sql.execute("UPDATE moderation_rules SET banned_words = ARRAY['zqbanned'], suspect_words = ARRAY['zqsus'],"
                      " crisis_words = ARRAY['zqcrisis']")
    before = await sql.fetchval("SELECT count(*) FROM comment")

    async def trial(body: str, author: str = "trusted_reader") -> dict:
        r = await client.post("/api/moderation/rules/try", headers=auth(mod), json={"body": body, "author": author})
        assert r.status_code == 200, r.text
        return r.json()

    assert (await trial("a kind word"))["outcome"] == "published"
    refused = await trial("this has ZQBANNED in it")
    assert refused["outcome"] == "refused" and refused["matched"]["banned"] == "zqbanned"
    held = await trial("a zqsus text")
    assert held["outcome"] == "pending" and "suspect_word" in held["reasons"]
    assert held["matched"] == {"suspect": "zqsus"}
    urgent = await trial("zqcrisis tonight")
    assert urgent["urgent"] is True and urgent["matched"]["crisis"] == "zqcrisis"
    guest = await trial("hello", "guest")
    assert guest["outcome"] == "pending" and guest["reasons"] == ["guest"]
    # repeated trials are neither refused as repeats nor rate limited; nothing is stored
    for _ in range(5):
        assert (await trial("hello", "guest"))["outcome"] == "pending"
    assert await sql.fetchval("SELECT count(*) FROM comment") == before
    assert await sql.fetchval("SELECT count(*) FROM moderation_item") == 0


async def test_trial_is_for_moderators(client: httpx.AsyncClient) -> None:
    reader, coach = await make_user(), await make_user("coach")
    for who in (reader, coach):
        r = await client.post("/api/moderation/rules/try", headers=auth(who), json={"body": "x"})
        assert r.status_code == 403
    mod = await make_user("moderator")
    r = await client.post("/api/moderation/rules/try", headers=auth(mod), json={"body": ""})
    assert r.status_code == 400
