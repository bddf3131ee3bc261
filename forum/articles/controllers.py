"""Routes: the admin tools for article threads (merge two threads, delete an empty
automatic one). A page's thread on first sight, POST /api/topics/by-url, sits beside
GET /api/topics/by-url in forum/topics/controllers.py (one handler map per path)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from forum import sql
from forum.articles import services
from forum.articles.schemas import TopicMerge
from forum.auth import Viewer, requires_admin
from forum.topics.schemas import TopicRead

ReasonQuery = Annotated[str | None, QueryParameter(description="why: kept in the audit log", max_length=1000)]


class AdminTopicController(Controller):
    path = "/api/admin/topics"
    tags = ("admin",)

    @post("/{slug:str}/merge", operation_id="merge_topics", status_code=HTTP_200_OK, guards=[requires_admin])
    async def merge_topics(self, user: NamedDependency[Viewer], slug: FromPath[str],
                           data: JSONBody[TopicMerge]) -> TopicRead:
        """Move a thread's comments into another; its address stays as an alias; it becomes a tombstone."""
        async with sql.transaction():
            topic = await services.merge_topics(slug, data.into, user, data.reason)
        return msgspec.convert(topic, TopicRead)

    @delete("/{slug:str}", operation_id="delete_auto_topic", status_code=HTTP_204_NO_CONTENT,
            guards=[requires_admin])
    async def delete_auto_topic(self, user: NamedDependency[Viewer], slug: FromPath[str],
                                reason: ReasonQuery = None) -> None:
        """Delete an empty thread the service created by itself (409 when it has comments or a person made it)."""
        async with sql.transaction():
            await services.delete_auto_topic(slug, user, reason)


ROUTES: list[Any] = [AdminTopicController]
