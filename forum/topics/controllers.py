"""Routes: create, list, read and change topics (articles and discussions)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from forum import sql
from forum.articles.schemas import FirstSight
from forum.articles.services import first_sight
from forum.auth import Viewer, requires_active_user
from forum.pagination import DEFAULT_LIMIT, Cursor, Limit
from forum.publiccache import public_json
from forum.topics import services
from forum.topics.schemas import (
    CommentCounts,
    CountsRequest,
    TopicCreate,
    TopicKind,
    TopicPage,
    TopicRead,
    TopicUpdate,
)

KindFilter = Annotated[TopicKind | None, QueryParameter(description="article or discussion")]
UrlQuery = Annotated[str, QueryParameter(description="the article's address (compared in canonical form)",
                                         max_length=4000)]
TopicRefs = Annotated[list[str], QueryParameter(description="a slug or an address; repeat for more (1-100)")]
IfNoneMatch = Annotated[str | None, HeaderParameter(name="If-None-Match", max_length=1000)]
COUNTS_MAX_AGE_S = 30  # comment counts on listing pages: a short shared cache lifetime


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

    @get("/by-url", operation_id="get_topic_by_url")
    async def get_topic_by_url(self, viewer: NamedDependency[Viewer | None], url: UrlQuery) -> TopicRead:
        """The topic of an article's address (canonical form: forum/topics/urls.py); 404 as for an unknown slug."""
        return msgspec.convert(await services.get_topic_by_url(url, viewer), TopicRead)

    @post("/by-url", operation_id="get_or_create_topic_by_url", status_code=HTTP_200_OK,
          responses={HTTP_201_CREATED: ResponseSpec(data_container=TopicRead,
                                                    description="The thread was created now (first sight).")})
    async def get_or_create_topic_by_url(self, request: Request[Any, Any, Any], viewer: NamedDependency[Viewer | None],
                                         client_ip: NamedDependency[str],
                                         data: JSONBody[FirstSight]) -> Response[TopicRead]:
        """A page's thread: 200 when it exists; 201 when created now (its origin in FORUM_EMBED_ORIGINS,
        FORUM_AUTO_ARTICLES on; forum/articles/services.py); else the unknown topic's 404."""
        async with sql.transaction():
            made = await first_sight(data.url, data.title, viewer, client_ip, request.app.state.settings)
        return Response(msgspec.convert(made.topic, TopicRead),
                        status_code=HTTP_201_CREATED if made.created else HTTP_200_OK)

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


class CountsController(Controller):
    """Comment counts of many topics in one request (listing pages: count.js)."""

    path = "/api/counts"
    tags = ("topics",)

    @get("/", operation_id="get_comment_counts", cache=False)
    async def get_comment_counts(self, topic: TopicRefs,
                                 if_none_match: IfNoneMatch = None) -> Response[CommentCounts]:
        """`?topic=slug-or-url&topic=...`: public comment counts, 0 for unknown topics; cacheable (ETag)."""
        return public_json(CommentCounts(await services.comment_counts(topic)), max_age_s=COUNTS_MAX_AGE_S,
                           if_none_match=if_none_match)

    @post("/", operation_id="post_comment_counts", status_code=HTTP_200_OK)
    async def post_comment_counts(self, data: JSONBody[CountsRequest],
                                  if_none_match: IfNoneMatch = None) -> Response[CommentCounts]:
        """`{"topics": [...]}`: the same answer as the GET form, for lists too long for a URL."""
        return public_json(CommentCounts(await services.comment_counts(data.topics)), max_age_s=COUNTS_MAX_AGE_S,
                           if_none_match=if_none_match)


ROUTES: list[Any] = [TopicController, CountsController]
