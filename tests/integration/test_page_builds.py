"""Thread pages on a busy topic (bench scenario 9): concurrent readers who miss the cache
build the page once (forum/comments/singleflight.py), and no reader is ever given a page
older than the version it read, even while a build for an older version is under way."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from forum.comments import services
from tests.helpers import make_user
from tests.integration.test_comments import make_topic, post, trust_everyone
from tests.integration.test_perf_cache import pages_of


async def test_concurrent_misses_build_the_page_once(client: httpx.AsyncClient, app: Any) -> None:
    await trust_everyone()
    author = await make_user("coach")
    slug = await make_topic(client, author)
    root = await post(client, slug, author)
    await post(client, slug, author, parent_id=root["id"])
    pages = pages_of(app)
    builds = pages.builds.builds
    answers = await asyncio.gather(*(client.get(f"/api/topics/{slug}/comments") for _ in range(20)))
    assert {r.status_code for r in answers} == {200}
    assert len({r.content for r in answers}) == 1
    assert len({r.headers["etag"] for r in answers}) == 1
    assert pages.builds.builds == builds + 1
    # after a write, the next burst of readers builds the new page once more, with the reply in it
    reply = await post(client, slug, author, parent_id=root["id"])
    answers = await asyncio.gather(*(client.get(f"/api/topics/{slug}/comments") for _ in range(20)))
    assert pages.builds.builds == builds + 2
    assert all(f'"id":{reply["id"]},'.encode() in r.content for r in answers)


async def test_a_reader_never_gets_a_page_older_than_the_version_it_read(
        client: httpx.AsyncClient, app: Any, monkeypatch: Any) -> None:
    """A build of version v is held; a comment is posted (v+1); a reader who read v+1 waits
    for the next build, and its page has the comment, while the v readers get theirs."""
    await trust_everyone()
    author = await make_user("coach")
    slug = await make_topic(client, author)
    await post(client, slug, author)
    url = f"/api/topics/{slug}/comments"
    real = services.thread_page
    gate, held = asyncio.Event(), asyncio.Event()
    calls = 0

    async def slow_first(*args: Any, **kw: Any) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:  # the first build reads the page, then waits for the test
            page = await real(*args, **kw)
            held.set()
            await gate.wait()
            return page
        return await real(*args, **kw)

    monkeypatch.setattr(services, "thread_page", slow_first)
    before = [asyncio.create_task(client.get(url)) for _ in range(3)]
    await asyncio.wait_for(held.wait(), 10)
    new = await post(client, slug, author)  # committed while the older page is being built
    after = [asyncio.create_task(client.get(url)) for _ in range(3)]
    for _ in range(50):  # let the later readers read the new version and queue for the next build
        await asyncio.sleep(0.01)
    assert not any(t.done() for t in after)  # they wait: the running build is older than what they read
    gate.set()
    old_pages = await asyncio.gather(*before)
    new_pages = await asyncio.gather(*after)
    marker = f'"id":{new["id"]},'.encode()
    assert all(r.status_code == 200 and marker not in r.content for r in old_pages)
    assert all(r.status_code == 200 and marker in r.content for r in new_pages)
    assert len({r.headers["etag"] for r in old_pages}) == 1
    assert {r.headers["etag"] for r in new_pages}.isdisjoint({r.headers["etag"] for r in old_pages})
    assert calls == 2  # one build per version, each shared by its readers


async def test_a_write_elsewhere_relabels_the_page_and_a_write_on_it_rebuilds_it(
        client: httpx.AsyncClient, app: Any) -> None:
    """A page whose rows did not change is not built again when the version moves: its bytes
    are relabelled (services.page_fingerprint); any change to its rows rebuilds it."""
    await trust_everyone()
    author, voter = await make_user("coach"), await make_user()
    slug = await make_topic(client, author)
    roots = [await post(client, slug, author) for _ in range(4)]
    await post(client, slug, author, parent_id=roots[0]["id"])
    url = f"/api/topics/{slug}/comments?limit=2"  # roots 0 and 1; root 2 says there is a next page
    pages = pages_of(app)
    first = await client.get(url)
    assert first.status_code == 200
    relabelled = pages.relabelled

    # a reply under root 3 (not on the page) moves the version, not the page
    await post(client, slug, author, parent_id=roots[3]["id"])
    second = await client.get(url)
    assert pages.relabelled == relabelled + 1
    assert second.content == first.content
    assert second.headers["etag"] != first.headers["etag"]
    third = await client.get(url)  # a plain hit at the new version
    assert third.content == first.content and third.headers["etag"] == second.headers["etag"]

    # changes to the page's own rows rebuild it: a reply, a vote (score), a reply on the probe root
    reply = await post(client, slug, author, parent_id=roots[1]["id"])
    r = await client.get(url)
    assert f'"id":{reply["id"]},'.encode() in r.content
    assert pages.relabelled == relabelled + 1
    v = await client.post(f"/api/comments/{roots[0]['id']}/vote", headers=voter.headers)
    assert v.status_code == 200, v.text
    r = await client.get(url)
    assert r.json()["items"][0]["score"] == roots[0]["score"] + 1
    assert pages.relabelled == relabelled + 1
    await post(client, slug, author, parent_id=roots[2]["id"])
    before = pages.relabelled
    await client.get(url)
    assert pages.relabelled == before  # the probe root's subtree is part of the hash: built again


async def test_a_page_that_changes_at_every_build_is_built_without_its_fingerprint(
        client: httpx.AsyncClient, app: Any, monkeypatch: Any) -> None:
    """The newest-first page of a busy article changes with nearly every write: after two
    builds in a row found it changed, only two of every reads.CHANGED_PROBE builds ask for
    its fingerprint; every page is still the current one, and once the page stops changing
    it is relabelled again within CHANGED_PROBE builds."""
    from forum.comments import reads

    await trust_everyone()
    author = await make_user("coach")
    slug = await make_topic(client, author)
    roots = [await post(client, slug, author) for _ in range(3)]
    url = f"/api/topics/{slug}/comments?limit=2"  # roots 0 and 1 (and 2 as the probe root)
    pages = pages_of(app)
    real = services.page_fingerprint
    hashed = 0

    async def counted(*args: Any, **kw: Any) -> Any:
        nonlocal hashed
        hashed += 1
        return await real(*args, **kw)

    monkeypatch.setattr(services, "page_fingerprint", counted)
    assert (await client.get(url)).status_code == 200
    unhashed, builds = pages.unhashed, reads.CHANGED_PROBE * 2
    hashed = 0
    for _ in range(builds):  # a reply on the page before every read: each build finds it changed
        reply = await post(client, slug, author, parent_id=roots[0]["id"])
        r = await client.get(url)
        assert f'"id":{reply["id"]},'.encode() in r.content
    # changed counts 1, 2, ... 2 x CHANGED_PROBE: the fingerprint is asked at counts 0 and 1 (mod CHANGED_PROBE)
    expected = sum(1 for changed in range(builds) if changed % reads.CHANGED_PROBE < 2)
    assert hashed == expected < builds
    assert pages.unhashed == unhashed + builds - expected

    # the page settles: replies under a root off the page move the version, and the page is relabelled again
    other = await post(client, slug, author)  # a new root, after the page's three
    page = (await client.get(url)).content
    relabelled = pages.relabelled
    for _ in range(reads.CHANGED_PROBE + 1):
        await post(client, slug, author, parent_id=other["id"])
        r = await client.get(url)
        assert r.content == page
    assert pages.relabelled > relabelled
