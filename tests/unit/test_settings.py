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


@pytest.mark.parametrize("raw,factor", [("on", 1.0), ("off", 0.0), ("100", 100.0), ("0.5", 0.5)])
def test_rate_limit_setting(raw: str, factor: float) -> None:
    assert Settings.from_env({"FORUM_RATE_LIMITS": raw}).rate_limit_factor == factor


@pytest.mark.parametrize("env", [{"FORUM_PORT": "x"}, {"FORUM_WORKERS": "0"}, {"FORUM_RATE_LIMITS": "-1"},
                                 {"FORUM_DB_POOL_MIN": "20", "FORUM_DB_POOL_MAX": "5"}])
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
