"""Routes: the coaches' question list, question leases, stats, and accepting an answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK

from forum.auth import Viewer, requires_active_user, requires_coach
from forum.pagination import DEFAULT_LIMIT, Cursor, Id, Limit
from forum.qa import services
from forum.qa.schemas import AnswerAccepted, CoachQuestionPage, CoachStats, QuestionClaim

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
        """Unanswered questions, minutes to the first coach answer, answers per coach (30 days)."""
        return msgspec.convert(await services.stats(), CoachStats)


class AcceptController(Controller):
    path = "/api/comments"
    tags = ("coach Q&A",)
    guards = (requires_active_user,)

    @post("/{comment_id:int}/accept", operation_id="accept_answer", status_code=HTTP_200_OK)
    async def accept_answer(self, user: NamedDependency[Viewer], comment_id: FromPath[Id]) -> AnswerAccepted:
        """The question's asker or a coach marks this reply as the accepted answer."""
        return AnswerAccepted(**await services.accept_answer(comment_id, user))


ROUTES: list[Any] = [CoachController, AcceptController]
