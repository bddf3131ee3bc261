"""The guest challenge (ALTCHA v2 proof of work) in front of guest posts: refused without a
solved challenge when FORUM_GUEST_CHALLENGE is on, each challenge spent once, signed-in users
never asked; off (the test default) guests post as before."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from altcha import v2

from forum.frontend import challenge
from tests.helpers import make_user


@pytest.fixture
def challenge_on(app: Any) -> Iterator[None]:
    before = app.state.settings
    app.state.settings = before.with_overrides(guest_challenge=True)
    try:
        yield
    finally:
        app.state.settings = before


def solve(data: dict[str, Any]) -> str:
    solution = v2.solve_challenge(v2.Challenge.from_dict(data))
    assert solution is not None
    return base64.b64encode(json.dumps({"challenge": data, "solution": solution.to_dict()}).encode()).decode()


async def _topic(c: httpx.AsyncClient) -> str:
    coach = await make_user("coach")
    r = await c.post("/api/topics", headers=coach.headers,
                     json={"kind": "article", "title": "Guests", "body": "An article.", "slug": "guests"})
    assert r.status_code == 201, r.text
    return "guests"


async def test_challenge_document(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/guest-challenge")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    data = r.json()
    assert data["parameters"]["algorithm"] == "PBKDF2/SHA-256" and data["signature"]
    assert data["parameters"]["expiresAt"] > datetime.now(UTC).timestamp()
    assert r.json() != (await client.get("/api/guest-challenge")).json()  # a fresh one each time


async def test_guest_needs_a_solved_challenge_spent_once(client: httpx.AsyncClient, challenge_on: None) -> None:
    slug = await _topic(client)
    post = {"body": "A guest's first words.", "guest_name": "Guest"}
    r = await client.post(f"/api/topics/{slug}/comments", json=post)
    assert r.status_code == 400 and r.json()["detail"].startswith("altcha:"), r.text
    r = await client.post(f"/api/topics/{slug}/comments", json={**post, "altcha": "bm90IGEgcGF5bG9hZA=="})
    assert r.status_code == 400 and r.json()["detail"] == "altcha: not a solved challenge"

    payload = solve((await client.get("/api/guest-challenge")).json())
    r = await client.post(f"/api/topics/{slug}/comments", json={**post, "altcha": payload})
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    # the same solution again: spent
    r = await client.post(f"/api/topics/{slug}/comments",
                          json={"body": "A second post.", "guest_name": "Guest", "altcha": payload})
    assert r.status_code == 400 and "already used" in r.json()["detail"]


async def test_tampered_and_expired_challenges_are_refused(client: httpx.AsyncClient, challenge_on: None,
                                                           app: Any) -> None:
    slug = await _topic(client)
    data = (await client.get("/api/guest-challenge")).json()
    data["parameters"]["cost"] = 1  # cheaper work, same signature
    r = await client.post(f"/api/topics/{slug}/comments",
                          json={"body": "Tampered.", "guest_name": "Guest", "altcha": solve(data)})
    assert r.status_code == 400 and r.json()["detail"] == "altcha: not a solved challenge"
    old = v2.create_challenge(challenge.ALGORITHM, 10, hmac_secret=challenge._secret(app.state.settings),
                              expires_at=datetime.now(UTC) - timedelta(seconds=5)).to_dict()
    r = await client.post(f"/api/topics/{slug}/comments",
                          json={"body": "Too late.", "guest_name": "Guest", "altcha": solve(old)})
    assert r.status_code == 400 and "expired" in r.json()["detail"]


async def test_signed_in_users_and_challenge_off_need_none(client: httpx.AsyncClient, app: Any) -> None:
    slug = await _topic(client)
    r = await client.post(f"/api/topics/{slug}/comments", json={"body": "Guest, check off.", "guest_name": "G"})
    assert r.status_code == 201, r.text
    app.state.settings = app.state.settings.with_overrides(guest_challenge=True)
    try:
        reader = await make_user("reader")
        r = await client.post(f"/api/topics/{slug}/comments", headers=reader.headers, json={"body": "A reader."})
        assert r.status_code == 201, r.text
    finally:
        app.state.settings = app.state.settings.with_overrides(guest_challenge=False)
