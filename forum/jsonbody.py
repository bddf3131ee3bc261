"""JSON request bodies: one nesting limit for every route, the same on every Python.

msgspec decodes nested arrays and objects recursively and stops at the interpreter's
recursion guard, which is the Python recursion limit (1000) on 3.11 but a much larger C
limit on 3.12 and later: a body nested 5,000 levels deep in a field the schema ignores was
refused on 3.11 and accepted on 3.13. Every JSON body Litestar decodes goes through
`Request.json()`; this request class checks the depth first.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from forum.errors import BadRequest

MAX_JSON_DEPTH = 32  # the deepest body the API takes is 3 levels (moderation rules)

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


def nested_deeper_than(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects more than `limit` levels (strings skipped)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # it cannot nest deeper than the brackets it has
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub(b'""', body)):
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class ForumRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        if nested_deeper_than(await self.body()):
            raise BadRequest(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
        return await super().json()
