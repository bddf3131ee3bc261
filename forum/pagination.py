"""Opaque, signed cursors and the shared `limit` parameter for every paged list.

A cursor is base64url(JSON) plus an HMAC tag, so a forged, truncated or foreign cursor is
refused with 400 instead of reaching SQL. Lists answer `{items, next_cursor}`; fetch
`limit + 1` rows to know whether a next page exists (`next_cursor` is null on the last
page, also when it is exactly full).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.params import PathParameter, QueryParameter

from forum.errors import BadRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_ID = 2**63 - 1

# Query parameter types with the contract's bounds (out of range -> 400 naming the field).
# Give defaults as plain defaults: `limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None`.
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT,
                                      description="Page size, 1-100 (default 50).")]
Cursor = Annotated[str | None, QueryParameter(max_length=512,
                                              description="Opaque cursor from the previous page's next_cursor.")]
# Path ids: PostgreSQL bigint range; anything else is a 400 before any query runs.
Id = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
# Ids inside JSON bodies (msgspec Struct fields): same range, so 2**63 or -1 is a 400.
IdField = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]

_key: bytes = b"unset"
T = TypeVar("T")


def set_secret(secret: str) -> None:
    global _key
    _key = hashlib.sha256(b"forum-cursor:" + secret.encode()).digest()


def _tag(payload: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(_key, payload, hashlib.sha256).digest()[:12]).decode().rstrip("=")


def encode_cursor(kind: str, values: dict[str, Any]) -> str:
    payload = json.dumps({"k": kind, **values}, separators=(",", ":"), sort_keys=True).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_tag(payload)}"


def decode_cursor(kind: str, cursor: str | None) -> dict[str, Any] | None:
    """The values a cursor of this `kind` carries; None for no cursor; 400 when bad."""
    if cursor is None or cursor == "":
        return None
    try:
        body, tag = cursor.split(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        if not hmac.compare_digest(tag, _tag(payload)):
            raise ValueError("bad tag")
        values = json.loads(payload)
        if not isinstance(values, dict) or values.pop("k", None) != kind:
            raise ValueError("wrong kind")
        return values
    except (ValueError, TypeError, UnicodeDecodeError):
        raise BadRequest("cursor: malformed or expired cursor; start again without one") from None


def page(rows: Sequence[T], limit: int) -> tuple[list[T], bool]:
    """Split `limit + 1` fetched rows into the page and whether more follow."""
    return list(rows[:limit]), len(rows) > limit
