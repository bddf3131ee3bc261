"""Disqus import: threads with posts, parents, deleted/spam skipped, url matching with an
earlier WordPress import, idempotency, all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from forum import sql
from forum.errors import BadRequest
from forum.transfer.commands import run_import

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DISQUS = FIXTURES / "disqus.xml"


async def state() -> tuple[int, int, int]:
    row = await sql.fetchrow("SELECT (SELECT count(*) FROM topic) AS t, (SELECT count(*) FROM comment) AS c,"
                             " (SELECT count(*) FROM import_source) AS s")
    return row["t"], row["c"], row["s"]


async def by_text() -> dict[str, dict]:
    return {r["body_html"]: dict(r) for r in await sql.fetch("SELECT * FROM comment ORDER BY id")}


def one(rows: dict[str, dict], needle: str) -> dict:
    hits = [r for text, r in rows.items() if needle in text]
    assert len(hits) == 1, needle
    return hits[0]


async def test_imports_threads_and_posts_with_parents(client: httpx.AsyncClient) -> None:
    report = await run_import("disqus", DISQUS)
    topics = [dict(r) for r in await sql.fetch("SELECT * FROM topic")]
    assert len(topics) == 1  # the thread without posts and the deleted thread are not imported
    t = topics[0]
    assert t["slug"] == "first-conversation" and t["kind"] == "article" and t["title"] == "The first conversation"
    assert t["url"] == "https://blog.example.org/2021/05/first-conversation"  # canonical form
    c = await by_text()
    root, reply, deep = one(c, "We tried the approach"), one(c, "it took months"), one(c, "Deep reply")
    pending = one(c, "Awaiting review")
    assert root["parent"] is None and reply["parent"] == root["id"] and deep["parent"] == reply["id"]
    assert deep["depth"] == 2 and deep["root_id"] == root["id"] and deep["path"].startswith(reply["path"])
    assert pending["status"] == "pending" and pending["parent"] == root["id"]
    assert root["guest_name"] == "Jo" and reply["guest_name"] == "Lee" and root["author"] is None
    assert root["created_at"].isoformat() == "2021-05-02T09:00:00+00:00"
    assert root["reply_count"] == 2 and t["comment_count"] == 3
    text = " ".join(c)
    for gone in ("disqusspam", "disqusdeleted", "removed thread", "<script", "javascript:", "onerror"):
        assert gone not in text
    dump = str(list(c.values()))
    assert "jo.private@example.com" not in dump and "203.0.113.50" not in dump
    for line in ("comments: 4 created (3 published, 1 pending moderation)", "spam: 1", "deleted: 1",
                 "skipped topics: 2", "thread deleted: 1", "thread without comments: 1", "skipped comments: 3"):
        assert line in report, report


async def test_importing_twice_creates_nothing_new(client: httpx.AsyncClient) -> None:
    await run_import("disqus", DISQUS)
    before = await state()
    report = await run_import("disqus", DISQUS)
    assert await state() == before
    assert "1 already imported" in report and "4 already imported" in report


async def test_comments_join_a_topic_imported_from_wordpress_by_url(client: httpx.AsyncClient,
                                                                     tmp_path: Path) -> None:
    await run_import("wordpress", FIXTURES / "wordpress.xml")
    moved = DISQUS.read_text().replace("https://blog.example.org/2021/05/first-conversation/",
                                       "https://blog.example.org/2020/01/boundaries/")
    path = tmp_path / "disqus-moved.xml"
    path.write_text(moved)
    report = await run_import("disqus", path)
    assert "0 created, 1 matched by url" in report
    topic = await sql.fetchrow("SELECT id, comment_count FROM topic WHERE slug = 'boundaries-without-shame'")
    assert topic["comment_count"] == 1 + 3
    assert await sql.fetchval("SELECT count(*) FROM topic") == 2


async def test_bad_files_change_nothing(client: httpx.AsyncClient) -> None:
    with pytest.raises(BadRequest) as info:
        await run_import("disqus", FIXTURES / "disqus_malformed.xml")
    assert "thread 9999" in info.value.detail and "Nothing was imported" in info.value.detail
    with pytest.raises(BadRequest) as info:
        await run_import("disqus", FIXTURES / "wordpress.xml")
    assert "not a Disqus export" in info.value.detail
    assert await state() == (0, 0, 0)
