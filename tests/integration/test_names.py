"""Names (handles at registration and rename, guest names) go through the one normaliser:
no banned words, no staff look-alikes, no bidi controls."""

from __future__ import annotations

import httpx
import pytest

from forum import sql
from tests.helpers import make_user, unique
from tests.integration.test_moderation_support import make_topic, set_rules

PASSWORD = "Correct-horse-9-battery"

# Handles are ASCII (letters, digits, _ - .): the disguises that fit in one.
BANNED_HANDLES = ["scamword.x", "SCAMWORD", "x_scamword", "sc4mword-1", "5camw0rd", "my.scamword.shop"]
# Guest names are free text: every kind of disguise.
BANNED_GUEST_NAMES = ["scamword", "Scam\u200bword", "scam\u00adword", "ｓｃａｍｗｏｒｄ", "sc\u0430mword",
                      "\U0001d42c\U0001d41c\U0001d41a\U0001d426\U0001d430\U0001d428\U0001d42b\U0001d41d",
                      "Anna scamw0rd", "$camword"]
STAFF_GUEST_NAMES = ["\u0421\u043e\u0430\u0441h", "Ｃｏａｃｈ", "\U0001d402\U0001d428\U0001d41a\U0001d41c\U0001d421",
                     "\u1d04\u1d0f\u1d00\u1d04\u029c Anna", "Anna 𝓜𝓸𝓭𝓮𝓻𝓪𝓽𝓸𝓻", "𝓜𝓸𝓭",
                     "adrnin", "Admln", "rnoderator Sue", "Co\u200bach", "m\u043ederat\u043er", "ꜱᴛᴀꜰꜰ"]
BIDI_GUEST_NAMES = ["\u202ehcaoC", "Anna\u202b", "\u2067Sue\u2069", "Tom\u200f", "\u061cAli", "x\u202ay\u202c"]


@pytest.fixture
async def banned_rules(client: httpx.AsyncClient) -> None:
    await set_rules(banned_words=["scamword"])


async def register(client: httpx.AsyncClient, handle: str) -> httpx.Response:
    return await client.post("/api/auth/register", json={"handle": handle, "password": PASSWORD})


async def guest_post(client: httpx.AsyncClient, slug: str, name: str) -> httpx.Response:
    return await client.post(f"/api/topics/{slug}/comments",
                             json={"body": f"hello {unique()}", "guest_name": name})


@pytest.mark.parametrize("handle", BANNED_HANDLES)
async def test_register_refuses_banned_handles(client: httpx.AsyncClient, banned_rules: None, handle: str) -> None:
    r = await register(client, handle)
    assert r.status_code == 422 and r.json()["detail"].startswith("handle:"), r.text
    assert await sql.fetchval("SELECT count(*) FROM forum_user") == 0


@pytest.mark.parametrize("handle", BANNED_HANDLES)
async def test_rename_refuses_banned_handles(client: httpx.AsyncClient, banned_rules: None, handle: str) -> None:
    user = await make_user()
    r = await client.patch("/api/me", headers=user.headers, json={"handle": handle})
    assert r.status_code == 422 and r.json()["detail"].startswith("handle:"), r.text
    assert await sql.fetchval("SELECT handle FROM forum_user WHERE id = $1", user.id) == user.handle


async def test_staff_rename_is_checked_too(client: httpx.AsyncClient, banned_rules: None) -> None:
    coach = await make_user("coach")
    r = await client.patch("/api/me", headers=coach.headers, json={"handle": "coach.scamword"})
    assert r.status_code == 422 and r.json()["detail"].startswith("handle:")


async def test_ordinary_handles_still_register(client: httpx.AsyncClient, banned_rules: None) -> None:
    for handle in ("anna.m", "scam_wordsmith", "dad-of-3"):
        assert (await register(client, handle)).status_code == 201, handle


@pytest.mark.parametrize("handle", ["adrnin", "Admln", "m0derat0r", "c0ach.anna", "5taff", "rnod"])
async def test_register_refuses_ascii_staff_lookalikes(client: httpx.AsyncClient, handle: str) -> None:
    r = await register(client, handle)
    assert r.status_code == 409 and r.json()["detail"].startswith("handle:"), r.text


@pytest.mark.parametrize("name", BANNED_GUEST_NAMES)
async def test_guest_names_with_banned_words_are_refused(client: httpx.AsyncClient, banned_rules: None,
                                                         name: str) -> None:
    topic = await make_topic()
    r = await guest_post(client, topic["slug"], name)
    assert r.status_code == 422 and r.json()["detail"].startswith("guest_name:"), r.text
    assert await sql.fetchval("SELECT count(*) FROM comment") == 0


@pytest.mark.parametrize("name", STAFF_GUEST_NAMES)
async def test_guest_names_that_read_as_staff_are_refused(client: httpx.AsyncClient, name: str) -> None:
    topic = await make_topic()
    r = await guest_post(client, topic["slug"], name)
    assert r.status_code == 400 and "guest_name: must not read as a staff title" in r.json()["detail"], r.text


@pytest.mark.parametrize("name", BIDI_GUEST_NAMES)
async def test_guest_names_with_bidi_controls_are_refused(client: httpx.AsyncClient, name: str) -> None:
    topic = await make_topic()
    r = await guest_post(client, topic["slug"], name)
    assert r.status_code == 400 and "guest_name: must not contain text-direction control" in r.json()["detail"]


async def test_handles_with_bidi_controls_are_refused(client: httpx.AsyncClient) -> None:
    r = await register(client, "\u202eanna")
    assert r.status_code == 400 and "handle: must not contain text-direction control" in r.json()["detail"]


@pytest.mark.parametrize("name", ["Maria", "Оля", "José", "Anna K.", "李雷", "Roach", "\u05e9\u05e8\u05d4"])
async def test_ordinary_guest_names_pass(client: httpx.AsyncClient, banned_rules: None, name: str) -> None:
    topic = await make_topic()
    r = await guest_post(client, topic["slug"], name)
    assert r.status_code == 201 and r.json()["guest_name"] == name, r.text
