"""GET /api/admin/export: the whole site (or one topic) in the `forum export` format."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.params import QueryParameter
from litestar.response import Stream

from forum.auth import requires_admin
from forum.transfer import jsonio

TopicSlug = Annotated[str | None, QueryParameter(max_length=200, description="Export only this topic.")]


@get("/api/admin/export", operation_id="export_site", tags=["admin"], guards=[requires_admin],
     media_type="application/json", security=[{"bearer": []}])
async def export_site(topic: TopicSlug = None) -> Stream:
    """The site as JSON (docs/export-format.md): topics, comments with threading, users without
    emails or password hashes. Streamed from one consistent snapshot."""
    await jsonio.topic_id_for(topic)  # 404 before the stream starts
    return Stream(jsonio.export_chunks(topic), media_type="application/json",
                  headers={"Content-Disposition": 'attachment; filename="forum-export.json"',
                           "Cache-Control": "no-store"})


ROUTES: list[Any] = [export_site]
