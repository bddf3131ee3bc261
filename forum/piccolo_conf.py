"""Piccolo configuration (PICCOLO_CONF=forum.piccolo_conf). No connection is opened here."""

import os

from piccolo.conf.apps import AppRegistry

from forum.db import engine
from forum.settings import dsn_from_pg_env

# The same database as the service: DATABASE_URL, else the PG* variables (docker-compose.yml).
_dsn = os.environ.get("DATABASE_URL") or dsn_from_pg_env(os.environ)
if _dsn and not engine.config:
    engine.config = {"dsn": _dsn}

DB = engine

APP_REGISTRY = AppRegistry(apps=["forum.piccolo_app", "moderation.piccolo_app"])
