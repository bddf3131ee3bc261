"""Password policy and hashing: argon2id at or above OWASP's minimum, a common-password list.

The list (`common_passwords.txt`) is zxcvbn's password frequency list (30,000 entries,
MIT-licensed, see the file's header). To regenerate it from the PyPI package:

    pip download zxcvbn==4.5.0 --no-deps && unzip zxcvbn-4.5.0-*.whl
    python -c "from zxcvbn.frequency_lists import FREQUENCY_LISTS as F; print(*F['passwords'], sep='\\n')"

Hashing and verification are CPU-bound (tens of milliseconds); the async helpers run
them in a worker thread (argon2-cffi releases the GIL) so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import secrets
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from forum.errors import BadRequest

MIN_LENGTH = 8
MAX_LENGTH = 128

# OWASP Password Storage Cheat Sheet, argon2id minimum: m = 19 MiB, t = 2, p = 1.
TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1

hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM,
                        hash_len=32, salt_len=16, type=Type.ID)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("forum.accounts").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def is_common(password: str) -> bool:
    """The list is lower-case; 'Password' and 'PASSWORD' are as guessable as 'password'."""
    return password.lower() in common_passwords()


def check_policy(password: str, *, handle: str | None = None, email: str | None = None) -> None:
    """Raise BadRequest (detail names `password`) unless the password may be used."""
    if "\x00" in password:
        raise BadRequest("password: must not contain NUL characters.")
    if len(password) < MIN_LENGTH:
        raise BadRequest(f"password: must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise BadRequest(f"password: must be at most {MAX_LENGTH} characters long.")
    if is_common(password):
        raise BadRequest("password: is one of the most common passwords; choose a less guessable one.")
    lowered = password.lower()
    if handle and lowered == handle.lower():
        raise BadRequest("password: must not be the same as your handle.")
    if email and lowered == email.lower():
        raise BadRequest("password: must not be the same as your email address.")


def hash_password_sync(password: str) -> str:
    return hasher.hash(password)


def verify_sync(stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # A hash of a random secret with the current parameters: verifying against it costs
    # exactly as much as verifying a real account's password.
    return hasher.hash(secrets.token_urlsafe(24))


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher.hash, password)


async def verify(stored_hash: str | None, password: str) -> bool:
    """Constant-work check: a missing hash (unknown login, erased or password-less account)
    still costs one full argon2 verification, and then fails."""
    if stored_hash is None:
        await asyncio.to_thread(lambda: verify_sync(_dummy_hash(), password))
        return False
    return await asyncio.to_thread(verify_sync, stored_hash, password)


async def warm_up() -> None:
    """Compute the dummy hash before the first login (called at start-up)."""
    await asyncio.to_thread(_dummy_hash)
