"""Piccolo configuration (PICCOLO_CONF=forum.piccolo_conf). No connection is opened here."""

import os

from piccolo.conf.apps import AppRegistry

from forum.db import engine

if os.environ.get("DATABASE_URL") and not engine.config:
    engine.config = {"dsn": os.environ["DATABASE_URL"]}

DB = engine

APP_REGISTRY = AppRegistry(apps=["forum.piccolo_app", "moderation.piccolo_app"])
