"""The streaming WordPress import (issue 19, scenario 12): batches, cleaning workers,
replies before their parents, refusals and failures halfway through a file, re-runs."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
import pytest

from forum import sql
from forum.errors import BadRequest
from forum.transfer.commands import run_import

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WXR = FIXTURES / "wordpress.xml"
HEAD = ('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>\n<title>Blog</title>\n')
TAIL = "</channel>\n</rss>\n"


def comment(cid: int, parent: int, text: str, *, author: str = "Reader", approved: str = "1",
            day: int = 1) -> str:
    return (f"<wp:comment><wp:comment_id>{cid}</wp:comment_id><wp:comment_author>{author}</wp:comment_author>"
            f"<wp:comment_date_gmt>2020-01-{day:02d} 10:00:00</wp:comment_date_gmt>"
            f"<wp:comment_content><![CDATA[{text}]]></wp:comment_content>"
            f"<wp:comment_approved>{approved}</wp:comment_approved>"
            f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>\n")


def post(post_id: int, comments: list[str]) -> str:
    return (f"<item><title>Post {post_id}</title><link>https://blog.example.org/p/{post_id}</link>"
            f"<content:encoded><![CDATA[<p>Body of {post_id}</p>]]></content:encoded>"
            f"<wp:post_id>{post_id}</wp:post_id><wp:post_date_gmt>2020-01-01 09:00:00</wp:post_date_gmt>"
            f"<wp:post_name>post-{post_id}</wp:post_name><wp:status>publish</wp:status>"
            f"<wp:post_type>post</wp:post_type>\n{''.join(comments)}</item>\n")


def blog(n_posts: int = 6) -> str:
    """Posts of three comments each: a root, a reply, a reply to the reply."""
    items = []
    for p in range(1, n_posts + 1):
        base = p * 10
        items.append(post(100 + p, [comment(base, 0, f"root of {p}", day=1),
                                    comment(base + 1, base, f"reply of {p}", day=2),
                                    comment(base + 2, base + 1, f"deep of {p}", author="Sam", day=3)]))
    return HEAD + "".join(items) + TAIL


async def counts() -> tuple[int, int, int, int]:
    row = await sql.fetchrow(
        "SELECT (SELECT count(*) FROM topic) AS t, (SELECT count(*) FROM comment) AS c,"
        " (SELECT count(*) FROM moderation_item) AS m, (SELECT count(*) FROM import_source) AS s")
    return row["t"], row["c"], row["m"], row["s"]


async def shape() -> list[tuple[object, ...]]:
    """The imported threads, without ids: each comment with its topic, parent and counts."""
    rows = await sql.fetch(
        "SELECT t.slug, c.body_html, p.body_html AS parent, c.depth, c.status, c.guest_name, c.reply_count,"
        " c.first_published_at IS NOT NULL AS dated, t.comment_count"
        " FROM comment c JOIN topic t ON t.id = c.topic LEFT JOIN comment p ON p.id = c.parent"
        " ORDER BY t.slug, c.body_html")
    return [tuple(r) for r in rows]


async def test_a_reply_before_its_parent_in_the_file_is_threaded(client: httpx.AsyncClient, tmp_path: Path) -> None:
    path = tmp_path / "order.xml"
    path.write_text(HEAD + post(7, [comment(3, 2, "the grandchild", day=3), comment(2, 1, "the child", day=2),
                                    comment(1, 0, "the root", day=1)]) + TAIL)
    report = await run_import("wordpress", path)
    rows = {r["body_html"]: dict(r) for r in await sql.fetch("SELECT * FROM comment")}
    root, child, grandchild = rows["<p>the root</p>"], rows["<p>the child</p>"], rows["<p>the grandchild</p>"]
    assert child["parent"] == root["id"] and grandchild["parent"] == child["id"]
    assert root["id"] < child["id"] < grandchild["id"]  # ids in creation order, parents first
    assert grandchild["root_id"] == root["id"] and grandchild["depth"] == 2
    assert grandchild["path"].startswith(child["path"]) and child["path"].startswith(root["path"])
    assert root["reply_count"] == 2 and child["reply_count"] == 1
    assert "comments: 3 created" in report and "attached to the nearest" not in report


async def test_workers_and_small_batches_write_the_same_as_one_batch(client: httpx.AsyncClient, migrated: str,
                                                                    tmp_path: Path) -> None:
    from tests.integration.test_export import wipe

    await run_import("wordpress", WXR)
    expected, expected_counts = await shape(), await counts()
    await wipe(migrated)
    report = await run_import("wordpress", WXR, workers=1, batch_comments=1, batch_topics=1)
    assert await shape() == expected
    assert await counts() == expected_counts
    assert "comments: 6 created (5 published, 1 pending moderation)" in report
    for line in ("spam: 1", "trash: 1", "pingback: 1", "post not published (draft): 1", "not a post (page): 1"):
        assert line in report, report


async def test_reimport_with_workers_writes_nothing(client: httpx.AsyncClient, tmp_path: Path) -> None:
    path = tmp_path / "blog.xml"
    path.write_text(blog())
    await run_import("wordpress", path, workers=1, batch_comments=4)
    before = await counts()
    assert before == (6, 18, 0, 24)
    report = await run_import("wordpress", path, workers=1, batch_comments=4)
    assert await counts() == before
    assert "topics:   0 created, 0 matched by url, 6 already imported" in report
    assert "comments: 0 created" in report and "18 already imported" in report


async def test_a_file_broken_near_its_end_imports_nothing(client: httpx.AsyncClient, tmp_path: Path) -> None:
    # Small batches: five posts are written before the parser meets the broken sixth.
    text = blog()
    broken = text[: text.rindex("<item>")] + "<item><title>cut short</titl></item>" + TAIL
    path = tmp_path / "broken.xml"
    path.write_text(broken)
    with pytest.raises(BadRequest) as info:
        await run_import("wordpress", path, batch_comments=1, batch_topics=1)
    assert "not a well-formed" in info.value.detail and "Nothing was imported" in info.value.detail
    assert await counts() == (0, 0, 0, 0)


async def test_a_bad_item_after_written_batches_imports_nothing(client: httpx.AsyncClient, tmp_path: Path) -> None:
    text = blog()
    path = tmp_path / "no-id.xml"
    path.write_text(text.replace("</channel>", "<item><wp:post_type>post</wp:post_type></item></channel>"))
    with pytest.raises(BadRequest) as info:
        await run_import("wordpress", path, workers=1, batch_comments=1)
    assert "item 7 has no wp:post_id" in info.value.detail
    assert await counts() == (0, 0, 0, 0)


async def test_a_database_failure_in_a_later_batch_rolls_everything_back(client: httpx.AsyncClient,
                                                                         tmp_path: Path) -> None:
    path = tmp_path / "blog.xml"
    text = blog()
    path.write_text(text[: text.rindex("Sam")] + "Zed" + text[text.rindex("Sam") + 3:])  # the last post's last
    await sql.execute("ALTER TABLE comment ADD CONSTRAINT test_no_zed CHECK (guest_name IS DISTINCT FROM 'Zed')")
    try:
        with pytest.raises(asyncpg.CheckViolationError):
            await run_import("wordpress", path, workers=1, batch_comments=3)
        assert await counts() == (0, 0, 0, 0)
    finally:
        await sql.execute("ALTER TABLE comment DROP CONSTRAINT test_no_zed")
    # the same file without the constraint: a clean re-run imports everything
    await run_import("wordpress", path, workers=1, batch_comments=3)
    assert await counts() == (6, 18, 0, 24)


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE rss [ <!ENTITY a "aaaaaaaaaa"> <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"> ]>',  # entity expansion
    '<!DOCTYPE rss [ <!ENTITY ext SYSTEM "file:///etc/hostname"> ]>',  # an external entity
])
async def test_entity_declarations_are_refused_before_anything_is_written(client: httpx.AsyncClient,
                                                                          tmp_path: Path, doctype: str) -> None:
    text = blog().replace("<rss", doctype + "\n<rss", 1).replace("root of 6", "root of 6 &b;")
    path = tmp_path / "entities.xml"
    path.write_text(text)
    with pytest.raises(BadRequest) as info:
        await run_import("wordpress", path, batch_comments=1)
    assert "declares XML entities" in info.value.detail and "Nothing was imported" in info.value.detail
    assert await counts() == (0, 0, 0, 0)
