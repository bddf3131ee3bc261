"""HTTP routes of moderation: flags, queues, claims, decisions, the log, users, rules."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from forum.auth import Viewer, requires_active_user, requires_admin, requires_moderator
from forum.errors import BadRequest
from forum.pagination import DEFAULT_LIMIT, MAX_ID, Cursor, Id, Limit
from moderation import services, trial
from moderation.schemas import (
    BulkDecisionCreate,
    BulkResults,
    DecisionCreate,
    FlagCreate,
    FlagRead,
    ItemState,
    LogPage,
    ModeratorUserView,
    QueueCounts,
    QueueName,
    QueuePage,
    RulesRead,
    RulesWrite,
    SuspendCreate,
    SuspensionState,
    TrialCreate,
    TrialVerdict,
    UnsuspendCreate,
)

RULES_MAX_BODY_BYTES = 2 * 1024 * 1024

QueueParam = Annotated[QueueName, QueryParameter(description="pending (default), reported or urgent")]
OptionalId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]
ActionFilter = Annotated[str | None, QueryParameter(max_length=64, description="e.g. approve, reject, suspend")]
TargetTypeFilter = Annotated[str | None, QueryParameter(max_length=32, description="comment, topic, user, rules")]


class FlagController(Controller):
    path = "/api/comments"
    tags = ("moderation",)
    guards = (requires_active_user,)

    @post("/{comment_id:int}/flags", operation_id="create_flag", status_code=HTTP_201_CREATED)
    async def create_flag(self, user: NamedDependency[Viewer], comment_id: FromPath[Id],
                          data: JSONBody[FlagCreate]) -> FlagRead:
        """Flag a comment you can see (one flag per user per comment; 409 after)."""
        return msgspec.convert(await services.create_flag(user, comment_id, data.reason, data.note), FlagRead)


class ModerationController(Controller):
    path = "/api/moderation"
    tags = ("moderation",)
    guards = (requires_moderator,)

    @get("/queues", operation_id="get_queue_counts")
    async def get_queue_counts(self) -> QueueCounts:
        """Counts of open items per queue."""
        return QueueCounts(**await services.queue_counts())

    @get("/queue", operation_id="list_queue_items")
    async def list_queue_items(self, queue: QueueParam = "pending", limit: Limit = DEFAULT_LIMIT,
                               cursor: Cursor = None) -> QueuePage:
        """Open items of one queue, oldest first, with their comment, author summary and flags."""
        return QueuePage(**await services.list_queue(queue, limit, cursor))

    @post("/items/{item_id:int}/claim", operation_id="claim_item", status_code=HTTP_200_OK)
    async def claim_item(self, user: NamedDependency[Viewer], item_id: FromPath[Id]) -> ItemState:
        """A 5-minute lease on an item (409 while another moderator holds one)."""
        return msgspec.convert(await services.claim(user, item_id), ItemState)

    @post("/items/{item_id:int}/release", operation_id="release_item", status_code=HTTP_200_OK)
    async def release_item(self, user: NamedDependency[Viewer], item_id: FromPath[Id]) -> ItemState:
        """Drop your lease on an item."""
        return msgspec.convert(await services.release(user, item_id), ItemState)

    @post("/items/{item_id:int}/decision", operation_id="decide_item", status_code=HTTP_200_OK)
    async def decide_item(self, user: NamedDependency[Viewer], item_id: FromPath[Id],
                          data: JSONBody[DecisionCreate]) -> ItemState:
        """approve, reject, spam, dismiss or edit_approve an item (409 when decided or held by another)."""
        state = await services.decide(user, item_id, data.action, data.reason, data.body, data.suspend_days)
        return msgspec.convert(state, ItemState)

    @post("/bulk", operation_id="bulk_decide", status_code=HTTP_200_OK)
    async def bulk_decide(self, user: NamedDependency[Viewer], data: JSONBody[BulkDecisionCreate]) -> BulkResults:
        """The same decision on many items: one result per item, each applied atomically."""
        results = await services.bulk_decide(user, list(data.item_ids), data.action, data.reason)
        return msgspec.convert({"results": results}, BulkResults)

    @get("/log", operation_id="list_audit_log")
    async def list_audit_log(self, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
                             actor_id: OptionalId = None, target_id: OptionalId = None,
                             action: ActionFilter = None, target_type: TargetTypeFilter = None) -> LogPage:
        """The audit log, newest first."""
        page = await services.audit_log(limit, cursor, actor_id, target_id, action, target_type)
        return msgspec.convert(page, LogPage)

    @get("/users/{user_id:int}", operation_id="get_moderated_user")
    async def get_moderated_user(self, user_id: FromPath[Id]) -> ModeratorUserView:
        """A user as moderators see them: role, status, counts, recent comments (never the email)."""
        return msgspec.convert(await services.user_view(user_id), ModeratorUserView)

    @post("/users/{user_id:int}/suspend", operation_id="suspend_user", status_code=HTTP_200_OK)
    async def suspend_user(self, user: NamedDependency[Viewer], user_id: FromPath[Id],
                           data: JSONBody[SuspendCreate]) -> SuspensionState:
        """Suspend for `days`, or until lifted when no days are given; `reason` is required."""
        reason = data.reason.strip()
        if not reason:
            raise BadRequest("reason: say why the account is suspended.")
        return msgspec.convert(await services.suspend_user(user, user_id, data.days, reason), SuspensionState)

    @post("/users/{user_id:int}/unsuspend", operation_id="unsuspend_user", status_code=HTTP_200_OK)
    async def unsuspend_user(self, user: NamedDependency[Viewer], user_id: FromPath[Id],
                             data: JSONBody[UnsuspendCreate | None] = None) -> SuspensionState:
        """Lift a suspension."""
        reason = (data.reason or "").strip() or None if data is not None else None
        return msgspec.convert(await services.unsuspend_user(user, user_id, reason), SuspensionState)

    @get("/rules", operation_id="get_moderation_rules")
    async def get_moderation_rules(self) -> RulesRead:
        """Word lists and thresholds in force."""
        return msgspec.convert(await services.get_rules(), RulesRead)

    @post("/rules/try", operation_id="try_moderation_rules", status_code=HTTP_200_OK)
    async def try_moderation_rules(self, data: JSONBody[TrialCreate]) -> TrialVerdict:
        """The verdict the rules in force would give this text from this kind of author, without
        posting anything (no repeat check, no posting limit, nobody alerted)."""
        return msgspec.convert(await trial.try_text(data.body, data.author, data.topic_mode), TrialVerdict)

    # The whole rule set is one document: 5,000 banned + 5,000 suspect entries are about
    # 150 KB of JSON, past the site-wide FORUM_MAX_BODY_BYTES (64 KiB) meant for posts and
    # forms. Only an admin reaches this handler; the entries are capped by the schema.
    @put("/rules", operation_id="replace_moderation_rules", guards=[requires_admin],
         request_max_body_size=RULES_MAX_BODY_BYTES)
    async def replace_moderation_rules(self, user: NamedDependency[Viewer], data: JSONBody[RulesWrite]) -> RulesRead:
        """Replace the whole rule set (admin); the change is audited with before/after."""
        return msgspec.convert(await services.put_rules(user, msgspec.structs.asdict(data)), RulesRead)


ROUTES: list[Any] = [FlagController, ModerationController]
