"""Comments: a materialized-path tree, revisions, helpful votes, idempotency keys."""

from piccolo.columns import (
    JSONB,
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
from forum.topics.tables import Topic


class Comment(Table, tablename="comment"):
    id = BigSerial(primary_key=True)
    topic = ForeignKey(Topic, on_delete=OnDelete.cascade)
    parent: "ForeignKey[Comment]" = ForeignKey("self", null=True, on_delete=OnDelete.no_action)
    root_id = BigInt(null=True)  # the top-level comment of this subtree (itself for a root)
    # Materialized path, one fixed-order segment per ancestor (COLLATE "C" index):
    # a page of a thread in depth-first order is one index range scan.
    path = Varchar(length=2400)
    depth = Integer(default=0)
    kind = Varchar(length=16, default="comment")  # comment | question
    private = Boolean(default=False)  # a private question and every reply under it
    audience = ForeignKey(User, null=True, on_delete=OnDelete.set_null)  # the asker of a private subtree
    status = Varchar(length=16)  # published | pending | rejected | spam | deleted
    author = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    guest_name = Varchar(length=40, null=True, default=None)
    author_badge = Varchar(length=16, null=True, default=None)  # coach | moderator | admin, fixed at write time
    body = Text(default="")  # Markdown source
    body_html = Text(default="")  # sanitized once, at write time
    score = Integer(default=0)
    reply_count = Integer(default=0)  # descendants the public sees
    accepted = Boolean(default=False)
    question_status = Varchar(length=16, null=True, default=None)  # unanswered | answered | accepted (questions only)
    first_answer_at = Timestamptz(null=True, default=None)
    urgent = Boolean(default=False)  # crisis words or a self_harm_risk flag
    first_published_at = Timestamptz(null=True, default=None)  # notifications fire once
    created_at = Timestamptz(default=TimestamptzNow())
    edited_at = Timestamptz(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)


class CommentRevision(Table, tablename="comment_revision"):
    id = BigSerial(primary_key=True)
    comment = ForeignKey(Comment, on_delete=OnDelete.cascade)
    body = Text()
    body_html = Text()
    editor = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class Vote(Table, tablename="vote"):
    comment = ForeignKey(Comment, on_delete=OnDelete.cascade)
    user = ForeignKey(User, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())
    # the voted comment's topic, set and moved by triggers (migration forum_2026_12_07t22_30_00)
    topic = Integer(default=0)


class IdempotencyKey(Table, tablename="idempotency_key"):
    scope = Varchar(length=120)  # "user:<id>" or "guest:<address>"
    key = Varchar(length=200)
    request_hash = Varchar(length=64)
    status_code = Integer(null=True, default=None)  # null while the first request is in flight
    response = JSONB(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
