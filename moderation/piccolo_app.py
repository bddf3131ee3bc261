"""Piccolo app `moderation`: rules, queue items, flags, audit log."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from moderation.tables import AuditLog, Flag, ModerationItem, ModerationRules

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations" / "moderation"

APP_CONFIG = AppConfig(
    app_name="moderation",
    migrations_folder_path=str(MIGRATIONS),
    table_classes=[ModerationRules, ModerationItem, Flag, AuditLog],
    migration_dependencies=["forum.piccolo_app"],
    commands=[],
)
