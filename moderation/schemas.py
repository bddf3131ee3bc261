"""Request and response schemas of the moderation API (msgspec)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from forum.accounts.schemas import AccountStatus, Role, UserRef
from forum.comments.schemas import CommentStatus
from forum.pagination import IdField

FlagReason = Literal["spam", "abuse", "selling_or_sourcing", "dangerous_advice", "personal_information",
                     "self_harm_risk", "off_topic", "other"]
FLAG_REASONS: tuple[str, ...] = ("spam", "abuse", "selling_or_sourcing", "dangerous_advice",
                                 "personal_information", "self_harm_risk", "off_topic", "other")
QueueName = Literal["pending", "reported", "urgent"]
Action = Literal["approve", "reject", "spam", "dismiss", "edit_approve"]
# what closed an item: a moderator's action, or (urgent items) a coach's answer or resolve
ItemDecision = Literal["approve", "reject", "spam", "dismiss", "edit_approve", "answered", "resolved"]
BulkAction = Literal["approve", "reject", "spam", "dismiss"]
ItemStatus = Literal["open", "decided"]
TargetType = Literal["comment", "topic"]

Reason = Annotated[str, msgspec.Meta(max_length=1000)]
Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]
Word = Annotated[str, msgspec.Meta(max_length=200)]
WordList = Annotated[list[Word], msgspec.Meta(max_length=20000)]


class FlagCreate(msgspec.Struct, forbid_unknown_fields=False):
    reason: FlagReason
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class FlagRead(msgspec.Struct):
    id: int
    comment_id: int
    reason: FlagReason
    note: str | None
    created_at: datetime


class DecisionCreate(msgspec.Struct):
    action: Action
    reason: Reason | None = None
    body: Annotated[str, msgspec.Meta(max_length=40000)] | None = None
    suspend_days: Days | None = None


class BulkDecisionCreate(msgspec.Struct):
    item_ids: Annotated[list[IdField], msgspec.Meta(min_length=1, max_length=100)]
    action: BulkAction
    reason: Reason | None = None


class SuspendCreate(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    days: Days | None = None


class UnsuspendCreate(msgspec.Struct):
    reason: Reason | None = None


class RulesWrite(msgspec.Struct):
    """PUT replaces the whole set: every field is required."""

    banned_words: WordList
    suspect_words: WordList
    crisis_words: WordList
    max_links_untrusted: Annotated[int, msgspec.Meta(ge=0, le=1000)]
    trusted_after_approved: Annotated[int, msgspec.Meta(ge=0, le=1000)]
    flag_hide_threshold: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    edit_window_minutes: Annotated[int, msgspec.Meta(ge=0, le=525600)]
    premoderate_all: bool
    crisis_message: Annotated[str, msgspec.Meta(max_length=4000)]
    # publish (default) | hold; omitted or null keeps the value in force (older clients)
    crisis_posts: Literal["publish", "hold"] | None = None


class RulesRead(msgspec.Struct):
    banned_words: list[str]
    suspect_words: list[str]
    crisis_words: list[str]
    max_links_untrusted: int
    trusted_after_approved: int
    flag_hide_threshold: int
    edit_window_minutes: int
    premoderate_all: bool
    crisis_message: str
    crisis_posts: str
    updated_at: datetime | None
    updated_by: UserRef | None


class QueueCounts(msgspec.Struct):
    pending: int
    reported: int
    urgent: int


class QueuePage(msgspec.Struct):
    items: list[dict[str, Any]]
    next_cursor: str | None


class ItemState(msgspec.Struct):
    id: int
    queue: QueueName
    status: ItemStatus
    target_type: TargetType
    comment_id: int | None
    topic_id: int | None
    claimed_by: UserRef | None
    claim_expires_at: datetime | None
    decision: ItemDecision | None = None
    decision_reason: str | None = None
    decided_at: datetime | None = None
    target_status: CommentStatus | None = None
    closed_item_ids: list[int] = []


class BulkResult(msgspec.Struct):
    item_id: int
    status_code: int
    ok: bool
    detail: str | None = None
    item: ItemState | None = None


class BulkResults(msgspec.Struct):
    results: list[BulkResult]


class LogEntry(msgspec.Struct):
    id: int
    actor: UserRef | None
    actor_id: int | None
    action: str
    target_type: str
    target_id: int | None
    reason: str | None
    details: dict[str, Any]
    created_at: datetime


class LogPage(msgspec.Struct):
    items: list[LogEntry]
    next_cursor: str | None


class UserComment(msgspec.Struct):
    id: int
    topic_slug: str
    status: CommentStatus
    body_html: str
    created_at: datetime


class ModeratorUserView(msgspec.Struct):
    id: int
    handle: str | None
    role: Role
    status: AccountStatus
    suspended_until: datetime | None
    suspension_reason: str | None
    created_at: datetime
    published_count: int
    rejected_count: int
    pending_count: int
    flagged_count: int
    flags_received: int
    recent_comments: list[UserComment]


class SuspensionState(msgspec.Struct):
    id: int
    status: AccountStatus
    suspended_until: datetime | None


class TrialCreate(msgspec.Struct):
    """POST /api/moderation/rules/try: a text to judge (nothing is posted)."""

    body: Annotated[str, msgspec.Meta(min_length=1, max_length=40000)]
    author: Literal["guest", "new_reader", "trusted_reader"] = "new_reader"
    topic_mode: Literal["open", "premoderated"] = "open"


class TrialVerdict(msgspec.Struct):
    outcome: Literal["published", "pending", "refused"]
    reasons: list[str]
    urgent: bool
    support: str | None
    matched: dict[str, str]  # banned | suspect | crisis -> the first entry of that list the text matched
    links: int
    author: str
