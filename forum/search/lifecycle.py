"""Start-up: make the search language follow `FORUM_SEARCH_LANGUAGE`.

Each row stores the text search configuration it was indexed with (`search_config`, a
column default), so the generated `search_tsv` stays an immutable expression. When the
setting names another configuration, the column defaults move to it and existing rows are
re-indexed, once, under an advisory lock (several workers may start together).
"""

from __future__ import annotations

import logging
from typing import Any

from forum import sql
from forum.search import services

log = logging.getLogger("forum.search")
_LOCK_KEY = 0x5EA2C4  # pg_advisory_xact_lock key for the language switch
_TABLES = ("comment", "topic")


async def on_startup(app: Any, settings: Any, listener: Any) -> None:
    wanted = str(getattr(settings, "search_language", "english") or "english")
    name = await sql.fetchval("SELECT cfgname::text FROM pg_ts_config WHERE cfgname = $1", wanted.lower())
    if name is None:
        log.error("FORUM_SEARCH_LANGUAGE=%r is not a text search configuration of this database; "
                  "searching in english", wanted)
        name = "english"
    services.set_language(name)
    await sync_language(name)


async def sync_language(name: str) -> None:
    """Point the column defaults at `name` and re-index rows written under another one."""
    current = await sql.fetchval(
        "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d"
        " JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
        " WHERE d.adrelid = 'comment'::regclass AND a.attname = 'search_config'")
    if current is not None and current.split("::")[0].strip("'") == name:
        return
    async with sql.transaction():
        await sql.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        # `name` comes from pg_ts_config (checked above), so it is a known identifier;
        # DDL cannot take parameters, quote_literal makes it a literal all the same.
        literal = await sql.fetchval("SELECT quote_literal($1::text)", name)
        for table in _TABLES:
            await sql.execute(f"ALTER TABLE {table} ALTER COLUMN search_config SET DEFAULT {literal}::regconfig")
            await sql.execute(f"UPDATE {table} SET search_config = $1::regconfig"
                              f" WHERE search_config <> $1::regconfig", name)
    log.info("search language is now %s (rows re-indexed)", name)
