"""Identical reads asked at the same moment share one statement, and stay fresh.

A hot thread is read by many clients at once, and each read starts with the same small
question ("what is this topic's version now?"). Asking PostgreSQL once per request costs a
pool checkout and a round trip each; `SharedReads.fetchrow` asks it once for every caller
waiting at that moment:

- a caller that arrives while no statement for its key runs starts one;
- a caller that arrives while one runs waits for the *next* one, which starts when the
  running one ends; every caller arriving meanwhile shares that next statement.

So each caller's answer comes from a statement that began after the caller asked: a write
committed before a request arrived (through any process) is always seen by it, exactly as
with a statement of its own. Under load, one statement per key per round trip serves
every waiting request; when idle, a caller waits for nothing but its own statement.

The same rounds batch questions that differ only by one key (`fetch_item`): every signed-in
request starts with "whose session is this token?", and every signed-in thread read asks
"what is this reader's own in the topic?". The callers of a round pass their keys together
as one array parameter, and each gets the row of its own key. Under load, one statement per
round trip answers every waiting reader (bench/README.md, scenario 8).

Only for reads outside a transaction (the statement runs on a pool connection).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from forum import sql

Waiter = asyncio.Future[asyncpg.Record | None]
_PLAIN = object()  # the item of a caller of `fetchrow` (no batch)


@dataclass
class _Key:
    loop: asyncio.AbstractEventLoop
    running: bool = False
    waiting: list[tuple[Hashable, Waiter]] = field(default_factory=list)  # the next round: (item, future)
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class SharedReads:
    """Per process (one event loop): rounds of shared statements, by key."""

    def __init__(self, timeout_s: float = 15.0) -> None:
        self.timeout_s = timeout_s  # per statement, pool wait included (a round's callers share it)
        self._keys: dict[Hashable, _Key] = {}
        self.statements = 0  # statements run (figures for tests)
        self.calls = 0

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        """`sql.fetchrow(query, *args)`, run at or after this call, shared with the callers
        of the same (query, args) waiting at the same moment."""
        return await self._join(query, args, _PLAIN)

    async def fetch_item(self, query: str, item: Hashable, *args: Any) -> asyncpg.Record | None:
        """The row for `item` of a batched statement, run at or after this call, shared with
        the callers of the same (query, args) waiting at the same moment, whatever their items.

        `query` takes `*args` and then the round's distinct items as one array parameter, and
        returns at most one row per item with the item in its first column (for example
        `... WHERE token_hash = ANY($1::text[])`): many callers asking the same question of
        different keys (sessions, readers' marks) cost one statement per round trip."""
        return await self._join(query, args, item)

    async def _join(self, query: str, args: tuple[Any, ...], item: Hashable) -> asyncpg.Record | None:
        key = (query, item is _PLAIN, tuple(tuple(a) if isinstance(a, list) else a for a in args))
        loop = asyncio.get_running_loop()
        state = self._keys.get(key)
        if state is None or state.loop is not loop:  # (a state left by a closed loop: tests)
            state = self._keys[key] = _Key(loop)
        # A future per caller: a caller cancelled (a timeout, a client gone) cancels only its own.
        waiter: Waiter = loop.create_future()
        state.waiting.append((item, waiter))
        self.calls += 1
        if not state.running:
            state.running = True
            # an empty context: the statement never joins a transaction of the caller's
            state.task = asyncio.create_task(self._rounds(key, state, query, args), context=contextvars.Context())
        return await waiter

    async def _rounds(self, key: Hashable, state: _Key, query: str, args: tuple[Any, ...]) -> None:
        try:
            while state.waiting:
                round_, state.waiting = state.waiting, []  # later callers join the next round
                self.statements += 1
                try:
                    async with asyncio.timeout(self.timeout_s if self.timeout_s > 0 else None):
                        if round_[0][0] is _PLAIN:
                            row = await sql.fetchrow(query, *args)
                            found: dict[Hashable, asyncpg.Record] = {} if row is None else {_PLAIN: row}
                        else:
                            items = list(dict.fromkeys(item for item, _ in round_))
                            found = {r[0]: r for r in await sql.fetch(query, *args, items)}
                except asyncio.CancelledError:
                    for _, waiter in round_:
                        waiter.cancel()
                    raise
                except Exception as exc:  # the round's callers get the error; the next round retries
                    for _, waiter in round_:
                        if not waiter.done():
                            waiter.set_exception(exc)
                else:
                    for item, waiter in round_:
                        if not waiter.done():
                            waiter.set_result(found.get(item))
        finally:
            state.running = False
            state.task = None
            for _, waiter in state.waiting:  # only when this task itself was cancelled (shutdown)
                waiter.cancel()
            if self._keys.get(key) is state:
                del self._keys[key]
