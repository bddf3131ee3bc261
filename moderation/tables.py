"""Moderation: the rules (one row), queue items, flags and the append-only audit log."""

from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from forum.accounts.tables import User
from forum.comments.tables import Comment
from forum.topics.tables import Topic


class ModerationRules(Table, tablename="moderation_rules"):
    banned_words = Array(base_column=Text(), default=list)
    suspect_words = Array(base_column=Text(), default=list)
    crisis_words = Array(base_column=Text(), default=list)
    max_links_untrusted = Integer(default=2)
    trusted_after_approved = Integer(default=2)
    flag_hide_threshold = Integer(default=3)
    edit_window_minutes = Integer(default=15)
    premoderate_all = Boolean(default=False)
    crisis_message = Text(default="")
    # crisis_posts varchar(8): publish | hold (raw migration 2026-11-29T11:03:17, with a CHECK)
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)


class ModerationItem(Table, tablename="moderation_item"):
    id = BigSerial(primary_key=True)
    queue = Varchar(length=16)  # pending | reported | urgent
    target_type = Varchar(length=16)  # comment | topic
    comment = ForeignKey(Comment, null=True, on_delete=OnDelete.cascade)
    topic = ForeignKey(Topic, null=True, on_delete=OnDelete.cascade)
    reasons = Array(base_column=Varchar(length=32), default=list)
    status = Varchar(length=16, default="open")  # open | decided
    claimed_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    claim_expires_at = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    decision = Varchar(length=16, null=True, default=None)
    decision_reason = Text(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # Added by the raw migration 2026-11-29T11:03:17 (moderation.crisis): `withdrawn_at`
    # (the author deleted the post or erased the account; the item stays open without its
    # comment) and `origin_topic` (the topic the withdrawn comment was in).


class Flag(Table, tablename="flag"):
    id = BigSerial(primary_key=True)
    comment = ForeignKey(Comment, on_delete=OnDelete.cascade)
    user = ForeignKey(User, on_delete=OnDelete.cascade)
    reason = Varchar(length=32)
    note = Varchar(length=500, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    resolved_at = Timestamptz(null=True, default=None)  # set by the decision that settled it


class AuditLog(Table, tablename="audit_log"):
    """Append-only (a trigger refuses UPDATE, DELETE and TRUNCATE). Never holds user text or emails."""

    id = BigSerial(primary_key=True)
    actor_id = BigInt(null=True)  # no foreign key: history must not change when users do
    action = Varchar(length=64)
    target_type = Varchar(length=32)
    target_id = BigInt(null=True)
    reason = Text(null=True, default=None)
    details = JSONB(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
