"""The render processes (forum.markup.Renderer): answers arrive while the event loop is busy,
a text past its budget takes down only its own process, and a dead process is replaced."""

from __future__ import annotations

import asyncio
import time

import pytest

from forum import markup
from forum.errors import ContentRefused

TEXT = "## Heading\n\nSome *Markdown* with a link https://example.org and `code`.\n\n" + "words " * 300


async def _busy(stop: asyncio.Event) -> None:
    # other requests' work on the loop: 1 ms of CPU at a time
    while not stop.is_set():
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 0.001:
            pass
        await asyncio.sleep(0)


async def test_answers_arrive_within_budget_while_the_loop_is_busy() -> None:
    r = markup.Renderer(1, 1.0)
    await r.ready()
    stop = asyncio.Event()
    busy = [asyncio.create_task(_busy(stop)) for _ in range(4)]
    try:
        for i in range(20):
            assert await r.render(f"{TEXT} {i}") == markup.render_markdown(f"{TEXT} {i}")
    finally:
        stop.set()
        await asyncio.gather(*busy)
        await r.close()


async def test_over_budget_text_kills_only_its_own_worker() -> None:
    r = markup.Renderer(2, 0.05)
    await r.ready()
    try:
        pids = {w.proc.pid for w in r._all}
        heavy = asyncio.create_task(r.render("![a" * 20_000))
        light = [asyncio.create_task(r.render(f"plain {i}")) for i in range(5)]
        with pytest.raises(ContentRefused):
            await heavy
        assert [await t for t in light] == [f"<p>plain {i}</p>" for i in range(5)]
        after = {w.proc.pid for w in r._all}
        assert len(after) == 2 and len(after & pids) == 1  # one replaced, one kept
        r.budget_s = 5.0
        assert await r.render("**ok**") == "<p><strong>ok</strong></p>"
    finally:
        await r.close()


async def test_a_dead_worker_is_replaced_and_the_text_rendered() -> None:
    r = markup.Renderer(1, 2.0)
    await r.ready()
    try:
        (w,) = r._all
        w.proc.kill()
        w.proc.wait(5)
        assert await r.render("after *death*") == "<p>after <em>death</em></p>"
        assert w not in r._all
    finally:
        await r.close()
    assert all(w.proc.poll() is not None for w in [w])
