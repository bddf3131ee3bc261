"""One wire format for times: forum.timefmt.rfc3339 writes what msgspec writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import msgspec

from forum.timefmt import rfc3339, rfc3339_or_none


def test_utc_with_z_and_microseconds_only_when_there_are_some() -> None:
    assert rfc3339(datetime(2026, 11, 29, 10, 59, 58, 365381, tzinfo=UTC)) == "2026-11-29T10:59:58.365381Z"
    assert rfc3339(datetime(2026, 11, 29, 10, 59, 58, tzinfo=UTC)) == "2026-11-29T10:59:58Z"


def test_other_offsets_are_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    assert rfc3339(datetime(2026, 11, 29, 11, 0, tzinfo=paris)) == "2026-11-29T10:00:00Z"


def test_the_same_text_as_the_response_encoder() -> None:
    value = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    assert msgspec.json.encode({"t": value}) == msgspec.json.encode({"t": rfc3339(value)})
    assert rfc3339_or_none(None) is None
