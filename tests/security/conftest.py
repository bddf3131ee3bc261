"""Fixtures for the security tests: a small world of accounts and objects, and the
routes the app really serves (from its own OpenAPI document)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from forum import sql
from tests.helpers import Account, make_user, unique


@dataclass
class World:
    client: httpx.AsyncClient
    reader: Account
    reader2: Account
    suspended: Account
    coach: Account
    moderator: Account
    admin: Account
    slug: str
    comment_id: int  # a published comment by `reader` on the article
    question_id: int | None  # a private question by `reader`
    item_id: int | None  # a moderation queue item, if one was opened
    doc: dict[str, Any] = field(default_factory=dict)

    def h(self, who: Account | None) -> dict[str, str]:
        return dict(who.headers) if who is not None else {}


async def _world(client: httpx.AsyncClient) -> World:
    reader = await make_user("reader")
    reader2 = await make_user("reader")
    suspended = await make_user("reader", status="suspended")
    await sql.execute("UPDATE forum_user SET suspended_until = now() + interval '3 days' WHERE id = $1",
                      suspended.id)
    coach = await make_user("coach")
    moderator = await make_user("moderator")
    admin = await make_user("admin")
    slug = unique("sec").replace("_", "-")
    r = await client.post("/api/topics", headers=coach.headers,
                          json={"kind": "article", "title": "Security", "body": "An article.", "slug": slug})
    assert r.status_code == 201, r.text
    slug = r.json()["slug"]
    # make the reader trusted enough to publish at once (rules: new authors are held)
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0")
    r = await client.post(f"/api/topics/{slug}/comments", headers=reader.headers,
                          json={"body": "A reader's comment."})
    assert r.status_code == 201, r.text
    comment_id = r.json()["id"]
    r = await client.post(f"/api/topics/{slug}/comments", headers=reader.headers,
                          json={"body": "A private question?", "kind": "question", "private": True})
    question_id = r.json()["id"] if r.status_code == 201 else None
    r = await client.post(f"/api/comments/{comment_id}/flags", headers=reader2.headers,
                          json={"reason": "spam"})
    item_id = await sql.fetchval("SELECT max(id) FROM moderation_item")
    doc = (await client.get("/schema/openapi.json")).json()
    return World(client, reader, reader2, suspended, coach, moderator, admin, slug, comment_id,
                 question_id, item_id, doc)


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await _world(client)


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path template, operation) for every documented operation."""
    out = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                out.append((method.upper(), path, op))
    return out


def fill_path(path: str, w: World, **override: Any) -> str:
    values = {"slug": w.slug, "comment_id": w.comment_id, "question_id": w.question_id or w.comment_id,
              "user_id": w.reader.id, "item_id": w.item_id or 1, **override}
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    assert "{" not in path, f"unknown path parameter in {path}"
    return path
