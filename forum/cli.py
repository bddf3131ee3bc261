"""The `forum` command: serve, migrate, check, users, demo, import, export."""

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
from datetime import UTC, datetime
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
    """Apply pending migrations (each one applied is logged; stdout stays clean for
    commands that write data there, `forum export > site.json`)."""
    from forum import db

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
    from forum import logs

    try:
        settings = Settings.from_env()
    except SettingsError:  # reported by the command that reads them (`forum check` names it)
        logs.configure()
    else:
        logs.configure(settings.log_level, settings.log_format)


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
                log_config=None,  # forum.logs: one handler and format for the whole process
                access_log=False,  # one request line per request: forum.access (forum/web.py)
                # forwarded addresses: uvicorn's ProxyHeadersMiddleware, applied by the app
                # itself from FORUM_TRUSTED_PROXIES (forum/web.py), so every server and the
                # in-process tests share it; here it would run a second time
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


def _as_operator(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` for the server operator: migrations applied, mail configured as the server
    has it, domain errors (the same the API answers) shown as the command's error."""
    from forum.errors import DomainError
    from forum.notifications import mail

    settings = _settings()

    async def configured() -> T:
        mail.configure(settings)
        return await work()

    with database(settings) as dsn:
        _migrate(settings, dsn)
        try:
            return _run(settings, dsn, configured)
        except DomainError as exc:
            raise click.ClickException(exc.detail) from None


async def _user_id(handle: str) -> int:
    from forum.accounts.services import user_id_by_handle

    user_id = await user_id_by_handle(handle)
    if user_id is None:
        raise click.ClickException(f"no account is called {handle!r}")
    return user_id


_ROLES = click.Choice(["reader", "coach", "moderator", "admin"])


@users.command("list")
@click.option("--role", type=_ROLES, default=None, help="Only accounts with this role.")
@click.option("--search", default=None, help="Part of a handle, or a whole email address.")
@click.option("--show-emails", is_flag=True,
              help="Print email addresses (otherwise only whether there is one).")
@click.option("--limit", type=click.IntRange(1, 10000), default=200, show_default=True)
def users_list(role: str | None, search: str | None, show_emails: bool, limit: int) -> None:
    """List live accounts, oldest first: id, handle, role, status, whether it has a password, email.

    Addresses are shown only with --show-emails: a terminal's scrollback and a shared screen
    are not a place for readers' addresses."""
    from forum.accounts.services import list_users

    found = _as_operator(lambda: list_users(role, search, limit + 1))
    if not found:
        click.echo("no accounts match")
        return
    rows = [(str(u["id"]), u["handle"], u["role"],
             u["status"] + (f" until {u['suspended_until']:%Y-%m-%d %H:%M}Z" if u["suspended_until"] else ""),
             "yes" if u["has_password"] else "no",
             (u["email"] or "-") if show_emails else ("yes" if u["email"] else "-"))
            for u in found[:limit]]
    header = ("ID", "HANDLE", "ROLE", "STATUS", "PASSWORD", "EMAIL")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    if len(found) > limit:
        click.echo(f"(more than {limit}: narrow with --role or --search, or raise --limit)")


@users.command("set-role")
@click.argument("handle")
@click.argument("role", type=_ROLES)
def users_set_role(handle: str, role: str) -> None:
    """Give an account a role (audited; the last admin cannot be demoted)."""
    from forum.accounts.services import change_role
    from forum.auth import OPERATOR

    async def work() -> Any:
        return await change_role(OPERATOR, await _user_id(handle), role)

    user = _as_operator(work)
    click.echo(f"{user.handle!r} (id {user.id}) is now {user.role}")


@users.command("reset-password")
@click.argument("handle")
def users_reset_password(handle: str) -> None:
    """Make a single-use link (valid one day) to choose a new password, for any account.

    Mailed when mail is configured and the account has an address; otherwise printed here,
    to be passed on to the person directly. The current password keeps working until the
    link is used; using it signs the account out everywhere."""
    from forum.notifications.passwords import operator_reset

    async def work() -> dict[str, Any]:
        return await operator_reset(await _user_id(handle))

    settings = _settings()
    made = _as_operator(work)
    if made["link"] is None:
        click.echo(f"a reset link for {made['handle']!r} is queued for mailing (valid one day)")
    else:
        click.echo(f"give {made['handle']!r} this link (single use, valid one day), opened on the site's "
                   f"address ({settings.public_url}):\n{settings.public_url}{made['link']}")


@users.command("suspend")
@click.argument("handle")
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="For this many days.")
@click.option("--until", "until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Until this day (YYYY-MM-DD, UTC; ends at the time of day it starts).")
@click.option("--reason", required=True, help="Why (kept in the audit log; the person is told).")
def users_suspend(handle: str, days: int | None, until: datetime | None, reason: str) -> None:
    """Suspend an account (audited like a moderator's suspension). Neither --days nor
    --until: until lifted with `forum users unsuspend`."""
    from forum.auth import OPERATOR
    from moderation.services import suspend_user

    if days is not None and until is not None:
        raise click.UsageError("give --days or --until, not both")
    if until is not None:
        days = (until.date() - datetime.now(UTC).date()).days
        if not 1 <= days <= 3650:
            raise click.UsageError("--until must be a day from tomorrow to ten years ahead")
    if not reason.strip():
        raise click.UsageError("--reason: say why the account is suspended")

    async def work() -> dict[str, Any]:
        return await suspend_user(OPERATOR, await _user_id(handle), days, reason.strip())

    state = _as_operator(work)
    ends = f"until {state['suspended_until']:%Y-%m-%d %H:%M}Z" if state["suspended_until"] else "until lifted"
    click.echo(f"{handle!r} (id {state['id']}) is suspended {ends}")


@users.command("unsuspend")
@click.argument("handle")
@click.option("--reason", default=None, help="Why (kept in the audit log).")
def users_unsuspend(handle: str, reason: str | None) -> None:
    """Lift a suspension (audited)."""
    from forum.auth import OPERATOR
    from moderation.services import unsuspend_user

    async def work() -> dict[str, Any]:
        return await unsuspend_user(OPERATOR, await _user_id(handle), (reason or "").strip() or None)

    state = _as_operator(work)
    click.echo(f"{handle!r} (id {state['id']}) is active again")


@main.command()
def check() -> None:
    """Check settings, database, migrations and mail: one line each; exit 1 on a problem.

    Changes nothing (no migration is applied); without DATABASE_URL it starts the embedded
    PostgreSQL to look at it."""
    problems = 0

    def report(what: str, ok: bool, text: str) -> None:
        nonlocal problems
        problems += not ok
        click.echo(f"{what + ':':<12} {'ok' if ok else 'PROBLEM':<8} {text}")

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        report("settings", False, str(exc))
        for what in ("database", "migrations", "mail"):
            report(what, False, "not checked (settings first)")
        sys.exit(1)
    notes = []
    if settings.secret_key_is_ephemeral:
        notes.append(f"no FORUM_SECRET_KEY: `forum serve` keeps one in {settings.data_dir}/secret_key")
    report("settings", True, "; ".join(notes) or "read from the environment")
    _check_database(settings, report)
    _check_mail(settings, report)
    sys.exit(1 if problems else 0)


def _check_database(settings: Settings, report: Callable[[str, bool, str], None]) -> None:
    from forum import db

    try:
        with database(settings) as dsn:
            async def look() -> tuple[str, list[str]]:
                from forum import sql

                version = await sql.fetchval("SHOW server_version")
                return str(version), await db.pending_migrations()

            version, pending = _run(settings, dsn, look)
    except Exception as exc:  # any failure to reach or read it is the problem to report
        report("database", False, f"{type(exc).__name__}: {exc}"[:300])
        report("migrations", False, "not checked (database first)")
        return
    where = "embedded in " + str(settings.data_dir / "pgdata") if not settings.database_url else "DATABASE_URL"
    report("database", True, f"PostgreSQL {version} ({where})")
    if pending:
        report("migrations", False, f"{len(pending)} not applied ({pending[0]}...): run `forum migrate`")
    else:
        report("migrations", True, "current")


def _check_mail(settings: Settings, report: Callable[[str, bool, str], None]) -> None:
    from forum.notifications import mail

    if not (settings.smtp_url or settings.mail_from):
        report("mail", True, "off (no FORUM_SMTP_URL): no notification emails; the CLI prints reset links")
        return
    if not (settings.smtp_url and settings.mail_from):
        report("mail", False, "FORUM_SMTP_URL and FORUM_MAIL_FROM are both needed")
        return
    try:
        where = asyncio.run(mail.check_server(settings))
    except Exception as exc:  # any failure to reach, secure or log in is the problem to report
        report("mail", False, str(exc)[:300])
        return
    report("mail", True, f"SMTP server {where} accepts the connection and login")


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


@main.command("sync-feed")
@click.argument("url", required=False)
def sync_feed_command(url: str | None) -> None:
    """Create article topics for the new entries of the blog's RSS or Atom feed (URL, else
    FORUM_BLOG_FEED_URL). Idempotent: entries that have a thread are left alone."""
    from forum.articles.feed import sync_feed

    settings = _settings()
    feed_url = url or settings.blog_feed_url
    if not feed_url:
        raise click.UsageError("give the feed's URL, or set FORUM_BLOG_FEED_URL")
    report = _as_operator(lambda: sync_feed(feed_url, settings))
    for slug in report.created:
        click.echo(f"created {slug}")
    click.echo(f"{len(report.created)} created, {report.existing} already had a thread, {report.skipped} skipped")


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
