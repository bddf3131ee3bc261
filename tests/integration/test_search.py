"""Search: ranking, privacy (pending, private, deleted, unpublished topics), safe excerpts,
paging, odd queries."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import httpx

from forum import sql
from forum.comments.tree import child_path


def word() -> str:
    return "zq" + "".join(ch for ch in uuid.uuid4().hex if ch.isalpha())[:8] + "x"


async def make_topic(title: str, body: str = "", status: str = "published") -> tuple[int, str]:
    slug = f"s-{uuid.uuid4().hex[:10]}"
    topic_id = await sql.fetchval(
        "INSERT INTO topic (slug, kind, title, url, body, body_html, status, created_at, updated_at)"
        " VALUES ($1, 'article', $2, NULL, $3, $4, $5, now(), now()) RETURNING id",
        slug, title, body, f"<p>{html.escape(body)}</p>", status)
    return topic_id, slug


async def make_comment(topic_id: int, body: str, *, status: str = "published", private: bool = False,
                       parent: int | None = None) -> int:
    cid = await sql.fetchval("SELECT nextval('comment_id_seq')")
    parent_path, root_id, depth = None, cid, 0
    if parent is not None:
        row = await sql.fetchrow("SELECT path, root_id, depth FROM comment WHERE id = $1", parent)
        parent_path, root_id, depth = row["path"], row["root_id"], row["depth"] + 1
    await sql.execute(
        "INSERT INTO comment (id, topic, parent, root_id, path, depth, kind, private, status, guest_name,"
        " body, body_html, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'comment', $7, $8, 'G', $9, $10, now())",
        cid, topic_id, parent, root_id, child_path(parent_path, cid), depth, private, status, body,
        f"<p>{html.escape(body)}</p>")
    return cid


async def search(client: httpx.AsyncClient, q: str, **params: object) -> dict:
    r = await client.get("/api/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()


async def test_finds_comments_and_topics_with_slug_title_and_ids(client: httpx.AsyncClient) -> None:
    w = word()
    topic_id, slug = await make_topic(f"All about {w}", "an article body")
    cid = await make_comment(topic_id, f"my note on {w} today")
    body = await search(client, w)
    assert body["next_cursor"] is None
    kinds = {(h["kind"], h["id"]) for h in body["items"]}
    assert kinds == {("topic", topic_id), ("comment", cid)}
    for hit in body["items"]:
        assert hit["topic_slug"] == slug and hit["title"] == f"All about {w}"
        assert f"<mark>{w}</mark>" in hit["excerpt_html"]
        assert isinstance(hit["rank"], float) and hit["rank"] > 0
    comment_hit = next(h for h in body["items"] if h["kind"] == "comment")
    assert comment_hit["comment_id"] == cid


async def test_ranking_puts_the_denser_match_first(client: httpx.AsyncClient) -> None:
    w, other = word(), word()
    topic_id, _ = await make_topic("ranking")
    weak = await make_comment(topic_id, f"{w} " + " ".join(["filler"] * 40) + f" {other}")
    strong = await make_comment(topic_id, f"{w} {other} {w} {other} {w}")
    items = (await search(client, f"{w} {other}"))["items"]
    assert [h["id"] for h in items] == [strong, weak]
    assert items[0]["rank"] > items[1]["rank"]


async def test_stemming_with_the_default_english_config(client: httpx.AsyncClient) -> None:
    topic_id, _ = await make_topic("stems")
    w = word()
    cid = await make_comment(topic_id, f"{w} was talking about boundaries")
    items = (await search(client, f"{w} talk boundary"))["items"]
    assert [h["id"] for h in items] == [cid]


async def test_private_pending_rejected_deleted_and_hidden_topics_are_not_found(client: httpx.AsyncClient) -> None:
    w = word()
    topic_id, _ = await make_topic("public place")
    hidden_topic, _ = await make_topic(f"pending topic {w}", status="pending")
    visible = await make_comment(topic_id, f"{w} visible")
    await make_comment(topic_id, f"{w} pending", status="pending")
    await make_comment(topic_id, f"{w} rejected", status="rejected")
    question = await make_comment(topic_id, f"{w} private question", private=True)
    await make_comment(topic_id, f"{w} private reply", private=True, parent=question)
    gone = await make_comment(topic_id, f"{w} deleted later")
    await make_comment(hidden_topic, f"{w} on a pending topic")
    assert {h["id"] for h in (await search(client, w))["items"]} == {visible, gone}
    await sql.execute("UPDATE comment SET status = 'deleted', deleted_at = now() WHERE id = $1", gone)
    items = (await search(client, w))["items"]
    assert [h["id"] for h in items] == [visible]
    assert "private" not in str(items) and "pending" not in str(items)


async def test_excerpt_is_escaped_text_with_mark_only(client: httpx.AsyncClient) -> None:
    w = word()
    topic_id, _ = await make_topic("safety")
    body = (f"{w} <img src=x onerror=alert(1)> <script>alert(2)</script> \"quoted\" & "
            f"\ue000fake\ue001 {w}")
    await make_comment(topic_id, body)
    hit = (await search(client, w))["items"][0]
    excerpt = hit["excerpt_html"]
    tags = re.findall(r"</?([a-zA-Z][^\s>/]*)", excerpt)
    assert tags and set(tags) == {"mark"}, excerpt
    assert "<script" not in excerpt and "<img" not in excerpt and "alert(2)" in excerpt
    assert "&quot;quoted&quot; &amp;" in excerpt  # text is escaped, never interpreted
    assert excerpt.count("<mark>") == excerpt.count("</mark>") == 2
    assert "<mark>fake</mark>" not in excerpt and "\ue000" not in excerpt
    assert len(excerpt) < 1000


async def test_pages_with_signed_cursors(client: httpx.AsyncClient) -> None:
    w = word()
    topic_id, _ = await make_topic("paging")
    made = {await make_comment(topic_id, f"{w} number {i}") for i in range(5)}
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = await search(client, w, **params)
        pages += 1
        seen += [h["id"] for h in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and sorted(seen) == sorted(made) and len(seen) == 5
    # a page exactly full at the end has no next cursor
    body = await search(client, w, limit=5)
    assert len(body["items"]) == 5 and body["next_cursor"] is None


async def test_bad_limit_and_cursor_are_400(client: httpx.AsyncClient) -> None:
    for limit in ("0", "101", "-5", "abc"):
        r = await client.get("/api/search", params={"q": "x", "limit": limit})
        assert r.status_code == 400 and "limit" in r.json()["detail"], (limit, r.text)
    r = await client.get("/api/search", params={"q": "x", "cursor": "garbage!!"})
    assert r.status_code == 400 and "cursor" in r.json()["detail"]


async def test_cursor_of_another_query_is_refused(client: httpx.AsyncClient) -> None:
    w = word()
    topic_id, _ = await make_topic("cursors")
    for i in range(3):
        await make_comment(topic_id, f"{w} {i}")
    cursor = (await search(client, w, limit=1))["next_cursor"]
    assert cursor
    r = await client.get("/api/search", params={"q": "something else", "cursor": cursor})
    assert r.status_code == 400


async def raw_get(app: Any, path: str, query: bytes) -> int:
    """Status of a GET sent straight to the ASGI app (httpx refuses URLs over 64 KB)."""
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
             "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 40000),
             "server": ("testserver", 80), "root_path": ""}
    await app(scope, receive, send)
    return int(next(m["status"] for m in messages if m["type"] == "http.response.start"))


async def test_huge_queries_are_not_server_errors(client: httpx.AsyncClient, app: Any) -> None:
    assert await raw_get(app, "/api/search", b"q=" + b"a" * 100_000) == 200
    words = "+".join(f"w{i}" for i in range(20_000)).encode()
    assert await raw_get(app, "/api/search", b"q=" + words) == 200
    assert await raw_get(app, "/api/search", b"q=%00%FF%FE%ED%A0%80") == 200


async def test_empty_and_odd_queries_never_fail(client: httpx.AsyncClient) -> None:
    topic_id, _ = await make_topic("odd")
    await make_comment(topic_id, "plain words here")
    for params in ({}, {"q": ""}, {"q": "   "}, {"q": "\x00"}):
        r = await client.get("/api/search", params=params)
        assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}, (params, r.text)
    odd = ["&|!():*'\\\"<>", "a & | b", "!!!", "(((", "'", "foo:*", "x <-> y", "a\x00b", "%", "—",
           "the", "-", '"unclosed', "or or or", "\ud7ff\ue000\ue001", ("&|!():*'\\" * 1200)[:10000],
           "a" * 60_000, " ".join(f"w{i}" for i in range(8_000))]
    for q in odd:
        r = await client.get("/api/search", params={"q": q})
        assert r.status_code == 200, (q[:40], r.status_code, r.text[:200])
        assert isinstance(r.json()["items"], list)


async def test_long_query_still_finds_by_its_first_words(client: httpx.AsyncClient) -> None:
    w = word()
    topic_id, _ = await make_topic("long")
    cid = await make_comment(topic_id, f"{w} alone")
    q = w + " " + " ".join(["or"] * 5000)
    items = (await search(client, q))["items"]
    assert [h["id"] for h in items] == [cid]


async def test_reindexes_when_the_language_changes(client: httpx.AsyncClient) -> None:
    from forum.search import lifecycle, services

    topic_id, _ = await make_topic("language")
    cid = await make_comment(topic_id, "las familias hablaron")
    try:
        await lifecycle.sync_language("spanish")
        services.set_language("spanish")
        assert await sql.fetchval("SELECT search_config::text FROM comment WHERE id = $1", cid) == "spanish"
        assert [h["id"] for h in (await search(client, "familia"))["items"]] == [cid]
        new_id = await make_comment(topic_id, "otra familia")  # written after: the new default applies
        assert await sql.fetchval("SELECT search_config::text FROM comment WHERE id = $1", new_id) == "spanish"
    finally:
        await lifecycle.sync_language("english")
        services.set_language("english")
    assert await sql.fetchval("SELECT search_config::text FROM comment WHERE id = $1", cid) == "english"


async def test_a_common_word_is_ranked_among_its_most_recent_matches(client: httpx.AsyncClient) -> None:
    """docs/api.md: hits are ranked among the CANDIDATES most recent matching comments; rows
    the public may not read never take a place among them."""
    from forum.pagination import MAX_LIMIT
    from forum.search.services import CANDIDATES

    w = word()
    topic_id, _ = await make_topic("A busy thread")
    hidden_id, _ = await make_topic("Not published yet", status="pending")
    dense = await make_comment(topic_id, f"{w} {w} {w} {w} {w} {w}")  # the best match, but the oldest
    ids = [r["id"] for r in await sql.fetch("SELECT nextval('comment_id_seq') AS id FROM generate_series(1, $1)",
                                            CANDIDATES)]
    await sql.execute(
        "INSERT INTO comment (id, topic, parent, root_id, path, depth, kind, private, status, guest_name,"
        " body, body_html, created_at)"
        " SELECT i, $2, NULL, i, p, 0, 'comment', false, 'published', 'G', $3, $4, now()"
        "   FROM unnest($1::bigint[], $5::text[]) AS u(i, p)",
        ids, topic_id, f"one more note about {w} and other things", f"<p>one more note about {w}</p>",
        [child_path(None, i) for i in ids])
    newest = [await make_comment(topic_id, f"{w} private", private=True),
              await make_comment(topic_id, f"{w} pending", status="pending"),
              await make_comment(hidden_id, f"{w} in a hidden topic")]
    found: list[int] = []
    cursor = None
    while True:
        body = await search(client, w, limit=MAX_LIMIT, **({"cursor": cursor} if cursor else {}))
        found += [h["id"] for h in body["items"] if h["kind"] == "comment"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(found) == sorted(ids)
    assert dense not in found and not set(newest) & set(found)
