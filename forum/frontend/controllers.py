"""Routes of the shared front-end foundation: the static assets, and the two loaders a blog
pastes (`/embed.js`, `/count.js`) at fixed URLs with a short cache."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from forum.frontend import assets
from forum.frontend.challenge import ROUTES as CHALLENGE_ROUTES  # the guest challenge
from forum.frontend.widget import ROUTES as WIDGET_ROUTES  # the comment widget's page

_NOT_FOUND = "No such file."


def _file_response(relative: str, cache_control: str) -> Response[bytes]:
    path = assets.find_asset(relative)
    if path is None:
        raise NotFoundException(_NOT_FOUND)
    return Response(path.read_bytes(), media_type=assets.content_type(path), headers={
        "Cache-Control": cache_control, "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin" if relative.startswith("/js/loader/") else "same-origin",
    })


@get("/static/{version:str}/{file_path:path}", operation_id="get_static_asset", include_in_schema=False,
      cache=False)
async def static_asset(version: FromPath[str], file_path: FromPath[str]) -> Response[bytes]:
    """A static asset. The current tree hash is cached for a year; an older one (a page loaded
    before a deploy) still gets today's file, with a short cache."""
    return _file_response(file_path, assets.IMMUTABLE if version == assets.tree_hash() else assets.SHORT)


@get("/embed.js", operation_id="get_embed_loader", include_in_schema=False, cache=False)
async def embed_loader() -> Response[bytes]:
    """The loader a blog pastes under an article: puts the comment widget's frame in the page."""
    return _file_response("/js/loader/embed.js", assets.SHORT)


@get("/count.js", operation_id="get_count_loader", include_in_schema=False, cache=False)
async def count_loader() -> Response[bytes]:
    """The loader a listing page pastes: fills every `data-forum-count` element from one request."""
    return _file_response("/js/loader/count.js", assets.SHORT)


ROUTES: list[Any] = [static_asset, embed_loader, count_loader, *WIDGET_ROUTES, *CHALLENGE_ROUTES]
