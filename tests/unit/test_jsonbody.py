"""The JSON nesting limit (forum/jsonbody.py): the same answer on every Python version."""

from __future__ import annotations

import json

import pytest

from forum.jsonbody import MAX_JSON_DEPTH, nested_deeper_than


def _nested(depth: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * depth + close * depth).encode()


@pytest.mark.parametrize("depth", [1, 3, MAX_JSON_DEPTH])
def test_bodies_up_to_the_limit_pass(depth: int) -> None:
    assert not nested_deeper_than(_nested(depth))
    assert not nested_deeper_than(json.dumps({"rules": [[{"a": [1]}]] * 50}).encode())


@pytest.mark.parametrize("body", [
    _nested(MAX_JSON_DEPTH + 1),
    b'{"body": ' + _nested(5000) + b"}",
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    b"[" * 100,  # unterminated, still too deep
])
def test_deeper_bodies_are_caught(body: bytes) -> None:
    assert nested_deeper_than(body)


def test_brackets_inside_strings_do_not_count() -> None:
    body = json.dumps({"body": "[" * 500 + "{" * 500 + 'a \\" quote [[[', "t": "]]]"}).encode()
    assert not nested_deeper_than(body)
    assert nested_deeper_than(b'{"s": "[[[", "x": ' + _nested(MAX_JSON_DEPTH + 1) + b"}")
