from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text, Varchar

ID = "2026-11-26T18:41:15:877356"
VERSION = "1.38.0"
DESCRIPTION = "True"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="forum", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="User",
        tablename="forum_user",
        column_name="handle",
        db_column_name="handle",
        params={"default": None},
        old_params={"default": ""},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="User",
        tablename="forum_user",
        column_name="email",
        db_column_name="email",
        params={"default": None},
        old_params={"default": ""},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="User",
        tablename="forum_user",
        column_name="password_hash",
        db_column_name="password_hash",
        params={"default": None},
        old_params={"default": ""},
        column_class=Text,
        old_column_class=Text,
        schema=None,
    )

    manager.alter_column(
        table_class_name="User",
        tablename="forum_user",
        column_name="suspension_reason",
        db_column_name="suspension_reason",
        params={"default": None},
        old_params={"default": ""},
        column_class=Text,
        old_column_class=Text,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Topic",
        tablename="topic",
        column_name="url",
        db_column_name="url",
        params={"default": None},
        old_params={"default": ""},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Comment",
        tablename="comment",
        column_name="guest_name",
        db_column_name="guest_name",
        params={"default": None},
        old_params={"default": ""},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Comment",
        tablename="comment",
        column_name="author_badge",
        db_column_name="author_badge",
        params={"default": None},
        old_params={"default": ""},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Comment",
        tablename="comment",
        column_name="question_status",
        db_column_name="question_status",
        params={"default": None},
        old_params={"default": ""},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Notification",
        tablename="notification",
        column_name="reason",
        db_column_name="reason",
        params={"default": None},
        old_params={"default": ""},
        column_class=Text,
        old_column_class=Text,
        schema=None,
    )

    manager.alter_column(
        table_class_name="EmailOutbox",
        tablename="email_outbox",
        column_name="last_error",
        db_column_name="last_error",
        params={"default": None},
        old_params={"default": ""},
        column_class=Text,
        old_column_class=Text,
        schema=None,
    )

    return manager
