"""The live streams' event bytes, built once per event, are what Litestar's own
ServerSentEventMessage gives for the same event (the format docs/api.md describes)."""

from __future__ import annotations

import msgspec
from litestar.response.sse import ServerSentEventMessage

from forum.live import fanout


def test_event_bytes_match_litestars_encoding() -> None:
    item = {"id": 42, "body_html": "<p>two\nlines and a \u2028 separator, \"quotes\"</p>", "score": 1.5, "x": None}
    expected = ServerSentEventMessage(event="comment", id=42, data=msgspec.json.encode(item).decode()).encode()
    assert fanout.encode_event("comment", item) == expected


def test_connected_and_ping_match_litestars_encoding() -> None:
    assert ServerSentEventMessage(comment="connected", retry=3000).encode() == fanout.CONNECTED
    assert ServerSentEventMessage(comment="ping").encode() == fanout.PING
