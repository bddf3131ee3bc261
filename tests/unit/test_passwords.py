"""Password policy and hashing (no database)."""

from __future__ import annotations

import asyncio

import pytest
from argon2 import PasswordHasher

from forum.accounts import passwords
from forum.errors import BadRequest


def test_common_list_is_large_and_lower_case() -> None:
    common = passwords.common_passwords()
    assert len(common) >= 10_000
    assert {"password", "12345678", "iloveyou", "qwertyuiop", "letmein", "trustno1"} <= common
    assert all(p == p.lower() for p in list(common)[:2000])
    assert not any(p.startswith("#") for p in common)  # the attribution header is not a password


@pytest.mark.parametrize("password", ["password", "PASSWORD", "Password", "12345678", "iloveyou1",
                                      "qwertyuiop", "football"])
def test_common_passwords_refused_whatever_the_case(password: str) -> None:
    with pytest.raises(BadRequest, match=r"^password: "):
        passwords.check_policy(password)


@pytest.mark.parametrize("password,reason", [
    ("Ab9-xyz", "at least 8"),
    ("Ab9-" * 32 + "x", "at most 128"),
    ("Good-pass\x00word", "NUL"),
])
def test_length_and_nul(password: str, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        passwords.check_policy(password)


def test_boundaries_and_personal_data() -> None:
    passwords.check_policy("Zq9-xv.L")  # 8
    passwords.check_policy("Ab9-" * 32)  # 128
    passwords.check_policy("ünïcødé-pässwörd")  # counted in characters, not bytes
    with pytest.raises(BadRequest, match="handle"):
        passwords.check_policy("Quiet_River_42", handle="quiet_river_42")
    with pytest.raises(BadRequest, match="email"):
        passwords.check_policy("someone@example.org", email="Someone@example.org")


def test_hash_parameters_meet_owasp_minimum() -> None:
    stored = passwords.hash_password_sync("Correct-horse-9")
    assert stored.startswith("$argon2id$v=19$")
    params = dict(p.split("=") for p in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2 and int(params["p"]) >= 1
    assert passwords.verify_sync(stored, "Correct-horse-9")
    assert not passwords.verify_sync(stored, "Correct-horse-8")
    assert not passwords.verify_sync("not a hash", "Correct-horse-9")
    assert not passwords.needs_rehash(stored)


def test_weaker_or_foreign_hashes_need_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("x")
    assert passwords.needs_rehash(weak)
    assert passwords.needs_rehash("$2b$12$not-argon2")


def test_verify_without_hash_does_the_same_work_and_fails() -> None:
    calls: list[str] = []
    real = passwords.verify_sync

    def spy(stored: str, password: str) -> bool:
        calls.append(stored)
        return real(stored, password)

    passwords.verify_sync = spy  # type: ignore[assignment]
    try:
        assert asyncio.run(passwords.verify(None, "anything-at-all")) is False
    finally:
        passwords.verify_sync = real  # type: ignore[assignment]
    assert len(calls) == 1
    assert not passwords.needs_rehash(calls[0])  # the dummy hash uses the current parameters
