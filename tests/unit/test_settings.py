from pathlib import Path

import pytest

from forum.errors import BadRequest
from forum.pagination import decode_cursor, encode_cursor, set_secret
from forum.settings import Settings, SettingsError


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.database_url is None and s.data_dir == Path(".forum")
    assert s.port == 8000 and s.workers == 1 and s.max_body_bytes == 64 * 1024
    assert s.rate_limit_factor == 1.0 and s.secret_key_is_ephemeral
    assert s.db_plan_cache_mode == "force_generic_plan"
    assert Settings.from_env({"FORUM_DB_PLAN_CACHE_MODE": " Auto "}).db_plan_cache_mode == "auto"


@pytest.mark.parametrize("raw,factor", [("on", 1.0), ("off", 0.0), ("100", 100.0), ("0.5", 0.5)])
def test_rate_limit_setting(raw: str, factor: float) -> None:
    assert Settings.from_env({"FORUM_RATE_LIMITS": raw}).rate_limit_factor == factor


@pytest.mark.parametrize("env", [{"FORUM_PORT": "x"}, {"FORUM_WORKERS": "0"}, {"FORUM_RATE_LIMITS": "-1"},
                                 {"FORUM_DB_POOL_MIN": "20", "FORUM_DB_POOL_MAX": "5"},
                                 {"FORUM_DB_PLAN_CACHE_MODE": "generic"}])
def test_bad_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_settings_are_frozen() -> None:
    s = Settings.from_env({})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]


def test_cursor_round_trip_and_tampering() -> None:
    set_secret("k1")
    c = encode_cursor("thread", {"id": 5, "t": "2026-01-01"})
    assert decode_cursor("thread", c) == {"id": 5, "t": "2026-01-01"}
    assert decode_cursor("thread", None) is None
    for bad in (c[:-1], c + "x", c[::-1], "garbage!!", "eyJ4IjoxfQ=="):
        with pytest.raises(BadRequest):
            decode_cursor("thread", bad)
    with pytest.raises(BadRequest):
        decode_cursor("other-kind", c)
    set_secret("k2")
    with pytest.raises(BadRequest):
        decode_cursor("thread", c)


# ---------------------------------------------------------------- the database from PG* variables

HARD = "p@ss/w#rd:%?&= é"


def _parts(dsn: str) -> tuple[str | None, str | None, str | None, int | None, str, dict[str, list[str]]]:
    from urllib.parse import parse_qs, unquote, urlsplit

    u = urlsplit(dsn)
    assert u.scheme == "postgresql"
    return (unquote(u.username) if u.username else None, unquote(u.password) if u.password else None,
            u.hostname, u.port, unquote(u.path.lstrip("/")), parse_qs(u.query))


def test_embedded_only_when_neither_database_url_nor_pghost() -> None:
    assert Settings.from_env({}).database_url is None
    assert Settings.from_env({"PGHOST": "", "PGPASSWORD": "x", "PGUSER": "u"}).database_url is None
    assert Settings.from_env({"DATABASE_URL": "postgresql://a@h/d", "PGHOST": "other"}).database_url == (
        "postgresql://a@h/d")
    assert Settings.from_env({"PGHOST": "db"}).database_url == "postgresql://db/"


def test_pg_variables_keep_any_password_intact() -> None:
    env = {"PGHOST": "db", "PGPORT": "5433", "PGUSER": "for@um", "PGPASSWORD": HARD, "PGDATABASE": "forum/x"}
    dsn = Settings.from_env(env).database_url
    assert dsn is not None
    assert _parts(dsn) == ("for@um", HARD, "db", 5433, "forum/x", {})


def test_pg_variables_socket_folder_ipv6_and_tls() -> None:
    dsn = Settings.from_env({"PGHOST": "/run/postgresql", "PGPORT": "5433", "PGUSER": "u"}).database_url
    assert dsn is not None
    user, password, host, port, database, query = _parts(dsn)
    assert (user, password, host, port, database) == ("u", None, None, None, "")
    assert query == {"host": ["/run/postgresql"], "port": ["5433"]}

    dsn = Settings.from_env({"PGHOST": "::1", "PGSSLMODE": "verify-full"}).database_url
    assert dsn is not None
    assert _parts(dsn)[2:4] == ("::1", None) and _parts(dsn)[5] == {"sslmode": ["verify-full"]}


def test_the_dsn_stays_out_of_the_settings_repr() -> None:
    s = Settings.from_env({"PGHOST": "db", "PGPASSWORD": "hunter2-secret"})
    assert "hunter2" not in repr(s)


def test_bad_pgport_is_refused() -> None:
    with pytest.raises(SettingsError, match="PGPORT"):
        Settings.from_env({"PGHOST": "db", "PGPORT": "fivefour"})
