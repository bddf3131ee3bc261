"""Keyed hashes (HMAC-SHA256 with the secret key) for values that name a person or a client
address but must be compared later without being stored: rate-limit bucket keys, the
handles of erased accounts. Without the secret key, a guessed email address, handle or IP
address cannot be tested against what is stored."""

from __future__ import annotations

import hashlib
import hmac

_secret: bytes = b""


def set_secret(secret: str) -> None:
    """Called by create_app (and the CLI) with FORUM_SECRET_KEY."""
    global _secret
    _secret = secret.encode("utf-8")


def digest(purpose: str, value: str) -> str:
    """64 hex characters; `purpose` keeps hashes of one value for two uses apart."""
    message = f"{purpose}\x00{value}".encode("utf-8", "surrogatepass")
    return hmac.new(_secret, message, hashlib.sha256).hexdigest()
