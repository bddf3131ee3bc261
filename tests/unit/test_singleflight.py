"""Single-flight page builds (forum/comments/singleflight.py), without a database: builds
are coroutines the test releases by hand, so the order of events is exact, never timed."""

from __future__ import annotations

import asyncio

import pytest

from forum.comments.singleflight import Label, PageBuilds


def label(version: int, extras: tuple[str, ...] = ()) -> Label:
    return Label(1, version, 1, extras)


class Builds:
    """A build per call, each held until the test releases it; records the labels it was given."""

    def __init__(self) -> None:
        self.labels: list[Label] = []
        self.gates: list[asyncio.Event] = []
        self.running = 0
        self.most_at_once = 0
        self.fail_next: Exception | None = None
        self.called = asyncio.Condition()

    async def __call__(self, lab: Label) -> str:
        self.labels.append(lab)
        n = len(self.labels)
        gate = asyncio.Event()
        self.gates.append(gate)
        async with self.called:
            self.called.notify_all()
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await gate.wait()
            if self.fail_next is not None:
                exc, self.fail_next = self.fail_next, None
                raise exc
            return f"page v{lab.version} #{n}"
        finally:
            self.running -= 1

    async def started(self, n: int) -> None:
        async with self.called:
            await self.called.wait_for(lambda: len(self.gates) >= n)

    def release(self, i: int) -> None:
        self.gates[i].set()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_concurrent_misses_of_one_version_build_once() -> None:
    flights: PageBuilds[str] = PageBuilds()
    build = Builds()
    tasks = [asyncio.create_task(flights.get("k", label(7), build)) for _ in range(30)]
    await build.started(1)
    await settle()
    build.release(0)
    results = await asyncio.gather(*tasks)
    assert results == ["page v7 #1"] * 30
    assert flights.builds == 1 and len(build.labels) == 1


async def test_a_newer_version_never_gets_the_running_older_build() -> None:
    """A reader who read v8 while the v7 build runs waits for the next build, which starts
    only after the v7 one ends, and is labelled with the newest version its readers read."""
    flights: PageBuilds[str] = PageBuilds()
    build = Builds()
    old = [asyncio.create_task(flights.get("k", label(7), build)) for _ in range(3)]
    await build.started(1)
    newer = [asyncio.create_task(flights.get("k", label(v), build)) for v in (8, 9, 8)]
    late_old = asyncio.create_task(flights.get("k", label(7), build))  # the same read as the running build
    await settle()
    assert len(build.labels) == 1  # one build at a time per key
    build.release(0)
    assert await asyncio.gather(*old, late_old) == ["page v7 #1"] * 4
    await build.started(2)
    assert build.labels[1] == label(9)
    build.release(1)
    assert await asyncio.gather(*newer) == ["page v9 #2"] * 3
    assert build.most_at_once == 1


async def test_other_keys_build_at_the_same_time() -> None:
    flights: PageBuilds[str] = PageBuilds()
    build = Builds()
    a = asyncio.create_task(flights.get("a", label(1), build))
    b = asyncio.create_task(flights.get("b", label(1), build))
    await build.started(2)
    assert build.most_at_once == 2
    build.release(0)
    build.release(1)
    assert await asyncio.gather(a, b) == ["page v1 #1", "page v1 #2"]


async def test_a_cancelled_reader_leaves_the_others_their_page() -> None:
    flights: PageBuilds[str] = PageBuilds()
    build = Builds()
    first = asyncio.create_task(flights.get("k", label(3), build))
    second = asyncio.create_task(flights.get("k", label(3), build))
    await build.started(1)
    first.cancel()
    await settle()
    build.release(0)
    assert await second == "page v3 #1"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_an_error_reaches_its_readers_and_the_next_build_runs() -> None:
    flights: PageBuilds[str] = PageBuilds()
    build = Builds()
    build.fail_next = RuntimeError("database gone")
    failing = [asyncio.create_task(flights.get("k", label(4), build)) for _ in range(2)]
    await build.started(1)
    build.release(0)
    for t in failing:
        with pytest.raises(RuntimeError, match="database gone"):
            await t
    again = asyncio.create_task(flights.get("k", label(4), build))
    await build.started(2)
    build.release(1)
    assert await again == "page v4 #2"


async def test_a_readers_own_extras_are_part_of_the_label() -> None:
    """Another reader state (what only that reader sees) is another label: the next build."""
    flights: PageBuilds[str] = PageBuilds()
    build = Builds()
    first = asyncio.create_task(flights.get("k", label(5, ("10:100",)), build))
    await build.started(1)
    moved = asyncio.create_task(flights.get("k", label(5, ("10:101",)), build))
    await settle()
    build.release(0)
    assert await first == "page v5 #1"
    await build.started(2)
    assert build.labels[1].extras == ("10:101",)
    build.release(1)
    assert await moved == "page v5 #2"
