"""One build of a thread page at a time, shared by the readers who need it.

On a busy article the topic's version moves many times a second (every post, vote and
decision), so the cached page is often out of date, and every reader who arrives before
the new page is cached would build it himself: with 50 readers waiting on a process, one
write cost 50 identical builds (a statement, 200 comment dicts, JSON encoding each),
all blocking the one event loop. Here, per cache key:

- a reader whose version read (`Label`) is exactly the one the running build was started
  for shares that build: it reads the same state, so it gets the same page;
- any other reader waits for the *next* build, which starts when the running one ends and
  is shared by every reader who arrived meanwhile.

So every reader gets a page built from statements that began after its own version read
returned: never older than the version it read (a write committed before it read the
version is in the page), and, as before, possibly newer. At most one build per key runs
at a time in a process, however many readers and however fast the writes come: under a
burst of writes the builds run back to back, each serving every reader who was waiting.

The build runs in a task of its own with an empty context (never in a caller's
transaction); a caller cancelled (a client gone, a timeout) cancels only its own wait; a
build's error reaches the readers of that build, and the next build is tried afresh.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")


class Label(NamedTuple):
    """What a reader read before asking for the page: the topic's id and version, the
    display epoch (forum/comments/cache.py), and what only that reader sees."""

    topic_id: int
    version: int
    display_epoch: int
    extras: tuple[str, ...]


Build = Callable[[Label], Awaitable[T]]


@dataclass
class _Key(Generic[T]):
    loop: asyncio.AbstractEventLoop
    task: asyncio.Task[None] | None = None
    label: Label | None = None  # the running build's
    running: list[asyncio.Future[T]] = field(default_factory=list)  # its readers
    waiting: list[tuple[Label, Build[T], asyncio.Future[T]]] = field(default_factory=list)  # the next one's


class PageBuilds(Generic[T]):
    """Per process (one event loop): single-flight builds, by cache key."""

    def __init__(self) -> None:
        self._keys: dict[Hashable, _Key[T]] = {}
        self.builds = 0  # builds run (figures for tests)
        self.calls = 0

    async def get(self, key: Hashable, label: Label, build: Build[T]) -> T:
        """`build(label)`'s result, from a build that started after this call or was started
        for exactly this `label`; the build is given the newest label among its readers."""
        loop = asyncio.get_running_loop()
        state = self._keys.get(key)
        if state is None or state.loop is not loop:  # (a state left by a closed loop: tests)
            state = self._keys[key] = _Key(loop)
        self.calls += 1
        waiter: asyncio.Future[T] = loop.create_future()
        if state.task is not None and state.label == label:
            state.running.append(waiter)
        else:
            state.waiting.append((label, build, waiter))
            if state.task is None:
                state.task = asyncio.create_task(self._rounds(key, state), context=contextvars.Context())
        return await waiter

    async def _rounds(self, key: Hashable, state: _Key[T]) -> None:
        try:
            while state.waiting:
                round_, state.waiting = state.waiting, []
                # every reader of this round read its label before the build starts: the page
                # is at least as new as each of them; it is labelled with the newest one
                label, build, _ = max(round_, key=lambda w: w[0].version)
                state.label, state.running = label, [w for _, _, w in round_]
                self.builds += 1
                try:
                    result = await build(label)
                except asyncio.CancelledError:
                    for waiter in state.running:
                        waiter.cancel()
                    raise
                except Exception as exc:  # this build's readers get the error; the next build retries
                    for waiter in state.running:
                        if not waiter.done():
                            waiter.set_exception(exc)
                else:
                    for waiter in state.running:
                        if not waiter.done():
                            waiter.set_result(result)
                finally:
                    state.label, state.running = None, []
        finally:
            state.task = None
            for _, _, waiter in state.waiting:  # only when this task itself was cancelled (shutdown)
                waiter.cancel()
            if self._keys.get(key) is state:
                del self._keys[key]
