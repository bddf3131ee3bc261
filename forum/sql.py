"""Parameterised raw SQL through Piccolo's engine (the hot paths and multi-row writes).

Queries join the current `transaction()` when there is one (the same one Piccolo's own
queries use), otherwise take a connection from the pool. Only `$1`-style parameters:
never format values into SQL text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from forum.db import engine, pooled


def _conn_of_transaction() -> asyncpg.Connection | None:
    current = engine.current_transaction.get()
    return current.connection if current is not None else None


async def _call(method: str, query: str, args: tuple[Any, ...]) -> Any:
    conn = _conn_of_transaction()
    if conn is not None:
        return await getattr(conn, method)(query, *args)
    async with pooled() as conn:
        return await getattr(conn, method)(query, *args)


async def fetch(sql: str, *args: Any) -> list[asyncpg.Record]:
    return await _call("fetch", sql, args)  # type: ignore[no-any-return]


async def fetchrow(sql: str, *args: Any) -> asyncpg.Record | None:
    return await _call("fetchrow", sql, args)


async def fetchval(sql: str, *args: Any) -> Any:
    return await _call("fetchval", sql, args)


async def execute(sql: str, *args: Any) -> str:
    return await _call("execute", sql, args)  # type: ignore[no-any-return]


@asynccontextmanager
async def transaction() -> AsyncIterator[asyncpg.Connection]:
    """A real transaction (a savepoint when nested), shared with Piccolo queries."""
    if engine.current_transaction.get() is not None:
        async with engine.transaction(allow_nested=True) as outer:
            sp = await outer.savepoint()
            try:
                yield outer.connection
            except BaseException:
                await sp.rollback_to()
                raise
            else:
                await sp.release()
        return
    async with engine.transaction() as txn:
        yield txn.connection


def rowcount(status: str) -> int:
    """Rows affected, from an asyncpg status string such as 'UPDATE 3'."""
    try:
        return int(status.rsplit(" ", 1)[-1])
    except (ValueError, IndexError):
        return 0
