"""author_comment_count (migration forum_2026_12_07t19_30_00): each author's published and
rejected comments, kept by a trigger on comment for every path. The `client` fixture
compares it with a count of the comments after every test that uses it
(`assert_author_counts`), so every path the suite takes is checked; here, the paths one by
one, and what the moderators see."""

from __future__ import annotations

import httpx

from forum import sql
from tests.helpers import make_user
from tests.integration.test_comments import make_topic, post, trust_everyone
from tests.integration.test_moderation_support import held_comment
from tests.integration.test_moderation_support import make_topic as make_held_topic


async def counts(user_id: int) -> tuple[int, int]:
    row = await sql.fetchrow("SELECT published, rejected FROM author_comment_count WHERE author = $1", user_id)
    return (row["published"], row["rejected"]) if row is not None else (0, 0)


async def test_every_change_of_status_or_author_moves_the_counts(client: httpx.AsyncClient) -> None:
    await trust_everyone()
    coach, reader = await make_user("coach"), await make_user("reader")
    slug = await make_topic(client, coach)
    first = await post(client, slug, reader)
    second = await post(client, slug, reader)
    assert await counts(reader.id) == (2, 0)
    await sql.execute("UPDATE comment SET status = 'rejected' WHERE id = $1", first["id"])
    assert await counts(reader.id) == (1, 1)
    await sql.execute("UPDATE comment SET status = 'spam' WHERE id = $1", first["id"])
    assert await counts(reader.id) == (1, 1)  # rejected and spam are one count
    await sql.execute("UPDATE comment SET score = score + 1 WHERE id = $1", second["id"])  # not a move
    assert await counts(reader.id) == (1, 1)
    await sql.execute("UPDATE comment SET author = $2 WHERE id = $1", second["id"], coach.id)
    assert await counts(reader.id) == (0, 1) and await counts(coach.id) == (1, 0)
    await sql.execute("UPDATE comment SET status = 'pending' WHERE id = $1", second["id"])
    assert await counts(coach.id) == (0, 0)
    await sql.execute("DELETE FROM comment WHERE id = $1", first["id"])
    assert await counts(reader.id) == (0, 0)
    # an account deleted outright: its counters go with it, its comments' author is set to NULL
    other = await make_user("reader")
    await post(client, slug, other)
    assert await counts(other.id) == (1, 0)
    await sql.execute("DELETE FROM user_session WHERE \"user\" = $1", other.id)
    await sql.execute("DELETE FROM forum_user WHERE id = $1", other.id)
    assert await sql.fetchval("SELECT count(*) FROM author_comment_count WHERE author = $1", other.id) == 0


async def test_moderators_see_the_kept_counts(client: httpx.AsyncClient) -> None:
    mod, author = await make_user("moderator"), await make_user("reader")
    topic = await make_held_topic()
    _, item_id = await held_comment(topic, author)
    _, other_item = await held_comment(topic, author)
    r = await client.post(f"/api/moderation/items/{other_item}/decision",
                          json={"action": "reject", "reason": "Off topic."}, headers=mod.headers)
    assert r.status_code == 200, r.text
    page = await client.get("/api/moderation/queue", params={"queue": "pending"}, headers=mod.headers)
    item = next(i for i in page.json()["items"] if i["id"] == item_id)
    assert (item["author_summary"]["published_count"], item["author_summary"]["rejected_count"]) == (0, 1)
    r = await client.post(f"/api/moderation/items/{item_id}/decision", json={"action": "approve"},
                          headers=mod.headers)
    assert r.status_code == 200, r.text
    view = (await client.get(f"/api/moderation/users/{author.id}", headers=mod.headers)).json()
    assert (view["published_count"], view["rejected_count"], view["pending_count"]) == (1, 1, 0)
    assert await counts(author.id) == (1, 1)
