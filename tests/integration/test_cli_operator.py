"""The operator's command line as a real process on the test database: no banner on
ordinary commands, one log line per migration applied, `forum users list/set-role/
reset-password/suspend/unsuspend` through the API's own services (audited), `forum check`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from forum import db, sql
from tests.helpers import free_port, make_user

GOOD_PASSWORD = "a calm long passphrase 42"
BANNER_MARKS = ("👍", "🏁", "🚀", "migrations already complete", "initdb", "pgserver", "Running commandline")
# Piccolo's banner: each app's name centred on a line of its own
BANNER_TITLE = re.compile(r"^\s+(FORUM|MODERATION)\s*$", re.MULTILINE)


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORUM_", "PICCOLO"))}
    env.update({"DATABASE_URL": database_url, "FORUM_SECRET_KEY": "test-secret-key-not-for-production",
                "FORUM_LOG_FORMAT": "json", "FORUM_PUBLIC_URL": "https://forum.example.org", **extra})
    return env


async def _forum(database_url: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "forum", *args],
                                   env=_env(database_url, **extra), capture_output=True, text=True, timeout=120)


def _log_lines(stderr: str) -> list[dict[str, Any]]:
    """Every stderr line is a JSON log line (FORUM_LOG_FORMAT=json)."""
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


# ---------------------------------------------------------------- quiet commands


async def test_help_and_ordinary_commands_print_no_banner(client: httpx.AsyncClient, database_url: str) -> None:
    for args in (["--help"], ["users", "--help"], ["migrate"], ["users", "list"], ["export"]):
        done = await _forum(database_url, *args)
        assert done.returncode == 0, (args, done.stderr[-2000:])
        for mark in BANNER_MARKS:
            assert mark not in done.stderr and mark not in done.stdout, (args, mark, done.stderr[-2000:])
        assert not BANNER_TITLE.search(done.stdout + done.stderr), (args, done.stderr[-2000:])
        assert _log_lines(done.stderr) == [], (args, done.stderr[-2000:])  # nothing to say: says nothing
    export = await _forum(database_url, "export")
    assert json.loads(export.stdout)["format"] == "forum-export"  # stdout carries only the data


async def test_a_migration_run_logs_one_line_per_migration(migrated: str) -> None:
    name = f"forum_cli_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(migrated)
    await admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(migrated)
    fresh = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        first = await _forum(fresh, "migrate")
        assert first.returncode == 0, first.stderr[-2000:]
        lines = _log_lines(first.stderr)
        applied = [line for line in lines if line["message"].startswith("applied migration")]
        assert len(applied) == len(db.known_migrations()) == len(lines)
        assert {(line["app"], line["migration"]) for line in applied} == set(db.known_migrations())
        assert all(line["level"] == "INFO" and line["logger"] == "forum.db" for line in applied)
        assert "migrations up to date" in first.stdout
        again = await _forum(fresh, "migrate")
        assert again.returncode == 0 and _log_lines(again.stderr) == []
        # at DEBUG, Piccolo's progress is there for whoever asks for it
        debug = await _forum(fresh, "migrate", FORUM_LOG_LEVEL="DEBUG")
        assert any(line["message"].startswith("piccolo:") for line in _log_lines(debug.stderr))
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


# ---------------------------------------------------------------- users


async def _audit(target_id: int) -> list[dict[str, Any]]:
    rows = await sql.fetch("SELECT actor_id, action, reason, details FROM audit_log WHERE target_id = $1 ORDER BY id",
                           target_id)
    return [{**dict(r), "details": json.loads(r["details"]) if isinstance(r["details"], str) else r["details"]}
            for r in rows]


async def test_users_list_filters_and_keeps_addresses_back(client: httpx.AsyncClient, database_url: str) -> None:
    await make_user("coach", handle="Coach_Mira", email="mira@example.net")
    await make_user("reader", handle="reader_ben", email="ben@example.net")
    await make_user("reader", handle="reader_cai")
    done = await _forum(database_url, "users", "list", "--role", "reader")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "reader_ben" in done.stdout and "reader_cai" in done.stdout and "Coach_Mira" not in done.stdout
    assert "@" not in done.stdout  # addresses only when asked for
    shown = await _forum(database_url, "users", "list", "--search", "MIRA", "--show-emails")
    assert "Coach_Mira" in shown.stdout and "mira@example.net" in shown.stdout and "reader_ben" not in shown.stdout
    by_email = await _forum(database_url, "users", "list", "--search", "ben@example.net")
    assert "reader_ben" in by_email.stdout and "reader_cai" not in by_email.stdout
    none = await _forum(database_url, "users", "list", "--search", "100%_nobody")
    assert none.returncode == 0 and "no accounts match" in none.stdout
    bad = await _forum(database_url, "users", "list", "--role", "king")
    assert bad.returncode == 2 and "king" in bad.stderr


async def test_set_role_goes_through_the_api_rules_and_is_audited(client: httpx.AsyncClient,
                                                                  database_url: str) -> None:
    reader = await make_user("reader", handle="will_coach")
    done = await _forum(database_url, "users", "set-role", "WILL_COACH", "coach")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "is now coach" in done.stdout
    assert await sql.fetchval("SELECT role FROM forum_user WHERE id = $1", reader.id) == "coach"
    entries = await _audit(reader.id)
    assert [(e["actor_id"], e["action"], e["details"]) for e in entries] == [
        (None, "role_change", {"before": "reader", "after": "coach", "by": "operator"})]
    # the API's rule: the last admin stays an admin
    only_admin = await make_user("admin", handle="only_admin")
    refused = await _forum(database_url, "users", "set-role", "only_admin", "reader")
    assert refused.returncode == 1 and "last admin" in refused.stderr
    assert await sql.fetchval("SELECT role FROM forum_user WHERE id = $1", only_admin.id) == "admin"
    missing = await _forum(database_url, "users", "set-role", "nobody_here", "coach")
    assert missing.returncode == 1 and "no account is called 'nobody_here'" in missing.stderr


async def test_suspend_and_unsuspend_are_audited_like_a_moderators(client: httpx.AsyncClient,
                                                                   database_url: str) -> None:
    reader = await make_user("reader", handle="heated_one")
    done = await _forum(database_url, "users", "suspend", "heated_one", "--days", "3", "--reason", "cooling off")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "is suspended until" in done.stdout
    row = await sql.fetchrow("SELECT status, suspended_until, suspension_reason FROM forum_user WHERE id = $1",
                             reader.id)
    assert row["status"] == "suspended" and row["suspension_reason"] == "cooling off"
    r = await client.post("/api/topics/anything/comments", json={"body": "hello"}, headers=reader.headers)
    assert r.status_code in (403, 404)
    lifted = await _forum(database_url, "users", "unsuspend", "heated_one", "--reason", "talked it through")
    assert lifted.returncode == 0 and "active again" in lifted.stdout
    assert await sql.fetchval("SELECT status FROM forum_user WHERE id = $1", reader.id) == "active"
    actions = [(e["actor_id"], e["action"], e["reason"], e["details"].get("by")) for e in await _audit(reader.id)]
    assert actions == [(None, "suspend", "cooling off", "operator"),
                       (None, "unsuspend", "talked it through", "operator")]
    again = await _forum(database_url, "users", "unsuspend", "heated_one")
    assert again.returncode == 1 and "not suspended" in again.stderr
    admin = await make_user("admin", handle="some_admin")
    refused = await _forum(database_url, "users", "suspend", "some_admin", "--reason", "test")
    assert refused.returncode == 1 and "cannot suspend" in refused.stderr
    assert await sql.fetchval("SELECT status FROM forum_user WHERE id = $1", admin.id) == "active"
    both = await _forum(database_url, "users", "suspend", "heated_one", "--days", "2", "--until", "2099-01-01",
                        "--reason", "x")
    assert both.returncode == 2 and "not both" in both.stderr


async def test_suspend_until_a_day(client: httpx.AsyncClient, database_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    reader = await make_user("reader", handle="until_one")
    day = (datetime.now(UTC) + timedelta(days=5)).date()
    done = await _forum(database_url, "users", "suspend", "until_one", "--until", day.isoformat(), "--reason", "x")
    assert done.returncode == 0, done.stderr[-2000:]
    until = await sql.fetchval("SELECT suspended_until FROM forum_user WHERE id = $1", reader.id)
    assert until.date() == day
    past = await _forum(database_url, "users", "suspend", "until_one", "--until", "2001-01-01", "--reason", "x")
    assert past.returncode == 2


async def test_reset_password_link_for_an_account_that_has_a_password(client: httpx.AsyncClient,
                                                                      database_url: str) -> None:
    r = await client.post("/api/auth/register", json={"handle": "forgetful", "password": GOOD_PASSWORD})
    assert r.status_code == 201, r.text
    old_token = r.json()["token"]
    done = await _forum(database_url, "users", "reset-password", "Forgetful")
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r"https://forum\.example\.org/reset\?token=([A-Za-z0-9_\-]+)", done.stdout)
    assert match, done.stdout
    # the old password keeps working until the link is used
    r = await client.post("/api/auth/login", json={"login": "forgetful", "password": GOOD_PASSWORD})
    assert r.status_code == 200
    new_password = "another calm passphrase 77"
    r = await client.post("/api/auth/password-reset/confirm", json={"token": match.group(1), "password": new_password})
    assert r.status_code == 204
    r = await client.post("/api/auth/password-reset/confirm", json={"token": match.group(1), "password": new_password})
    assert r.status_code == 400  # single use
    assert (await client.post("/api/auth/login", json={"login": "forgetful", "password": GOOD_PASSWORD})
            ).status_code == 401
    assert (await client.post("/api/auth/login", json={"login": "forgetful", "password": new_password})
            ).status_code == 200
    assert (await client.get("/api/me", headers={"Authorization": f"Bearer {old_token}"})).status_code == 401
    user_id = r.json()["user"]["id"] if "user" in r.json() else await sql.fetchval(
        "SELECT id FROM forum_user WHERE handle = 'forgetful'")
    entries = await _audit(user_id)
    assert [(e["actor_id"], e["action"], e["details"]) for e in entries] == [
        (None, "password_reset_link", {"valid_hours": 24, "mailed": False, "by": "operator"})]


async def test_reset_password_is_mailed_when_mail_is_on(client: httpx.AsyncClient, database_url: str) -> None:
    reader = await make_user("reader", handle="mailed_one", email="mailed@example.net")
    done = await _forum(database_url, "users", "reset-password", "mailed_one",
                        FORUM_SMTP_URL="smtp://127.0.0.1:9", FORUM_MAIL_FROM="forum@example.org")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "queued for mailing" in done.stdout and "token=" not in done.stdout
    row = await sql.fetchrow('SELECT kind, body FROM email_outbox WHERE "user" = $1', reader.id)
    assert row["kind"] == "password_reset" and "https://forum.example.org/reset?token=" in row["body"]


# ---------------------------------------------------------------- forum check


def _check_lines(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        what, _, rest = line.partition(":")
        found[what] = rest.split()[0]
    return found


async def test_check_reports_each_part_on_one_line(client: httpx.AsyncClient, database_url: str) -> None:
    good = await _forum(database_url, "check")
    assert good.returncode == 0, good.stdout + good.stderr[-2000:]
    assert _check_lines(good.stdout) == {"settings": "ok", "database": "ok", "migrations": "ok", "mail": "ok"}

    bad_setting = await _forum(database_url, "check", FORUM_LOG_FORMAT="xml")
    assert bad_setting.returncode == 1
    assert _check_lines(bad_setting.stdout)["settings"] == "PROBLEM" and "FORUM_LOG_FORMAT" in bad_setting.stdout

    parts = urlsplit(database_url)
    no_db = urlunsplit(parts._replace(path="/no_such_database_here"))
    down = await _forum(no_db, "check")
    assert down.returncode == 1
    lines = _check_lines(down.stdout)
    assert lines["database"] == "PROBLEM" and lines["migrations"] == "PROBLEM" and lines["settings"] == "ok"

    no_mail = await _forum(database_url, "check", FORUM_SMTP_URL="smtp://127.0.0.1:9",
                           FORUM_MAIL_FROM="forum@example.org")
    assert no_mail.returncode == 1
    assert _check_lines(no_mail.stdout) == {"settings": "ok", "database": "ok", "migrations": "ok",
                                            "mail": "PROBLEM"}


# ---------------------------------------------------------------- a served request


def test_served_process_logs_json_lines_and_one_access_line_per_request(database_url: str) -> None:
    import signal
    import time

    port = free_port()
    env = _env(database_url, FORUM_PORT=str(port), FORUM_LOG_LEVEL="INFO", FORUM_DB_POOL_MIN="1",
               FORUM_DB_POOL_MAX="2")
    proc = subprocess.Popen([sys.executable, "-m", "forum", "serve"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        answered = None
        while time.monotonic() < deadline and proc.poll() is None and answered is None:
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/health/live",
                                     headers={"X-Request-ID": "served-probe-1"}, timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        assert answered is not None and answered.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    lines = _log_lines(err)  # every line JSON: uvicorn's own lines included
    assert any(line["logger"].startswith("uvicorn") for line in lines), err[-2000:]
    mine = [line for line in lines if line.get("request_id") == "served-probe-1"]
    assert len(mine) == 1, mine
    assert mine[0]["logger"] == "forum.access" and mine[0]["route"] == "/health/live"
    assert mine[0]["status"] == 200 and mine[0]["method"] == "GET" and mine[0]["ms"] >= 0
    assert out == ""
