"""Routes: create, list, read and change topics (articles and discussions)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from forum import sql
from forum.auth import Viewer, requires_active_user
from forum.pagination import DEFAULT_LIMIT, Cursor, Limit
from forum.topics import services
from forum.topics.schemas import TopicCreate, TopicKind, TopicPage, TopicRead, TopicUpdate

KindFilter = Annotated[TopicKind | None, QueryParameter(description="article or discussion")]


class TopicController(Controller):
    path = "/api/topics"
    tags = ("topics",)

    @post("/", operation_id="create_topic", status_code=HTTP_201_CREATED, guards=[requires_active_user])
    async def create_topic(self, user: NamedDependency[Viewer], client_ip: NamedDependency[str],
                           data: JSONBody[TopicCreate]) -> TopicRead:
        """An article (coach+) or a discussion (any user; moderated like a comment)."""
        async with sql.transaction():
            topic = await services.create_topic(kind=data.kind, title=data.title, body=data.body, slug=data.slug,
                                                url=data.url, comments=data.comments, viewer=user,
                                                client_ip=client_ip)
        return msgspec.convert(topic, TopicRead)

    @get("/", operation_id="list_topics")
    async def list_topics(self, kind: KindFilter = None, limit: Limit = DEFAULT_LIMIT,
                          cursor: Cursor = None) -> TopicPage:
        """Published topics, newest first."""
        return msgspec.convert(await services.list_topics(kind, limit, cursor), TopicPage)

    @get("/{slug:str}", operation_id="get_topic")
    async def get_topic(self, viewer: NamedDependency[Viewer | None], slug: FromPath[str]) -> TopicRead:
        """One topic (a held discussion only for its author and moderators)."""
        return msgspec.convert(await services.get_topic(slug, viewer), TopicRead)

    @patch("/{slug:str}", operation_id="update_topic", guards=[requires_active_user])
    async def update_topic(self, user: NamedDependency[Viewer], slug: FromPath[str],
                           data: JSONBody[TopicUpdate]) -> TopicRead:
        """Change title, body, url or comments mode: the author (a coach) or a moderator."""
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        async with sql.transaction():
            topic = await services.update_topic(slug, changes, user)
        return msgspec.convert(topic, TopicRead)


ROUTES: list[Any] = [TopicController]
