"""One timestamp format on the wire: RFC 3339 in UTC with `Z` (`2026-11-29T10:59:58.365381Z`).

Responses are encoded by msgspec, which writes an aware UTC `datetime` in exactly this form.
Times that are formatted before encoding (comment and topic JSON kept in caches, events and
idempotency records; audit details; error fields) go through `rfc3339`, which asks the same
encoder, so a time reads the same whichever way it reaches the client.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

_encode = msgspec.json.Encoder().encode


def rfc3339(value: datetime) -> str:
    """`value` (timezone-aware) in UTC as msgspec writes it: seconds, microseconds when not 0, `Z`."""
    return _encode(value.astimezone(UTC))[1:-1].decode("ascii")


def rfc3339_or_none(value: datetime | None) -> str | None:
    return rfc3339(value) if value is not None else None
