"""Answers every reader may share: public documents with a short cache lifetime and an
ETag from their bytes, so a repeated request is a 304 (the site document, comment counts)."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import Response
from litestar.enums import MediaType
from litestar.status_codes import HTTP_304_NOT_MODIFIED


def public_json(value: Any, *, max_age_s: int, if_none_match: str | None) -> Response[Any]:
    """`value` encoded as JSON with `Cache-Control: public, max-age=N` and a strong ETag;
    an empty 304 when `If-None-Match` names that ETag."""
    body = msgspec.json.encode(value)
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age_s}"}
    if if_none_match and (if_none_match.strip() == "*" or etag in {
            t.strip().removeprefix("W/") for t in if_none_match.split(",")}):
        return Response(content=b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=body, media_type=MediaType.JSON, headers=headers)
