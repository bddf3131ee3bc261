"""Response bodies of the coach Q&A routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from forum.accounts.schemas import UserRef
from forum.comments.schemas import QuestionStatus


class CoachQuestion(msgspec.Struct):
    id: int  # the question's comment id
    question_status: QuestionStatus
    urgent: bool
    topic_slug: str
    comment: dict[str, Any]  # the comment JSON, as the coach sees it
    claimed_by: UserRef | None
    claim_expires_at: datetime | None
    created_at: datetime


class CoachQuestionPage(msgspec.Struct):
    items: list[CoachQuestion]
    next_cursor: str | None


class QuestionClaim(msgspec.Struct):
    id: int
    claimed_by: UserRef
    claim_expires_at: datetime


class AnswerAccepted(msgspec.Struct):
    accepted: bool
    comment_id: int
    question_id: int
    question_status: QuestionStatus


class CoachAnswers(msgspec.Struct):
    coach: UserRef
    answers: int


class CoachStats(msgspec.Struct):
    unanswered: int
    median_first_answer_minutes: float | None
    p90_first_answer_minutes: float | None
    answered_by_coach: list[CoachAnswers]
