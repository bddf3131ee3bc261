"""GET /api/search: full-text search over what the public may read."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.params import QueryParameter

from forum.pagination import DEFAULT_LIMIT, Cursor, Limit
from forum.search import services
from forum.search.schemas import SearchPage

# Long queries are accepted and bounded by the service (first 256 words / 2,000 characters).
Query = Annotated[str | None, QueryParameter(description="Words to find (web search syntax: \"phrase\", -word, or).")]


@get("/api/search", operation_id="search_content", tags=["search"])
async def search_content(q: Query = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> SearchPage:
    """Published topics and published, non-private comments matching `q`, best first."""
    return await services.search(q, limit, cursor)


ROUTES: list[Any] = [search_content]
