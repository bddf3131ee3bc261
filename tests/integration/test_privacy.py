"""Issue 14, privacy and availability: addresses never revealed by registration or email
changes (attached once confirmed), login limits that reveal nothing and lock nobody out,
keyed and expiring rate-limit buckets cleared on erasure, idempotency answers that go with
their comment, erased handles held, reply counts recounted, Markdown rendered off the event
loop within a budget."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from forum import markup, ratelimit, sql
from forum.accounts import retention
from forum.settings import Settings
from tests.helpers import auth, make_user, unique
from tests.integration.test_mail import Inbox, smtp  # noqa: F401  (the fixture)
from tests.integration.test_qa_support import make_topic

PASSWORD = "Correct-Horse-42"


async def register(client: httpx.AsyncClient, email: str | None = None, *, handle: str | None = None,
                   ip: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"handle": handle or unique("p"), "password": PASSWORD}
    if email is not None:
        body["email"] = email
    return await client.post("/api/auth/register", json=body)


def bearer(response: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {response.json()['token']}"}


def shape(response: httpx.Response) -> tuple[int, list[str], list[str]]:
    body = response.json()
    return response.status_code, sorted(body), sorted(body.get("user", {}))


# ---------------------------------------------------------------- registration and email changes


async def test_register_without_mail_answers_the_same_and_never_attaches_twice(client: httpx.AsyncClient) -> None:
    first = await register(client, "owner.one@example.org")
    taken = await register(client, "Owner.One@example.org")
    fresh = await register(client, f"{unique('fresh')}@example.org")
    assert shape(taken) == shape(fresh) == shape(first) and taken.status_code == 201
    assert await sql.fetchval("SELECT count(*) FROM forum_user WHERE email = 'owner.one@example.org'") == 1
    # the newcomer sees the address as given, like any other (held, not attached)
    me = (await client.get("/api/me", headers=bearer(taken))).json()
    assert me["email"] == "owner.one@example.org" and me["pending_email"] is None
    login = await client.post("/api/auth/login", json={"login": "owner.one@example.org", "password": PASSWORD})
    assert login.status_code == 200 and login.json()["user"]["id"] == first.json()["user"]["id"]


async def test_register_with_mail_confirms_fresh_and_notifies_owner_of_taken(
        client: httpx.AsyncClient, smtp: tuple[Inbox, Settings]) -> None:  # noqa: F811
    owner = await make_user(email="family.owner@example.org")
    taken = await register(client, "Family.Owner@example.org")
    fresh_address = f"{unique('new')}@example.org"
    fresh = await register(client, fresh_address)
    assert shape(taken) == shape(fresh) and taken.status_code == 201
    me_taken = (await client.get("/api/me", headers=bearer(taken))).json()
    me_fresh = (await client.get("/api/me", headers=bearer(fresh))).json()
    assert (me_taken["email"], me_taken["pending_email"]) == (None, "family.owner@example.org")
    assert (me_fresh["email"], me_fresh["pending_email"]) == (None, fresh_address)
    outbox = await sql.fetch('SELECT "user", kind, body, confirmation FROM email_outbox ORDER BY id')
    assert [(r["user"], r["kind"]) for r in outbox] == [
        (owner.id, "address_in_use"), (fresh.json()["user"]["id"], "email_confirmation")]
    assert "already have an account" in outbox[0]["body"] and "/reset" in outbox[0]["body"]
    assert "/confirm-email?token=" in outbox[1]["body"]
    # the mail goes to the address being confirmed (the account has none yet)
    sender = __import__("forum.notifications.mail", fromlist=["Sender"]).Sender(smtp[1])
    await sender.run_once()
    inbox = smtp[0]
    assert sorted(m.rcpt_tos[0] for m in inbox.messages) == sorted(["family.owner@example.org", fresh_address])
    token = outbox[1]["body"].split("token=")[1].split()[0]
    r = await client.post("/api/auth/confirm-email", json={"token": token})
    assert r.status_code == 204
    me_fresh = (await client.get("/api/me", headers=bearer(fresh))).json()
    assert (me_fresh["email"], me_fresh["pending_email"]) == (fresh_address, None)
    again = await client.post("/api/auth/confirm-email", json={"token": token})
    assert again.status_code == 400 and "token" in again.json()["detail"]
    # the held address of a taken one can never be confirmed: it has no token at all
    assert await sql.fetchval('SELECT token_hash FROM email_confirmation WHERE "user" = $1',
                              taken.json()["user"]["id"]) is None


async def test_email_change_with_mail_waits_for_confirmation_and_answers_alike(
        client: httpx.AsyncClient, smtp: tuple[Inbox, Settings]) -> None:  # noqa: F811
    await make_user(email="someone.else@example.org")
    a, b = await register(client), await register(client)
    to_taken = await client.patch("/api/me", headers=bearer(a),
                                  json={"email": "someone.else@example.org", "current_password": PASSWORD})
    to_fresh = await client.patch("/api/me", headers=bearer(b),
                                  json={"email": "brand.new@example.org", "current_password": PASSWORD})
    assert to_taken.status_code == to_fresh.status_code == 200
    assert (to_taken.json()["email"], to_taken.json()["pending_email"]) == (None, "someone.else@example.org")
    assert (to_fresh.json()["email"], to_fresh.json()["pending_email"]) == (None, "brand.new@example.org")


async def test_confirming_an_address_taken_meanwhile_is_409(client: httpx.AsyncClient,
                                                            smtp: tuple[Inbox, Settings]) -> None:  # noqa: F811
    first, second = await register(client, "race@example.org"), await register(client, "race@example.org")
    assert shape(first) == shape(second)
    rows = await sql.fetch("SELECT body FROM email_outbox WHERE kind = 'email_confirmation' ORDER BY id")
    tokens = [r["body"].split("token=")[1].split()[0] for r in rows]
    assert len(tokens) == 2  # neither had the address yet
    assert (await client.post("/api/auth/confirm-email", json={"token": tokens[0]})).status_code == 204
    r = await client.post("/api/auth/confirm-email", json={"token": tokens[1]})
    assert r.status_code == 409 and "race@" not in r.text
    assert await sql.fetchval("SELECT count(*) FROM forum_user WHERE email = 'race@example.org'") == 1


async def test_confirm_refuses_unknown_token(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/auth/confirm-email", json={"token": "not-a-token"})
    assert r.status_code == 400 and r.json()["detail"].startswith("token:")


# ---------------------------------------------------------------- sign-in limits


def other_client(app: Any, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url="http://testserver")


async def test_login_limits_do_not_link_handle_and_email(app: Any, client: httpx.AsyncClient,
                                                         rate_limits_on: None) -> None:
    h = unique("link")
    await register(client, "linked@example.org", handle=h)
    async with other_client(app, "10.1.1.1") as a:
        for _ in range(10):
            assert (await a.post("/api/auth/login", json={"login": h, "password": "Wrong-pass-1"})).status_code == 401
    async with other_client(app, "10.1.1.2") as b:  # the same account by its email, elsewhere: nothing shows
        r = await b.post("/api/auth/login", json={"login": "linked@example.org", "password": "Wrong-pass-1"})
        assert r.status_code == 401


async def test_back_off_refuses_failing_addresses_but_not_the_owner(app: Any, client: httpx.AsyncClient,
                                                                    rate_limits_on: None) -> None:
    from forum.accounts import services

    h, ghost = unique("own"), unique("ghost")
    await register(client, handle=h)
    answers: dict[str, list[int]] = {h: [], ghost: []}
    for n, name in enumerate((h, ghost)):  # an existing and an unknown account: the same answers throughout
        for i in range(services.LOGIN_NAME_FAILURES):
            async with other_client(app, f"10.2.{n}.{i}") as c:
                r = await c.post("/api/auth/login", json={"login": name, "password": "Wrong-pass-1"})
                answers[name].append(r.status_code)
        async with other_client(app, f"10.2.{n}.0") as c:  # has failed on this name: waits
            r = await c.post("/api/auth/login", json={"login": name, "password": "Wrong-pass-1"})
            answers[name].append(r.status_code)
            answers[name].append(len(r.json()["detail"]))
    assert answers[h] == answers[ghost]
    assert answers[h][-2] == 429
    async with other_client(app, "10.3.3.3") as fresh:  # the owner from a fresh address
        r = await fresh.post("/api/auth/login", json={"login": h, "password": PASSWORD})
        assert r.status_code == 200


async def test_unknown_and_wrong_answer_alike(client: httpx.AsyncClient) -> None:
    h = unique("alike")
    await register(client, handle=h)
    wrong = await client.post("/api/auth/login", json={"login": h, "password": "Wrong-pass-1"})
    unknown = await client.post("/api/auth/login", json={"login": unique("none"), "password": "Wrong-pass-1"})
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())


# ---------------------------------------------------------------- rate-limit buckets


async def test_bucket_keys_are_keyed_hashes_and_expire(client: httpx.AsyncClient, rate_limits_on: None) -> None:
    h = unique("keyed")
    await client.post("/api/auth/login", json={"login": h, "password": "Wrong-pass-1"})
    keys = [r["key"] for r in await sql.fetch("SELECT key FROM rate_limit_bucket")]
    assert keys and not any(h in k or "127.0.0.1" in k for k in keys)
    assert ratelimit.stored_key(f"login:name:{h.lower()}") in keys
    await sql.execute("UPDATE rate_limit_bucket SET expires_at = $1", time.time() - 1)
    gone = await retention.sweep()
    assert gone["rate_limit_bucket"] == len(keys)
    assert await sql.fetchval("SELECT count(*) FROM rate_limit_bucket") == 0


async def test_erasure_clears_the_persons_buckets(client: httpx.AsyncClient, rate_limits_on: None) -> None:
    h = unique("gone")
    reg = await register(client, "bucket.person@example.org", handle=h)
    await client.post("/api/auth/login", json={"login": h, "password": "Wrong-pass-1"})
    await client.post("/api/auth/login", json={"login": "bucket.person@example.org", "password": "Wrong-pass-1"})
    person = [ratelimit.stored_key(f"login:name:{h.lower()}"),
              ratelimit.stored_key("login:name:bucket.person@example.org")]
    assert await sql.fetchval("SELECT count(*) FROM rate_limit_bucket WHERE key = ANY($1)", person) == 2
    assert (await client.request("DELETE", "/api/me", headers=bearer(reg),
                                json={"current_password": PASSWORD})).status_code == 204
    assert await sql.fetchval("SELECT count(*) FROM rate_limit_bucket WHERE key = ANY($1)", person) == 0


# ---------------------------------------------------------------- idempotency


async def post(client: httpx.AsyncClient, slug: str, account: Any, body: str, key: str | None = None,
               parent: int | None = None) -> httpx.Response:
    headers = dict(auth(account))
    if key:
        headers["Idempotency-Key"] = key
    return await client.post(f"/api/topics/{slug}/comments", headers=headers,
                             json={"body": body, **({"parent_id": parent} if parent else {})})


async def test_replay_after_delete_is_409_without_the_text(client: httpx.AsyncClient) -> None:
    coach, topic = await make_user("coach"), await make_topic()
    first = await post(client, topic["slug"], coach, "words that will go", key="k-1")
    assert first.status_code == 201
    replay = await post(client, topic["slug"], coach, "words that will go", key="k-1")
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    assert (await client.delete(f"/api/comments/{first.json()['id']}", headers=auth(coach))).status_code == 204
    row = await sql.fetchrow("SELECT response, request_hash, gone FROM idempotency_key WHERE key = 'k-1'")
    assert row["response"] is None and row["request_hash"] == "" and row["gone"]
    again = await post(client, topic["slug"], coach, "words that will go", key="k-1")
    assert again.status_code == 409 and "words" not in again.text
    assert await sql.fetchval("SELECT count(*) FROM comment WHERE body = 'words that will go'") == 0


async def test_keys_expire_after_a_day(client: httpx.AsyncClient) -> None:
    coach, topic = await make_user("coach"), await make_topic()
    assert (await post(client, topic["slug"], coach, "kept a day", key="k-old")).status_code == 201
    await sql.execute("UPDATE idempotency_key SET created_at = now() - interval '25 hours'")
    assert (await retention.sweep())["idempotency_key"] == 1


# ---------------------------------------------------------------- erasure: counts and handles


async def test_erasure_recounts_tombstones_and_holds_the_handle(client: httpx.AsyncClient) -> None:
    topic = await make_topic()
    h = unique("voice")
    reg = await register(client, handle=h)
    await sql.execute("UPDATE forum_user SET role = 'coach' WHERE handle = $1", h)  # publishes at once
    other = await make_user("coach")
    me = {"Authorization": f"Bearer {reg.json()['token']}"}
    a = await client.post(f"/api/topics/{topic['slug']}/comments", headers=me, json={"body": "root words"})
    b = await client.post(f"/api/topics/{topic['slug']}/comments", headers=me,
                          json={"body": "my own reply", "parent_id": a.json()["id"]})
    c = await post(client, topic["slug"], other, "someone answers", parent=b.json()["id"])
    assert c.status_code == 201
    assert await sql.fetchval("SELECT reply_count FROM comment WHERE id = $1", a.json()["id"]) == 2
    assert (await client.request("DELETE", "/api/me", headers=me,
                                json={"current_password": PASSWORD})).status_code == 204
    counts = dict(await sql.fetch("SELECT id, reply_count FROM comment WHERE id = ANY($1::bigint[])",
                                  [a.json()["id"], b.json()["id"]]))
    assert counts == {a.json()["id"]: 1, b.json()["id"]: 1}  # only the other person's reply is left
    # the handle is held: not for registration, not for a rename (the same 409 as a taken one)
    again = await register(client, handle=h.upper())
    assert again.status_code == 409 and "handle" in again.json()["detail"]
    someone = await register(client)
    rename = await client.patch("/api/me", headers=bearer(someone), json={"handle": h})
    assert rename.status_code == 409 and rename.json()["detail"] == again.json()["detail"]
    assert await sql.fetchval("SELECT count(*) FROM erased_handle WHERE handle_hash = $1", h) == 0  # not in clear
    await sql.execute("UPDATE erased_handle SET held_until = now() - interval '1 second'")
    assert (await retention.sweep())["erased_handle"] == 1
    assert (await register(client, handle=h)).status_code == 201


# ---------------------------------------------------------------- Markdown off the event loop


async def test_pathological_markdown_leaves_the_event_loop_free(client: httpx.AsyncClient) -> None:
    coach = await make_user("coach")
    slug = f"heavy-{unique('t')}".replace("_", "-")
    ticks = 0
    stop = asyncio.Event()

    async def ping() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    pinger = asyncio.create_task(ping())
    started = ticks
    r = await client.post("/api/topics", headers=auth(coach),
                          json={"kind": "article", "title": "Heavy", "slug": slug, "body": "![" * 30_000})
    during = ticks - started
    health = await client.get("/health")
    stop.set()
    await pinger
    assert r.status_code in (201, 422), r.text
    if r.status_code == 422:
        assert "too complex" in r.json()["detail"]
    assert health.status_code == 200
    # the loop kept running while the text was rendered elsewhere (about 1 s of CPU)
    assert during >= 20, during


async def test_over_budget_text_is_refused_with_422_and_the_pool_recovers(client: httpx.AsyncClient,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    renderer = markup._renderer
    assert renderer is not None  # the app started its pool
    monkeypatch.setattr(renderer, "budget_s", 0.05)
    coach, topic = await make_user("coach"), await make_topic()
    r = await post(client, topic["slug"], coach, "![a" * 3300)
    assert r.status_code == 422 and r.json()["detail"] == markup.TOO_COMPLEX
    assert await sql.fetchval("SELECT count(*) FROM comment") == 0
    monkeypatch.setattr(renderer, "budget_s", 5.0)
    ok = await post(client, topic["slug"], coach, "**plain** words")
    assert ok.status_code == 201 and ok.json()["body_html"] == "<p><strong>plain</strong> words</p>"


async def test_rate_limited_post_is_not_rendered(client: httpx.AsyncClient, rate_limits_on: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    reader, topic = await make_user(), await make_topic()
    assert (await post(client, topic["slug"], reader, f"first {unique()}")).status_code == 201
    rendered: list[str] = []
    real = markup.render

    async def spy(source: str) -> str:
        rendered.append(source)
        return await real(source)

    monkeypatch.setattr(markup, "render", spy)
    r = await post(client, topic["slug"], reader, "![" * 4000)  # too soon after the first
    assert r.status_code == 429 and rendered == []
