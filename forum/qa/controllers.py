"""Routes: the coaches' question list, question leases, stats, and accepting an answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from forum.auth import Viewer, requires_active_user, requires_coach
from forum.pagination import DEFAULT_LIMIT, Cursor, Id, Limit
from forum.qa import services, worklist
from forum.qa.schemas import (
    AnswerAccepted,
    CoachQuestionPage,
    CoachStats,
    QuestionClaim,
    UrgentHidden,
    UrgentHide,
    UrgentResolve,
    UrgentResolved,
    WorklistPage,
)
from moderation import crisis
from moderation.schemas import ItemState

QuestionStatus = Annotated[
    Literal["unanswered", "answered", "accepted"],
    QueryParameter(description="unanswered (default), answered or accepted"),
]


class CoachController(Controller):
    path = "/api/coach"
    tags = ("coach Q&A",)
    guards = (requires_coach,)

    @get("/questions", operation_id="list_coach_questions")
    async def list_coach_questions(self, user: NamedDependency[Viewer], status: QuestionStatus = "unanswered",
                                   limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> CoachQuestionPage:
        """Questions in a status, urgent first then oldest, private ones included."""
        page = await services.list_questions(status, limit, cursor, user)
        return msgspec.convert(page, CoachQuestionPage)

    @post("/questions/{question_id:int}/claim", operation_id="claim_coach_question", status_code=HTTP_200_OK)
    async def claim_coach_question(self, user: NamedDependency[Viewer], question_id: FromPath[Id]) -> QuestionClaim:
        """A 5-minute lease on a question, so two coaches do not answer at once (409 when held)."""
        return msgspec.convert(await services.claim_question(question_id, user), QuestionClaim)

    @get("/stats", operation_id="get_coach_stats")
    async def get_coach_stats(self) -> CoachStats:
        """Unanswered questions, minutes to the first coach answer, answers per coach (30 days);
        urgent items open now and minutes from opening to closing (30 days)."""
        return msgspec.convert(await services.stats(), CoachStats)

    @get("/worklist", operation_id="get_coach_worklist")
    async def get_coach_worklist(self, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> WorklistPage:
        """Open urgent (crisis) items of every kind, oldest first, then unanswered questions,
        oldest first; each with its post as a coach reads it (none when withdrawn)."""
        return msgspec.convert(await worklist.worklist(limit, cursor), WorklistPage)

    @post("/urgent/{item_id:int}/claim", operation_id="claim_urgent_item", status_code=HTTP_200_OK)
    async def claim_urgent_item(self, user: NamedDependency[Viewer], item_id: FromPath[Id]) -> ItemState:
        """A 5-minute lease on an urgent item, so one coach answers (409 while another holds it)."""
        return msgspec.convert(await crisis.claim(user, item_id), ItemState)

    @post("/urgent/{item_id:int}/release", operation_id="release_urgent_item", status_code=HTTP_200_OK)
    async def release_urgent_item(self, user: NamedDependency[Viewer], item_id: FromPath[Id]) -> ItemState:
        """Drop your lease on an urgent item."""
        return msgspec.convert(await crisis.release(user, item_id), ItemState)

    @post("/urgent/{item_id:int}/hide", operation_id="hide_urgent_post", status_code=HTTP_200_OK)
    async def hide_urgent_post(self, user: NamedDependency[Viewer], item_id: FromPath[Id],
                               data: JSONBody[UrgentHide]) -> UrgentHidden:
        """Hide the post from everyone but its author and staff (held for a moderator); audited.
        The urgent item stays open."""
        reason = (data.reason or "").strip() or None
        return msgspec.convert(await crisis.hide(user, item_id, reason), UrgentHidden)

    @post("/urgent/{item_id:int}/resolve", operation_id="resolve_urgent_item", status_code=HTTP_200_OK)
    async def resolve_urgent_item(self, user: NamedDependency[Viewer], item_id: FromPath[Id],
                                  data: JSONBody[UrgentResolve]) -> UrgentResolved:
        """Close an urgent item once the person has been answered; audited with the response time."""
        note = (data.note or "").strip() or None
        return msgspec.convert(await crisis.resolve(user, item_id, note), UrgentResolved)


class AcceptController(Controller):
    path = "/api/comments"
    tags = ("coach Q&A",)
    guards = (requires_active_user,)

    @post("/{comment_id:int}/accept", operation_id="accept_answer", status_code=HTTP_200_OK)
    async def accept_answer(self, user: NamedDependency[Viewer], comment_id: FromPath[Id]) -> AnswerAccepted:
        """The question's asker or a coach marks this reply as the accepted answer."""
        return AnswerAccepted(**await services.accept_answer(comment_id, user))


ROUTES: list[Any] = [CoachController, AcceptController]
