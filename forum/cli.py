"""The `forum` command: serve, migrate, users, demo, import, export."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import os
import secrets
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from forum.settings import Settings, SettingsError

log = logging.getLogger("forum.cli")
T = TypeVar("T")


def _settings(**overrides: Any) -> Settings:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    clean = {k: v for k, v in overrides.items() if v is not None}
    return settings.with_overrides(**clean) if clean else settings


def _ensure_secret(settings: Settings) -> Settings:
    """A stable signing key: FORUM_SECRET_KEY, else one kept in the data folder (0600)."""
    if not settings.secret_key_is_ephemeral:
        return settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key_file = settings.data_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    key = key_file.read_text().strip()
    os.environ["FORUM_SECRET_KEY"] = key  # workers read it from the environment
    return settings.with_overrides(secret_key=key, secret_key_is_ephemeral=False)


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The DSN to use; starts (and always stops) the embedded PostgreSQL when none is set."""
    from forum import db

    dsn, embedded = db.database_url_for(settings)
    try:
        yield dsn
    finally:
        if embedded is not None:
            embedded.stop()


def _run(settings: Settings, dsn: str, work: Callable[[], Awaitable[T]], pool: bool = True) -> T:
    """Run `work` with the engine pointed at `dsn` (and a small pool when asked)."""
    from forum import db, keyed, pagination

    pagination.set_secret(settings.secret_key)
    keyed.set_secret(settings.secret_key)

    async def runner() -> T:
        db.configure(dsn, settings)
        if pool:
            await db.open_pool(settings.with_overrides(db_pool_min=1, db_pool_max=4))
        try:
            return await work()
        finally:
            if pool:
                await db.close_pool()

    return asyncio.run(runner())


def _migrate(settings: Settings, dsn: str) -> list[str]:
    """Apply migrations; Piccolo's progress output goes to stderr so that stdout stays
    clean for commands that write data there (`forum export > site.json`)."""
    from forum import db

    with contextlib.redirect_stdout(sys.stderr):
        return _run(settings, dsn, db.migrate, pool=False)


def _raise_system_exit(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="forum")
def main() -> None:
    """forum: a discussion backend for a harm-reduction family-coaching community.

    Without DATABASE_URL every command uses an embedded PostgreSQL in FORUM_DATA_DIR
    (default ./.forum/), started on demand and stopped when the command ends.
    """
    logging.basicConfig(level=os.environ.get("FORUM_LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")


@main.command()
@click.option("--host", help="Address to listen on (FORUM_HOST, default 127.0.0.1).")
@click.option("--port", type=int, help="Port (FORUM_PORT, default 8000).")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (FORUM_WORKERS, default 1).")
@click.option("--reload", is_flag=True, help="Restart on code changes (development only).")
def serve(host: str | None, port: int | None, workers: int | None, reload: bool) -> None:
    """Apply pending migrations, then serve the HTTP API."""
    import uvicorn

    settings = _ensure_secret(_settings(host=host, port=port, workers=workers))
    # uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown; turning them into
    # SystemExit lets the `finally` below stop the embedded PostgreSQL every time.
    signal.signal(signal.SIGTERM, _raise_system_exit)
    signal.signal(signal.SIGINT, _raise_system_exit)
    with database(settings) as dsn:
        applied = _migrate(settings, dsn)
        log.info("migrations up to date (%d applied in total)", len(applied))
        os.environ["DATABASE_URL"] = dsn
        if settings.workers > 1:
            metrics_dir = settings.data_dir.resolve() / "metrics"
            shutil.rmtree(metrics_dir, ignore_errors=True)
            metrics_dir.mkdir(parents=True)
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        log.info("serving on http://%s:%d with %d worker(s)", settings.host, settings.port, settings.workers)
        with contextlib.suppress(SystemExit):  # SIGTERM/SIGINT raise it (above): a normal way out
            uvicorn.run(
                "forum.app:create_app_from_env",
                factory=True,
                host=settings.host,
                port=settings.port,
                workers=settings.workers if not reload else None,
                reload=reload,
                server_header=False,
                date_header=True,
                log_level=settings.log_level.lower(),
                access_log=False,
                proxy_headers=False,
                timeout_graceful_shutdown=10,
                lifespan="on",
            )


@main.command()
def migrate() -> None:
    """Apply pending database migrations."""
    settings = _settings()
    with database(settings) as dsn:
        applied = _migrate(settings, dsn)
    click.echo(f"migrations up to date ({len(applied)} applied in total)")


@main.group()
def users() -> None:
    """Manage accounts from the command line."""


@users.command("create")
@click.option("--handle", required=True, help="3-30 letters, digits, _ - .")
@click.option("--email", default=None, help="Optional; used only for notifications and password reset.")
@click.option("--role", type=click.Choice(["reader", "coach", "moderator", "admin"]), default="reader",
              show_default=True)
@click.option("--password", default=None, help="Omit to be prompted (safer: not kept in shell history).")
def users_create(handle: str, email: str | None, role: str, password: str | None) -> None:
    """Create an account (the way to make the first admin)."""
    from forum.accounts.services import create_user_cli
    from forum.errors import DomainError

    if password is None:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            raise click.ClickException("passwords differ")
    settings = _settings()
    with database(settings) as dsn:
        _migrate(settings, dsn)
        try:
            user = _run(settings, dsn, lambda: create_user_cli(handle, password, email, role))
        except DomainError as exc:
            raise click.ClickException(exc.detail) from None
    click.echo(f"created {user['role']} {user['handle']!r} (id {user['id']})")


@users.command("invite")
@click.option("--handle", required=True, help="The account to hand back (one without a password, e.g. imported).")
@click.option("--email", required=True, help="The person's address: the link to choose a password goes there.")
def users_invite(handle: str, email: str) -> None:
    """Give an account without a password an email address and a link (seven days) to choose one.

    With mail configured (FORUM_SMTP_HOST) the link is mailed; otherwise it is printed here,
    to be passed on to the person directly."""
    from forum.accounts.services import user_id_by_handle
    from forum.errors import DomainError
    from forum.notifications import mail
    from forum.notifications.passwords import invite

    settings = _settings()

    async def work() -> dict[str, object]:
        mail.configure(settings)
        user_id = await user_id_by_handle(handle)
        if user_id is None:
            raise click.ClickException(f"no account is called {handle!r}")
        return await invite(None, user_id, email, hand_over_link=True)

    with database(settings) as dsn:
        _migrate(settings, dsn)
        try:
            invited = _run(settings, dsn, work)
        except DomainError as exc:
            raise click.ClickException(exc.detail) from None
    if invited["link"] is None:
        click.echo(f"invitation for {invited['handle']!r} mailed (the link is valid seven days)")
    else:
        click.echo(f"mail is not configured: give {invited['handle']!r} this link (valid seven days), "
                   f"opened on the site's address ({settings.public_url}):\n{settings.public_url}{invited['link']}")


@main.command()
def demo() -> None:
    """Load a small realistic demo (article, threaded discussion, coach answer, moderation item)."""
    from forum.demo import load_demo

    settings = _settings()
    with database(settings) as dsn:
        _migrate(settings, dsn)
        summary = _run(settings, dsn, load_demo)
    click.echo(summary)


@main.group("import")
def import_group() -> None:
    """Import comments from another system (one transaction: all or nothing)."""


def _import(kind: str, path: Path) -> None:
    from forum.errors import DomainError
    from forum.transfer.commands import run_import

    settings = _settings()
    with database(settings) as dsn:
        _migrate(settings, dsn)
        try:
            report = _run(settings, dsn, lambda: run_import(kind, path))
        except DomainError as exc:
            raise click.ClickException(exc.detail) from None
    click.echo(report)


@import_group.command("wordpress")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_wordpress(path: Path) -> None:
    """Import a WordPress export (WXR) file."""
    _import("wordpress", path)


@import_group.command("disqus")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_disqus(path: Path) -> None:
    """Import a Disqus export (XML) file."""
    _import("disqus", path)


@import_group.command("json")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_json(path: Path) -> None:
    """Import a file written by `forum export` (into an empty database)."""
    _import("json", path)


@main.command("export")
@click.option("--topic", "topic_slug", default=None, help="Export only this topic.")
def export_command(topic_slug: str | None) -> None:
    """Write the site (or one topic) as JSON to standard output."""
    from forum.errors import DomainError
    from forum.transfer.commands import run_export

    settings = _settings()
    with database(settings) as dsn:
        _migrate(settings, dsn)
        try:
            _run(settings, dsn, lambda: run_export(topic_slug, sys.stdout))
        except DomainError as exc:
            raise click.ClickException(exc.detail) from None


if __name__ == "__main__":  # pragma: no cover
    main()
