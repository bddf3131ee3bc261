"""Piccolo app `forum`: accounts, topics, comments, Q&A and notifications."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from forum.accounts.tables import PasswordReset, Session, User
from forum.comments.tables import Comment, CommentRevision, IdempotencyKey, Vote
from forum.notifications.tables import EmailOutbox, Notification
from forum.qa.tables import QuestionClaim
from forum.topics.tables import Topic

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations" / "forum"

APP_CONFIG = AppConfig(
    app_name="forum",
    migrations_folder_path=str(MIGRATIONS),
    table_classes=[
        User, Session, PasswordReset, Topic, Comment, CommentRevision, Vote, IdempotencyKey,
        QuestionClaim, Notification, EmailOutbox,
    ],
    migration_dependencies=[],
    commands=[],
)
