"""WordPress (WXR) import: topics, threading, statuses, sanitizing, privacy, idempotency,
all-or-nothing on a bad file."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
import pytest

from forum import sql
from forum.comments.tree import ids_of
from forum.errors import BadRequest
from forum.transfer.commands import run_import

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WXR = FIXTURES / "wordpress.xml"


async def counts() -> tuple[int, int, int, int]:
    row = await sql.fetchrow(
        "SELECT (SELECT count(*) FROM topic) AS t, (SELECT count(*) FROM comment) AS c,"
        " (SELECT count(*) FROM moderation_item) AS m, (SELECT count(*) FROM import_source) AS s")
    return row["t"], row["c"], row["m"], row["s"]


async def comments_by_text() -> dict[str, dict]:
    rows = await sql.fetch("SELECT c.*, t.slug FROM comment c JOIN topic t ON t.id = c.topic ORDER BY c.id")
    out = {}
    for r in rows:
        out[r["body_html"]] = dict(r)
    return out


def find(comments: dict[str, dict], needle: str) -> dict:
    hits = [c for text, c in comments.items() if needle in text]
    assert len(hits) == 1, (needle, list(comments))
    return hits[0]


async def test_imports_posts_as_articles_with_threaded_comments(client: httpx.AsyncClient) -> None:
    report = await run_import("wordpress", WXR)
    topics = {r["slug"]: dict(r) for r in await sql.fetch("SELECT * FROM topic")}
    assert set(topics) == {"talking-with-a-teenager", "boundaries-without-shame"}
    t = topics["talking-with-a-teenager"]
    assert t["kind"] == "article" and t["status"] == "published" and t["author"] is None
    assert t["title"] == "Talking with a teenager about harm reduction"
    assert t["url"] == "https://blog.example.org/2019/03/talking-with-a-teenager"  # canonical form
    assert t["created_at"].isoformat() == "2019-03-04T09:00:00+00:00"
    assert "<strong>listening</strong>" in t["body_html"] and 'href="https://example.org/guide"' in t["body_html"]

    c = await comments_by_text()
    maria = find(c, "This helped our family")
    anna = find(c, "Glad to hear it")
    deep = find(c, "naloxone kits")
    held = find(c, "held comment text")
    orphan = find(c, "under the spam")
    assert maria["parent"] is None and maria["depth"] == 0 and maria["root_id"] == maria["id"]
    assert anna["parent"] == maria["id"] and anna["depth"] == 1 and anna["root_id"] == maria["id"]
    assert deep["parent"] == anna["id"] and deep["depth"] == 2
    assert ids_of(deep["path"]) == [maria["id"], anna["id"], deep["id"]]
    assert held["parent"] == maria["id"] and held["status"] == "pending" and held["first_published_at"] is None
    assert orphan["parent"] is None and orphan["status"] == "published"  # its spam parent was skipped
    assert maria["created_at"].isoformat() == "2019-03-05T10:00:00+00:00"
    assert maria["first_published_at"] == maria["created_at"]
    assert maria["author"] is None and maria["guest_name"] == "Maria"
    assert held["guest_name"] == "A very long display name that goes on an" and len(held["guest_name"]) == 40
    # public counts: the pending reply is not counted
    assert maria["reply_count"] == 2 and anna["reply_count"] == 1 and deep["reply_count"] == 0
    assert t["comment_count"] == 4 and topics["boundaries-without-shame"]["comment_count"] == 1
    # the held comment waits in the moderation queue as a guest's would
    item = await sql.fetchrow("SELECT * FROM moderation_item WHERE comment = $1", held["id"])
    assert item["queue"] == "pending" and item["status"] == "open" and list(item["reasons"]) == ["guest"]
    # spam, trash, pingback, drafts and pages are not imported
    everything = " ".join(c)
    for gone in ("spamword", "trashedword", "linked from elsewhere"):
        assert gone not in everything
    assert "comments: 6 created (5 published, 1 pending moderation)" in report
    for line in ("spam: 1", "trash: 1", "pingback: 1", "post not published (draft): 1", "not a post (page): 1",
                 "1 replies attached to the nearest imported ancestor"):
        assert line in report, report


async def test_unsafe_markup_is_removed_and_no_emails_or_ips_are_kept(client: httpx.AsyncClient) -> None:
    await run_import("wordpress", WXR)
    dump = str([dict(r) for r in await sql.fetch("SELECT * FROM comment")])
    dump += str([dict(r) for r in await sql.fetch("SELECT * FROM topic")])
    dump += str([dict(r) for r in await sql.fetch("SELECT * FROM forum_user")])
    for bad in ("<script", "onerror", "onclick", "javascript:", "<img"):
        assert bad not in dump, bad
    for private in ("maria.secret@example.com", "anna@example.com", "203.0.113.7", "198.51.100.2"):
        assert private not in dump
    assert await sql.fetchval("SELECT count(*) FROM forum_user") == 0  # authors are guests


async def test_imported_thread_is_served_and_searchable(client: httpx.AsyncClient) -> None:
    await run_import("wordpress", WXR)
    r = await client.get("/api/search", params={"q": "naloxone"})
    assert r.status_code == 200
    hits = r.json()["items"]
    assert [h["topic_slug"] for h in hits] == ["talking-with-a-teenager"] and hits[0]["kind"] == "comment"
    r = await client.get("/api/search", params={"q": "held comment text"})
    assert r.json()["items"] == []  # pending


async def test_importing_twice_creates_nothing_new(client: httpx.AsyncClient) -> None:
    await run_import("wordpress", WXR)
    before = await counts()
    snapshot = [dict(r) for r in await sql.fetch("SELECT id, path, reply_count, status FROM comment ORDER BY id")]
    report = await run_import("wordpress", WXR)
    assert await counts() == before
    rows = await sql.fetch("SELECT id, path, reply_count, status FROM comment ORDER BY id")
    assert [dict(r) for r in rows] == snapshot
    assert "topics:   0 created, 0 matched by url, 2 already imported" in report
    assert "comments: 0 created" in report and "6 already imported" in report


async def test_new_comments_in_a_later_export_join_the_existing_threads(client: httpx.AsyncClient,
                                                                         tmp_path: Path) -> None:
    await run_import("wordpress", WXR)
    later = WXR.read_text().replace(
        "</item>\n\t<item>\n\t\t<title>Boundaries",
        "<wp:comment><wp:comment_id>9</wp:comment_id><wp:comment_author>Late</wp:comment_author>"
        "<wp:comment_date_gmt>2019-04-01 00:00:00</wp:comment_date_gmt>"
        "<wp:comment_content>a late reply to the deep one</wp:comment_content>"
        "<wp:comment_approved>1</wp:comment_approved><wp:comment_parent>3</wp:comment_parent></wp:comment>"
        "</item>\n\t<item>\n\t\t<title>Boundaries", 1)
    path = tmp_path / "later.xml"
    path.write_text(later)
    await run_import("wordpress", path)
    c = await comments_by_text()
    late, deep, maria = find(c, "late reply"), find(c, "naloxone kits"), find(c, "This helped our family")
    assert late["parent"] == deep["id"] and late["depth"] == 3 and late["root_id"] == maria["id"]
    assert late["path"].startswith(deep["path"])
    assert maria["reply_count"] == 3
    assert await sql.fetchval("SELECT comment_count FROM topic WHERE slug = 'talking-with-a-teenager'") == 5


@pytest.mark.parametrize("name, message", [
    ("wordpress_malformed.xml", "not a well-formed"),
    ("wordpress_xxe.xml", "entities"),
    ("disqus.xml", "not a WordPress export"),
])
async def test_bad_files_change_nothing(client: httpx.AsyncClient, name: str, message: str) -> None:
    await run_import("wordpress", WXR)
    before = await counts()
    with pytest.raises(BadRequest) as info:
        await run_import("wordpress", FIXTURES / name)
    assert message in info.value.detail and "Nothing was imported" in info.value.detail
    assert await counts() == before


async def test_a_failure_while_writing_rolls_everything_back(client: httpx.AsyncClient, tmp_path: Path) -> None:
    # A database error on the last comment (a constraint added for this test) must undo
    # the topics, comments, queue items and mappings written before it.
    await sql.execute("ALTER TABLE comment ADD CONSTRAINT test_no_sam CHECK (guest_name IS DISTINCT FROM 'Sam')")
    try:
        with pytest.raises(asyncpg.CheckViolationError):
            await run_import("wordpress", WXR)
        assert await counts() == (0, 0, 0, 0)
    finally:
        await sql.execute("ALTER TABLE comment DROP CONSTRAINT test_no_sam")
