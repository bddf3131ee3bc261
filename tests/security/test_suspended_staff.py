"""Suspension removes every staff power until it ends, on every staff route.

The staff routes are read from the authorization matrix (EXPECTED in test_authz_matrix):
every route where a coach, moderator or admin may act and a plain active reader who owns
nothing there (OTHER) may not. A suspended member of each allowed staff role is sent the
same request and must be refused; the same people once the suspension has ended are let
through again (so the refusal is the suspension's, not the request's).
"""

from __future__ import annotations

from typing import Any

import httpx

from forum import sql
from tests.helpers import make_user
from tests.security.test_authz_matrix import (
    ADMIN,
    COACH,
    CONSUMING,
    EXPECTED,
    MOD,
    OTHER,
    build_world,
    request_for,
)

STAFF = {COACH: "coach", MOD: "moderator", ADMIN: "admin"}


def staff_routes() -> list[tuple[str, str, list[str]]]:
    """(method, path, the staff personas allowed) of every route a staff power opens."""
    out = []
    for (method, path), allowed in sorted(EXPECTED.items()):
        if OTHER in allowed or path.endswith("/events"):
            continue
        personas = [p for p in STAFF if p in allowed]
        if personas:
            out.append((method, path, personas))
    return out


async def test_staff_routes_are_found() -> None:
    paths = {(m, p) for m, p, _ in staff_routes()}
    for route in [("POST", "/api/moderation/items/{item_id}/decision"), ("GET", "/api/coach/questions"),
                  ("PATCH", "/api/admin/users/{user_id}"), ("DELETE", "/api/comments/{comment_id}"),
                  ("PATCH", "/api/topics/{slug}"), ("POST", "/api/moderation/users/{user_id}/suspend")]:
        assert route in paths


async def test_suspended_staff_have_no_staff_power_on_any_route(client: httpx.AsyncClient) -> None:
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0")
    rules = dict((await sql.fetchrow("SELECT * FROM moderation_rules")) or {})
    rules_body = {k: rules[k] for k in (
        "banned_words", "suspect_words", "crisis_words", "max_links_untrusted", "trusted_after_approved",
        "flag_hide_threshold", "edit_window_minutes", "premoderate_all", "crisis_message")}
    failures: list[str] = []
    for method, path, personas in staff_routes():
        for persona in personas:
            world = await build_world(client)
            staff = await make_user(STAFF[persona])
            world.users[persona] = staff
            await sql.execute("UPDATE forum_user SET status = 'suspended', suspension_reason = 'test',"
                              " suspended_until = now() + interval '2 days' WHERE id = $1", staff.id)
            url, body, params = request_for(method, path, world, persona, "nobody", rules_body)
            r = await client.request(method, url, json=body, params=params, headers=staff.headers)
            if r.status_code not in (403, 404):
                failures.append(f"{method} {path} as suspended {STAFF[persona]}: {r.status_code} {r.text[:160]}")
                continue
            # the same request once the suspension has ended goes through
            await sql.execute("UPDATE forum_user SET suspended_until = now() - interval '1 minute' WHERE id = $1",
                              staff.id)
            if (method, path) in CONSUMING:
                world = await build_world(client)
                world.users[persona] = staff
                url, body, params = request_for(method, path, world, persona, "nobody", rules_body)
            r = await client.request(method, url, json=body, params=params, headers=staff.headers)
            if r.status_code in (401, 403, 404) or r.status_code >= 500:
                failures.append(f"{method} {path} as {STAFF[persona]} after the suspension: {r.status_code}"
                                f" {r.text[:160]}")
    assert not failures, "\n".join(failures)


async def test_suspended_staff_keep_reading_and_removing_their_own(client: httpx.AsyncClient) -> None:
    await sql.execute("UPDATE moderation_rules SET trusted_after_approved = 0")
    world: Any = await build_world(client)
    mod = await make_user("moderator")
    r = await client.post(f"/api/topics/{world.slug}/comments", headers=mod.headers, json={"body": "my note"})
    assert r.status_code == 201, r.text
    own = r.json()["id"]
    await sql.execute("UPDATE forum_user SET status = 'suspended', suspended_until = NULL WHERE id = $1", mod.id)
    assert (await client.get(f"/api/topics/{world.slug}/comments", headers=mod.headers)).status_code == 200
    assert (await client.get(f"/api/comments/{world.comment_id}", headers=mod.headers)).status_code == 200
    assert (await client.delete(f"/api/comments/{own}", headers=mod.headers)).status_code == 204
