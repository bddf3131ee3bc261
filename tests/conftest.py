"""Tests run against real PostgreSQL through the real app (httpx ASGITransport).

The database is the embedded one (in .forum-test/) unless DATABASE_URL is set; every
test starts from empty tables (TRUNCATE after each test, default rules re-seeded).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from forum import db, ratelimit
from forum.app import create_app
from forum.comments import lifecycle
from forum.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_url() -> Any:
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    embedded = db.EmbeddedPostgres(Path(os.environ.get("FORUM_TEST_DATA_DIR", ROOT / ".forum-test")))
    try:
        yield embedded.start()
    finally:
        embedded.stop()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings.from_env({
        "DATABASE_URL": database_url,
        "FORUM_SECRET_KEY": "test-secret-key-not-for-production",
        "FORUM_RATE_LIMITS": "off",
        "FORUM_GUEST_CHALLENGE": "off",  # like the rate limits: on in one test (test_guest_challenge.py)
        "FORUM_LOG_LEVEL": "WARNING",
        "FORUM_DB_POOL_MIN": "2",
        "FORUM_DB_POOL_MAX": "10",
        "FORUM_REQUEST_TIMEOUT": "30",
    })


@pytest.fixture(scope="session")
async def migrated(database_url: str, settings: Settings) -> str:
    db.configure(database_url, settings)
    await db.migrate()
    return database_url


@pytest.fixture(scope="session")
async def app(migrated: str, settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    started, stop = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run_lifespan())
    await asyncio.wait_for(started.wait(), 30)
    yield application
    stop.set()
    await task


@pytest.fixture(scope="session")
async def default_rules(migrated: str) -> dict[str, Any]:
    conn = await asyncpg.connect(migrated)
    try:
        row = await conn.fetchrow("SELECT * FROM moderation_rules")
        return dict(row) if row else {}
    finally:
        await conn.close()


async def _reset(url: str, rules: dict[str, Any]) -> None:
    conn = await asyncpg.connect(url)
    try:
        tables = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migration'")]
        async with conn.transaction():
            await conn.execute("SET LOCAL forum.allow_audit_truncate = 'on'")
            await conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
            if rules:
                cols = [c for c in rules if c not in ("id", "updated_by")]  # its user is gone after TRUNCATE
                await conn.execute(
                    f"INSERT INTO moderation_rules ({', '.join(cols)}) VALUES "
                    f"({', '.join(f'${i + 1}' for i in range(len(cols)))})",
                    *[rules[c] for c in cols])
    finally:
        await conn.close()


@pytest.fixture
async def client(app: Any, migrated: str, default_rules: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app; the database is emptied after the test."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as c:
            yield c
        await assert_author_counts(migrated)
    finally:
        await _reset(migrated, default_rules)
        # The app outlives the tables: after RESTART IDENTITY a new test's topic has the id,
        # version and display epoch of an earlier test's, and a cached page of that one would
        # pass for fresh (never so in production, where ids do not restart).
        pages = lifecycle.page_cache(app)
        if pages is not None:
            pages.clear()
        ratelimit.set_factor(0.0)


async def assert_author_counts(url: str) -> None:
    """author_comment_count, kept by a trigger, says what a count of the comments says: after
    every test with a client, so every path the suite takes checks it."""
    conn = await asyncpg.connect(url)
    try:
        wrong = await conn.fetch("""
            SELECT coalesce(k.author, c.author) AS author, k.published AS kept_published,
                   k.rejected AS kept_rejected, c.published, c.rejected
              FROM (SELECT author, published, rejected FROM author_comment_count
                     WHERE published <> 0 OR rejected <> 0) k
              FULL JOIN (SELECT author, count(*) FILTER (WHERE status = 'published') AS published,
                                count(*) FILTER (WHERE status IN ('rejected', 'spam')) AS rejected
                           FROM comment WHERE author IS NOT NULL AND status IN ('published', 'rejected', 'spam')
                          GROUP BY author) c ON c.author = k.author
             WHERE k.published IS DISTINCT FROM c.published OR k.rejected IS DISTINCT FROM c.rejected""")
    finally:
        await conn.close()
    assert not wrong, f"author_comment_count differs from the comments: {[dict(r) for r in wrong]}"


@pytest.fixture
def rate_limits_on() -> Any:
    """Production rate limits for one test (they are off otherwise)."""
    ratelimit.set_factor(1.0)
    yield
    ratelimit.set_factor(0.0)
