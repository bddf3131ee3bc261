"""Routes: a topic's thread, posting, one comment, edits, revisions, deletes, votes."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT, HTTP_304_NOT_MODIFIED

from forum import sql
from forum.auth import Viewer, requires_active_if_signed_in, requires_active_user, requires_user
from forum.comments import cache, context, idempotency, posting, reads, services
from forum.comments import viewer as viewer_marks
from forum.comments.lifecycle import page_cache, shared_reads
from forum.comments.schemas import (
    CommentContext,
    CommentCreate,
    CommentEdit,
    CommentPage,
    CommentRead,
    RevisionPage,
    Score,
    StaffReason,
)
from forum.comments.schemas import Sort as SortOrder
from forum.errors import NotFound
from forum.frontend import challenge
from forum.pagination import DEFAULT_LIMIT, Cursor, Id, Limit

Sort = Annotated[SortOrder, QueryParameter(description="oldest (default), newest or top")]
IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", max_length=1000)]
IfNoneMatch = Annotated[str | None, HeaderParameter(name="If-None-Match", max_length=cache.IF_NONE_MATCH_MAX)]


def _read(item: dict[str, Any]) -> CommentRead:
    return msgspec.convert({"replies": [], **item}, CommentRead)


class ThreadController(Controller):
    path = "/api/topics"
    tags = ("comments",)

    @get("/{slug:str}/comments", operation_id="list_topic_comments", cache=False)
    async def list_topic_comments(self, request: Request[Any, Any, Any], viewer: NamedDependency[Viewer | None],
                                  slug: FromPath[str], sort: Sort = "oldest", limit: Limit = DEFAULT_LIMIT,
                                  cursor: Cursor = None, if_none_match: IfNoneMatch = None) -> Response[CommentPage]:
        """The thread: top-level comments paged in the chosen order, each with up to 100
        descendants nested in `replies` (depth first, oldest first) and `more_replies`."""
        answer = await reads.thread(shared_reads(request.app), page_cache(request.app), viewer, slug, sort=sort,
                                    limit=limit, cursor=cursor, if_none_match=if_none_match,
                                    accept_encoding=request.headers.get("accept-encoding"))
        if answer.status == HTTP_304_NOT_MODIFIED:
            return Response(content=b"", status_code=HTTP_304_NOT_MODIFIED,  # type: ignore[arg-type]
                            headers=answer.headers)
        return Response(content=answer.body, media_type=MediaType.JSON,  # type: ignore[arg-type,return-value]
                        headers=answer.headers)

    @post("/{slug:str}/comments", operation_id="create_comment", status_code=HTTP_201_CREATED,
          guards=[requires_active_if_signed_in])
    async def create_comment(self, request: Request[Any, Any, Any], viewer: NamedDependency[Viewer | None],
                             client_ip: NamedDependency[str], slug: FromPath[str], data: JSONBody[CommentCreate],
                             idempotency_key: IdempotencyKey = None) -> Response[CommentRead]:
        """Post a comment or reply (`status` published or pending). Guests give `guest_name`.
        A retried POST with the same `Idempotency-Key` returns the first response."""
        draft = posting.NewComment(body=data.body, parent_id=data.parent_id, kind=data.kind,
                                   private=data.private, guest_name=data.guest_name)
        settings = request.app.state.settings
        async with sql.transaction():
            key = scope = None
            if idempotency_key is not None:
                key = idempotency.check_key(idempotency_key)
                scope = f"user:{viewer.id}" if viewer is not None else f"guest:{client_ip}"
                replay = await idempotency.claim(scope, key, idempotency.request_hash(
                    slug, data.body, data.parent_id, data.kind, data.private, data.guest_name))
                if replay is not None:
                    return Response(content=_read(replay.response), status_code=replay.status_code,
                                    headers={"Idempotent-Replayed": "true"})
            if viewer is None and settings.guest_challenge:
                await challenge.verify(data.altcha, settings)
            result = await posting.create_comment(slug, draft, viewer, client_ip)
            await viewer_marks.annotate([result], viewer)
            if key is not None and scope is not None:
                await idempotency.store(scope, key, HTTP_201_CREATED, result)
        return Response(content=_read(result), status_code=HTTP_201_CREATED)


class CommentController(Controller):
    path = "/api/comments"
    tags = ("comments",)

    @get("/{comment_id:int}", operation_id="get_comment")
    async def get_comment(self, viewer: NamedDependency[Viewer | None], comment_id: FromPath[Id]) -> CommentRead:
        """One comment, if the caller may see it (404 otherwise)."""
        found = await services.comment_dicts([comment_id], viewer)
        if comment_id not in found:
            raise NotFound("No such comment.")
        await viewer_marks.annotate([found[comment_id]], viewer)
        return _read(found[comment_id])

    @get("/{comment_id:int}/replies", operation_id="list_comment_replies")
    async def list_comment_replies(self, viewer: NamedDependency[Viewer | None], comment_id: FromPath[Id],
                                   limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> CommentPage:
        """The descendants a thread page leaves out (after a root's first 100), flat, depth first."""
        page = await services.replies_page(comment_id, viewer, limit=limit, cursor=cursor)
        await viewer_marks.annotate(page["items"], viewer)
        return msgspec.convert(page, CommentPage)

    @get("/{comment_id:int}/context", operation_id="get_comment_context")
    async def get_comment_context(self, viewer: NamedDependency[Viewer | None], comment_id: FromPath[Id],
                                  sort: Sort = "oldest", limit: Limit = DEFAULT_LIMIT) -> CommentContext:
        """For deep links: the ancestors (root first) and the thread page (cursor) that carries the root."""
        found = await context.comment_context(comment_id, viewer, sort=sort, limit=limit)
        return msgspec.convert(found, CommentContext)

    @patch("/{comment_id:int}", operation_id="edit_comment", guards=[requires_active_user])
    async def edit_comment(self, user: NamedDependency[Viewer], comment_id: FromPath[Id],
                           data: JSONBody[CommentEdit]) -> CommentRead:
        """New text: the author within the edit window, moderators always (audited, with the
        optional `reason`). The old text is kept."""
        async with sql.transaction():
            result = await posting.edit_comment(comment_id, data.body, user, data.reason)
            await viewer_marks.annotate([result], user)
            return _read(result)

    @get("/{comment_id:int}/revisions", operation_id="list_comment_revisions", guards=[requires_user])
    async def list_comment_revisions(self, viewer: NamedDependency[Viewer | None], comment_id: FromPath[Id],
                                     limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> RevisionPage:
        """Earlier versions, oldest first: for the author and moderators."""
        page = await posting.revisions(comment_id, viewer, limit=limit, cursor=cursor)
        return msgspec.convert(page, RevisionPage)

    @delete("/{comment_id:int}", operation_id="delete_comment", guards=[requires_user],
            status_code=HTTP_204_NO_CONTENT)
    async def delete_comment(self, user: NamedDependency[Viewer], comment_id: FromPath[Id],
                             data: JSONBody[StaffReason | None] = None) -> None:
        """A `deleted` tombstone when it has replies, otherwise removed. Authors may delete their
        own comments even while suspended; a moderator's deletion of another's is audited with
        the optional body's `reason`."""
        async with sql.transaction():
            await posting.delete_comment(comment_id, user, data.reason if data is not None else None)

    @post("/{comment_id:int}/vote", operation_id="vote_comment", guards=[requires_active_user],
          status_code=HTTP_200_OK)
    async def vote_comment(self, user: NamedDependency[Viewer], comment_id: FromPath[Id]) -> Score:
        """A helpful vote (one per user, not on one's own comment); repeating it changes nothing."""
        async with sql.transaction():
            return Score(await posting.vote(comment_id, user, add=True))

    @delete("/{comment_id:int}/vote", operation_id="withdraw_comment_vote", guards=[requires_active_user],
            status_code=HTTP_200_OK)
    async def withdraw_comment_vote(self, user: NamedDependency[Viewer], comment_id: FromPath[Id]) -> Score:
        """Withdraw one's helpful vote."""
        async with sql.transaction():
            return Score(await posting.vote(comment_id, user, add=False))


ROUTES: list[Any] = [ThreadController, CommentController]
