"""Migrations written as raw SQL: indexes, constraints, triggers and seed rows that Piccolo's
column types cannot express. Each such migration module sets

    forwards = raw_forwards(ID, "<app>", DESCRIPTION, STATEMENTS)

where a statement is SQL text, or `(sql, args)` with Piccolo's `{}` placeholders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

Statement = str | tuple[str, Sequence[Any]]


class RawTable(Table):
    """Runs raw SQL inside the migration's transaction."""


def raw_forwards(migration_id: str, app_name: str, description: str,
                 statements: Sequence[Statement]) -> Callable[[], Awaitable[MigrationManager]]:
    async def forwards() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name=app_name, description=description)

        async def run() -> None:
            for statement in statements:
                if isinstance(statement, str):
                    await RawTable.raw(statement)
                else:
                    await RawTable.raw(statement[0], *statement[1])

        manager.add_raw(run)
        return manager

    return forwards
