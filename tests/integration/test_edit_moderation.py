"""An edit is a new draft: the posting policy runs on it, and an edit it would hold waits as
a pending revision (its author reads it; everyone else the published text) until decided."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx
import pytest

from forum import events, sql
from tests.helpers import Account, make_user
from tests.integration.test_moderation_support import make_comment, make_topic, set_rules

LINKS = " ".join(f"https://l{i}.example/x" for i in range(4))


async def trusted_reader(topic: dict[str, Any]) -> Account:
    """A reader with the approved comments that make them trusted (default rules: 2)."""
    reader = await make_user("reader")
    for _ in range(2):
        await make_comment(topic, reader)
    return reader


async def new_reader_comment(topic: dict[str, Any]) -> tuple[Account, dict[str, Any]]:
    """A new reader's comment that a moderator approved earlier (published)."""
    reader = await make_user("reader")
    return reader, await make_comment(topic, reader, "my first approved words")


async def edit(client: httpx.AsyncClient, comment_id: int, who: Account, body: str) -> httpx.Response:
    return await client.patch(f"/api/comments/{comment_id}", headers=who.headers, json={"body": body})


async def read(client: httpx.AsyncClient, comment_id: int, who: Account | None = None) -> dict[str, Any]:
    r = await client.get(f"/api/comments/{comment_id}", headers=who.headers if who else {})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def thread_bodies(client: httpx.AsyncClient, slug: str, who: Account | None = None) -> list[str]:
    r = await client.get(f"/api/topics/{slug}/comments", headers=who.headers if who else {})
    assert r.status_code == 200, r.text
    return [c["body_html"] for c in r.json()["items"]]


async def open_items(comment_id: int) -> dict[str, list[str]]:
    rows = await sql.fetch("SELECT queue, reasons FROM moderation_item WHERE comment = $1 AND status = 'open'",
                           comment_id)
    return {r["queue"]: list(r["reasons"]) for r in rows}


async def queue_item(client: httpx.AsyncClient, mod: Account, comment_id: int,
                     queue: str = "pending") -> dict[str, Any]:
    r = await client.get(f"/api/moderation/queue?queue={queue}", headers=mod.headers)
    assert r.status_code == 200, r.text
    items = [i for i in r.json()["items"] if i["comment"] and i["comment"]["id"] == comment_id]
    assert len(items) == 1, r.json()
    return dict(items[0])


async def decide(client: httpx.AsyncClient, mod: Account, item_id: int, action: str, **extra: Any) -> httpx.Response:
    return await client.post(f"/api/moderation/items/{item_id}/decision", headers=mod.headers,
                             json={"action": action, **extra})


# ---------------------------------------------------------------- held edits


@pytest.mark.parametrize(("body", "reasons"), [
    ("now with a deal word and links " + LINKS, ["edit", "new_author", "links", "suspect_word"]),
    ("a plain change", ["edit", "new_author"]),
])
async def test_a_new_readers_edit_is_held_as_a_pending_revision(client: httpx.AsyncClient, body: str,
                                                                 reasons: list[str]) -> None:
    await set_rules(suspect_words=["deal"])
    topic = await make_topic()
    reader, c = await new_reader_comment(topic)
    r = await edit(client, c["id"], reader, body)
    assert r.status_code == 200, r.text
    own = r.json()
    assert own["status"] == "published" and own["edit_pending"] is True
    assert body.split()[0] in own["body_html"]  # the author reads their pending text
    assert await open_items(c["id"]) == {"pending": reasons}
    # everyone else keeps reading the published text, unmarked
    stranger = await make_user("reader")
    for who in (None, stranger):
        other = await read(client, c["id"], who)
        assert "my first approved words" in other["body_html"] and "edit_pending" not in other
        assert any("my first approved words" in b for b in await thread_bodies(client, topic["slug"], who))
    # the author's thread view shows their pending text too
    assert any(body.split()[0] in b for b in await thread_bodies(client, topic["slug"], reader))
    assert await sql.fetchval("SELECT body FROM comment WHERE id = $1", c["id"]) == "my first approved words"


async def test_a_trusted_readers_clean_edit_publishes_at_once(client: httpx.AsyncClient) -> None:
    topic = await make_topic()
    reader = await trusted_reader(topic)
    c = await make_comment(topic, reader, "before")
    r = await edit(client, c["id"], reader, "after the change")
    assert r.status_code == 200 and "edit_pending" not in r.json()
    assert "after the change" in (await read(client, c["id"]))["body_html"]
    assert await open_items(c["id"]) == {}


async def test_a_trusted_readers_suspect_edit_is_held(client: httpx.AsyncClient) -> None:
    await set_rules(suspect_words=["pills"])
    topic = await make_topic()
    reader = await trusted_reader(topic)
    c = await make_comment(topic, reader, "before")
    r = await edit(client, c["id"], reader, "cheap p1lls here")  # a disguised suspect word
    assert r.status_code == 200 and r.json()["edit_pending"] is True
    assert await open_items(c["id"]) == {"pending": ["edit", "suspect_word"]}
    assert "before" in (await read(client, c["id"]))["body_html"]


@pytest.mark.parametrize("body", ["the word forbidden", "forb&#105;dden", "for*bidden*", "forbid\u200bden",
                                  "f\u043erbidden"])
async def test_banned_words_in_an_edit_are_refused_like_a_post(client: httpx.AsyncClient, body: str) -> None:
    await set_rules(banned_words=["forbidden"])
    topic = await make_topic()
    reader = await trusted_reader(topic)
    c = await make_comment(topic, reader, "before")
    r = await edit(client, c["id"], reader, body)
    assert r.status_code == 422 and r.json()["rule"] == "banned_words", r.text
    assert await sql.fetchval("SELECT body FROM comment WHERE id = $1", c["id"]) == "before"
    assert await sql.fetchval("SELECT pending_body FROM comment WHERE id = $1", c["id"]) is None


async def test_crisis_words_added_by_an_edit_open_the_urgent_path(client: httpx.AsyncClient) -> None:
    await set_rules(crisis_words=["end my life"], crisis_message="We are here with you.")
    topic = await make_topic()
    reader = await trusted_reader(topic)
    c = await make_comment(topic, reader, "a hard week")
    r = await edit(client, c["id"], reader, "a hard week, I want to end my life")
    assert r.status_code == 200, r.text
    assert r.json()["support"] == "We are here with you."
    assert (await open_items(c["id"])).get("urgent") == ["crisis_word"]
    assert await sql.fetchval("SELECT urgent FROM comment WHERE id = $1", c["id"]) is True


async def test_a_later_edit_replaces_the_waiting_revision(client: httpx.AsyncClient) -> None:
    topic = await make_topic()
    reader, c = await new_reader_comment(topic)
    assert (await edit(client, c["id"], reader, "first try")).status_code == 200
    r = await edit(client, c["id"], reader, "second try")
    assert r.status_code == 200 and "second try" in r.json()["body_html"] and r.json()["edit_pending"]
    assert await sql.fetchval("SELECT count(*) FROM moderation_item WHERE comment = $1", c["id"]) == 1
    assert "my first approved words" in (await read(client, c["id"]))["body_html"]


async def test_an_edit_of_a_held_comment_stays_held(client: httpx.AsyncClient) -> None:
    await set_rules(suspect_words=["deal"])
    topic = await make_topic()
    reader = await make_user("reader")
    c = await make_comment(topic, reader, "waiting", status="pending")
    r = await edit(client, c["id"], reader, "a deal now")
    assert r.status_code == 200 and r.json()["status"] == "pending" and "edit_pending" not in r.json()
    assert await open_items(c["id"]) == {"pending": ["new_author", "suspect_word"]}


async def test_a_moderators_edit_of_someone_elses_comment_is_not_held(client: httpx.AsyncClient) -> None:
    await set_rules(suspect_words=["deal"], banned_words=["forbidden"])
    topic = await make_topic()
    _reader, c = await new_reader_comment(topic)
    mod = await make_user("moderator")
    r = await edit(client, c["id"], mod, "a deal, tidied by a moderator")
    assert r.status_code == 200 and "edit_pending" not in r.json()
    assert "tidied" in (await read(client, c["id"]))["body_html"]
    assert (await edit(client, c["id"], mod, "for&#98;idden")).status_code == 422


# ---------------------------------------------------------------- decisions


async def test_the_queue_item_shows_the_revision_and_a_diff(client: httpx.AsyncClient) -> None:
    topic = await make_topic()
    reader, c = await new_reader_comment(topic)
    await edit(client, c["id"], reader, "my first approved words\nand a new line")
    mod = await make_user("moderator")
    item = await queue_item(client, mod, c["id"])
    assert item["reasons"][0] == "edit"
    revision = item["comment"]["revision"]
    assert revision["body"] == "my first approved words\nand a new line"
    assert "and a new line" in revision["body_html"]
    assert item["comment"]["body"] == "my first approved words"
    diff = revision["diff"].splitlines()
    assert diff[:2] == ["--- published", "+++ edit"]
    assert "+and a new line" in diff and " my first approved words" in diff


async def test_approving_a_revision_publishes_it(client: httpx.AsyncClient) -> None:
    topic = await make_topic()
    reader, c = await new_reader_comment(topic)
    await edit(client, c["id"], reader, "the *approved* edit")
    version = await sql.fetchval("SELECT version FROM topic WHERE id = $1", topic["id"])
    mod = await make_user("moderator")
    item = await queue_item(client, mod, c["id"])
    r = await decide(client, mod, item["id"], "approve")
    assert r.status_code == 200, r.text
    assert r.json()["target_status"] == "published"
    public = await read(client, c["id"])
    assert "<em>approved</em>" in public["body_html"] and "edit_pending" not in public
    assert "edit_pending" not in await read(client, c["id"], reader)
    assert await sql.fetchval("SELECT version FROM topic WHERE id = $1", topic["id"]) > version
    revs = (await client.get(f"/api/comments/{c['id']}/revisions", headers=reader.headers)).json()["items"]
    assert [x["body"] for x in revs] == ["my first approved words"]
    assert await open_items(c["id"]) == {}
    entry = await sql.fetchrow("SELECT details FROM audit_log WHERE action = 'approve' ORDER BY id DESC LIMIT 1")
    assert '"revision": "approved"' in entry["details"]


async def test_rejecting_a_revision_keeps_the_published_text(client: httpx.AsyncClient) -> None:
    topic = await make_topic()
    reader, c = await new_reader_comment(topic)
    await edit(client, c["id"], reader, "an edit the moderator refuses")
    mod = await make_user("moderator")
    item = await queue_item(client, mod, c["id"])
    r = await decide(client, mod, item["id"], "reject", reason="please keep it on topic")
    assert r.status_code == 200, r.text
    assert r.json()["target_status"] == "published"
    for who in (None, reader):
        seen = await read(client, c["id"], who)
        assert "my first approved words" in seen["body_html"] and "edit_pending" not in seen
    assert await sql.fetchval("SELECT pending_body FROM comment WHERE id = $1", c["id"]) is None
    assert await sql.fetchval("SELECT count(*) FROM notification WHERE \"user\" = $1", reader.id) == 1
    assert await open_items(c["id"]) == {}


async def test_edit_approve_replaces_the_revision_with_the_moderators_text(client: httpx.AsyncClient) -> None:
    topic = await make_topic()
    reader, c = await new_reader_comment(topic)
    await edit(client, c["id"], reader, "an edit with a typo")
    mod = await make_user("moderator")
    item = await queue_item(client, mod, c["id"])
    r = await decide(client, mod, item["id"], "edit_approve", body="an edit without the typo")
    assert r.status_code == 200, r.text
    assert "without the typo" in (await read(client, c["id"]))["body_html"]
    assert await sql.fetchval("SELECT pending_body FROM comment WHERE id = $1", c["id"]) is None


async def test_deleting_a_comment_drops_its_waiting_revision(client: httpx.AsyncClient) -> None:
    topic = await make_topic()
    reader, c = await new_reader_comment(topic)
    await make_comment(topic, await make_user(), "a reply", parent=c)
    await edit(client, c["id"], reader, "words that must go with the comment")
    assert (await client.delete(f"/api/comments/{c['id']}", headers=reader.headers)).status_code == 204
    assert await sql.fetchval("SELECT pending_body FROM comment WHERE id = $1", c["id"]) is None


async def test_an_approved_revision_reaches_live_readers(client: httpx.AsyncClient, migrated: str) -> None:
    """The approval's topic event is a `comment` event for that comment (what live streams send)."""
    topic = await make_topic()
    reader, c = await new_reader_comment(topic)
    await edit(client, c["id"], reader, "the live edit")
    mod = await make_user("moderator")
    item = await queue_item(client, mod, c["id"])
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    conn = await asyncpg.connect(migrated)
    try:
        await conn.add_listener(events.CHANNEL, lambda *args: received.put_nowait(json.loads(args[-1])))
        assert (await decide(client, mod, item["id"], "approve")).status_code == 200
        payload = await asyncio.wait_for(received.get(), 5)
        while payload.get("c") != c["id"]:
            payload = await asyncio.wait_for(received.get(), 5)
        assert payload["e"] == events.COMMENT
    finally:
        await conn.close()


async def test_topic_edits_refuse_disguised_banned_words(client: httpx.AsyncClient) -> None:
    await set_rules(banned_words=["forbidden"])
    coach = await make_user("coach")
    topic = await make_topic(author=coach)
    for change in ({"title": "A f\u043erbidden title"}, {"body": "for*bidden*"}):
        r = await client.patch(f"/api/topics/{topic['slug']}", headers=coach.headers, json=change)
        assert r.status_code == 422 and r.json()["rule"] == "banned_words", r.text


async def test_the_authors_export_carries_the_waiting_edit(client: httpx.AsyncClient) -> None:
    topic = await make_topic()
    reader, c = await new_reader_comment(topic)
    await edit(client, c["id"], reader, "an edit waiting for a moderator")
    r = await client.get("/api/me/export", headers=reader.headers)
    assert r.status_code == 200, r.text
    mine = [x for x in r.json()["comments"] if x["id"] == c["id"]]
    assert mine[0]["pending_edit_body"] == "an edit waiting for a moderator"
