"""Response bodies of the coach Q&A routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from forum.accounts.schemas import UserRef
from forum.comments.schemas import CommentStatus, QuestionStatus


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
    unanswered_over_24h: int = 0  # of `unanswered`, those waiting for more than 24 hours
    urgent_open: int = 0
    urgent_closed: int = 0  # urgent items closed in the last 30 days
    urgent_median_response_minutes: float | None = None
    urgent_p90_response_minutes: float | None = None


class TopicRef(msgspec.Struct):
    id: int
    slug: str
    title: str


class WorkPost(msgspec.Struct):
    kind: Literal["comment", "question", "discussion", "article"]
    status: CommentStatus  # a held or hidden post is pending
    private: bool
    body_html: str
    author: UserRef | None
    guest_name: str | None
    question_status: QuestionStatus | None
    created_at: datetime


class WorklistEntry(msgspec.Struct):
    kind: Literal["urgent", "question"]
    item_id: int | None  # the urgent moderation item (claim, hide, resolve it); None for a question
    reasons: list[str]  # crisis_word, self_harm_risk
    withdrawn: bool  # the author deleted the post or erased the account: no text, still open
    withdrawn_at: datetime | None
    target_type: Literal["comment", "topic"]
    comment_id: int | None
    topic: TopicRef | None
    post: WorkPost | None  # None when withdrawn
    claimed_by: UserRef | None
    claim_expires_at: datetime | None
    created_at: datetime


class WorklistPage(msgspec.Struct):
    items: list[WorklistEntry]
    next_cursor: str | None


class UrgentHide(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class UrgentResolve(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class UrgentHidden(msgspec.Struct):
    item_id: int
    target_type: Literal["comment", "topic"]
    target_id: int
    target_status: CommentStatus


class UrgentResolved(msgspec.Struct):
    item_id: int
    status: Literal["decided"]
    decision: Literal["resolved"]
    decided_at: datetime
    response_minutes: float
