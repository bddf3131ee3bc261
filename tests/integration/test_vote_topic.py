"""vote.topic (migration forum_2026_12_07t22_30_00): the topic of the comment voted on, set
by a trigger on every path that writes a vote (the API, an import, raw SQL), whatever the
writer says; a reader's votes in a topic are then one index range (thread_reader_states).
Moving comments between topics is covered by the merge test in test_articles.py."""

from __future__ import annotations

import httpx

from forum import sql
from tests.helpers import make_user
from tests.integration.test_comments import make_topic, post, trust_everyone


async def test_every_vote_carries_its_comments_topic(client: httpx.AsyncClient) -> None:
    await trust_everyone()
    author, voter = await make_user("coach"), await make_user()
    first, second = await make_topic(client, author), await make_topic(client, author)
    a, b = await post(client, first, author), await post(client, second, author)
    r = await client.post(f"/api/comments/{a['id']}/vote", headers=voter.headers)
    assert r.status_code == 200, r.text
    # a raw insert naming the wrong topic is corrected; so is a vote moved to another comment
    wrong = await sql.fetchval("SELECT id FROM topic WHERE slug = $1", first)
    await sql.execute('INSERT INTO vote (comment, "user", topic) VALUES ($1, $2, $3)', b["id"], author.id, wrong)
    topics = dict(await sql.fetch('SELECT "user", topic FROM vote'))
    assert topics[voter.id] == await sql.fetchval("SELECT id FROM topic WHERE slug = $1", first)
    assert topics[author.id] == await sql.fetchval("SELECT id FROM topic WHERE slug = $1", second)
    await sql.execute('UPDATE vote SET comment = $1 WHERE "user" = $2', b["id"], voter.id)
    assert await sql.fetchval('SELECT topic FROM vote WHERE "user" = $1', voter.id) == topics[author.id]
    # the reader's marks come from it: the vote now shows on the second topic's page only
    one = (await client.get(f"/api/topics/{first}/comments", headers=voter.headers)).json()
    two = (await client.get(f"/api/topics/{second}/comments", headers=voter.headers)).json()
    assert [c["my_vote"] for c in one["items"]] == [None]
    assert [c["my_vote"] for c in two["items"]] == [1]


async def test_a_readers_votes_in_a_topic_are_one_index_range() -> None:
    async with sql.transaction():
        await sql.execute("SET LOCAL enable_seqscan = off")  # the test's tables are tiny
        plan = "\n".join(r[0] for r in await sql.fetch(
            "EXPLAIN SELECT v.comment FROM vote v WHERE v.\"user\" = 1 AND v.topic = 2"))
    assert "Index Only Scan using vote_user_topic_idx" in plan
