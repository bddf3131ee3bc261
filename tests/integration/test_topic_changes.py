"""`forum.events.topic_changed`: queued in the writer's transaction, applied at commit by a
deferred trigger (version, comment count, NOTIFY), nothing at all when it aborts, and the
topic row left unlocked until the commit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest

from forum import events, sql
from tests.integration.test_moderation_support import make_topic


async def version_and_count(topic_id: int) -> tuple[int, int]:
    row = await sql.fetchrow("SELECT version, comment_count FROM topic WHERE id = $1", topic_id)
    assert row is not None
    return row["version"], row["comment_count"]


@asynccontextmanager
async def notifications(database_url: str) -> AsyncIterator[asyncio.Queue[str]]:
    """The payloads sent on the events channel while the block runs, from a connection of its own."""
    listener = await asyncpg.connect(database_url)
    received: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener(events.CHANNEL, lambda *args: received.put_nowait(args[-1]))
    try:
        yield received
    finally:
        await listener.close()


async def test_applied_at_commit_with_its_notify(client: httpx.AsyncClient, database_url: str) -> None:
    topic = await make_topic()
    before = await version_and_count(topic["id"])
    async with notifications(database_url) as received:
        async with sql.transaction():
            await events.topic_changed(topic["id"], kind=events.COMMENT, comment_id=77, count_delta=1)
            await events.topic_changed(topic["id"])
            assert await version_and_count(topic["id"]) == before  # not yet: at commit
        assert await version_and_count(topic["id"]) == (before[0] + 2, before[1] + 1)
        payloads = [json.loads(await asyncio.wait_for(received.get(), 5)) for _ in range(2)]
    assert payloads == [
        {"t": topic["id"], "v": before[0] + 1, "e": "comment", "c": 77},
        {"t": topic["id"], "v": before[0] + 2, "e": "change", "c": None},
    ]
    assert await sql.fetchval("SELECT count(*) FROM topic_change") == 0  # rows live only in their transaction


async def test_an_aborted_transaction_changes_and_sends_nothing(client: httpx.AsyncClient, database_url: str) -> None:
    topic = await make_topic()
    before = await version_and_count(topic["id"])
    async with notifications(database_url) as received:
        with pytest.raises(RuntimeError):
            async with sql.transaction():
                await events.topic_changed(topic["id"], count_delta=1)
                raise RuntimeError("the writer fails after queueing the change")
        await asyncio.sleep(0.2)
        assert received.empty()
    assert await version_and_count(topic["id"]) == before
    assert await sql.fetchval("SELECT count(*) FROM topic_change") == 0


async def test_the_topic_row_is_not_locked_before_the_commit(client: httpx.AsyncClient, database_url: str) -> None:
    topic = await make_topic()
    other = await asyncpg.connect(database_url)
    try:
        async with sql.transaction():
            await events.topic_changed(topic["id"], count_delta=1)
            # another writer of the same topic is not kept waiting by this transaction
            async with other.transaction():
                locked = await other.fetchval("SELECT id FROM topic WHERE id = $1 FOR UPDATE NOWAIT", topic["id"])
            assert locked == topic["id"]
    finally:
        await other.close()


async def test_a_deleted_topic_commits_quietly(client: httpx.AsyncClient) -> None:
    topic = await make_topic()
    async with sql.transaction():
        await events.topic_changed(topic["id"])
        await sql.execute("DELETE FROM topic WHERE id = $1", topic["id"])
    assert await sql.fetchval("SELECT count(*) FROM topic WHERE id = $1", topic["id"]) == 0
