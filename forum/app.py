"""`create_app(settings)`: the one wiring point."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

import forum
from forum import auth, db, keyed, logs, openapi, pagination, ratelimit
from forum.errors import EXCEPTION_HANDLERS
from forum.events import EventListener
from forum.jsonbody import ForumRequest
from forum.settings import Settings
from forum.web import ForumApp

log = logging.getLogger("forum")
YOUNG_GC_THRESHOLD = 20_000  # the collector's first threshold in a serving process (lifespan below)


def _route_handlers() -> list[Any]:
    """Every controller of every domain (imported here, so importing forum.app stays cheap)."""
    from forum.health import HealthController
    from forum.routes import domain_route_handlers

    return [HealthController, *domain_route_handlers()]


def _template_config() -> Any:
    """The HTML shells of the browser front end (forum/frontend/pages.py)."""
    from forum.frontend.pages import template_config

    return template_config()


def create_app(settings: Settings | None = None, *, dsn: str | None = None) -> Litestar:
    """Build the application. `dsn` overrides the settings' database (the CLI passes the
    embedded server's address); without either, the embedded server must already be up."""
    settings = settings or Settings.from_env()
    database_url = dsn or settings.database_url or os.environ.get("DATABASE_URL")
    if not database_url:
        raise RuntimeError("create_app needs a database: set DATABASE_URL or start it with `forum serve`")
    logs.configure(settings.log_level, settings.log_format)
    pagination.set_secret(settings.secret_key)
    keyed.set_secret(settings.secret_key)  # rate-limit keys, erased-handle holds
    ratelimit.set_factor(settings.rate_limit_factor)
    auth.set_idle_days(settings.session_idle_days)
    from forum.frontend import assets

    assets.set_public_path(urlsplit(settings.public_url).path)  # pages name URLs under FORUM_PUBLIC_URL's path

    listener = EventListener(database_url)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db.configure(database_url, settings)
        await db.open_pool(settings)
        from forum.routes import on_shutdown, on_startup

        listener.start()
        await on_startup(app, settings, listener)
        # What start-up built (routes, schemas, compiled word lists) lives as long as the
        # process: out of the collector's sight, a full collection does not walk it again
        # in the middle of requests (the long pauses behind the slowest answers).
        gc.freeze()
        # Building a thread page holds a few thousand dicts, lists and records until it is
        # encoded, then frees them all: with the young generation's default threshold (700;
        # 2,000 from Python 3.13) each build set off several collections that walked them and
        # promoted them, only for them to be freed a moment later. On a busy article (bench
        # scenario 9, 20 s of load per server) that was about 1,050 young and 8 full
        # collections, 1.2 s of collecting; at 20,000 it was one young collection, 20 ms.
        # Reference cycles are still collected; they are rare on these paths.
        gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
        log.info("forum %s ready (pool %d-%d)", forum.__version__, settings.db_pool_min, settings.db_pool_max)
        try:
            yield
        finally:
            await on_shutdown(app)
            await listener.stop()
            await db.close_pool()

    app = ForumApp(
        route_handlers=_route_handlers(),
        dependencies=auth.DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        request_class=ForumRequest,  # one JSON nesting limit (forum/jsonbody.py)
        # the blogs that embed the widget (FORUM_EMBED_ORIGINS) may also read the API from
        # their pages (count.js); never with credentials
        cors_config=CORSConfig(allow_origins=list(dict.fromkeys((*settings.cors_origins, *settings.embed_origins))),
                               allow_credentials=False,
                               allow_headers=["Authorization", "Content-Type", "Idempotency-Key",
                                              "If-None-Match", "X-Request-ID"],
                               expose_headers=["ETag", "Retry-After", "X-Request-ID", "Idempotent-Replayed"])
        if settings.cors_origins or settings.embed_origins else None,
        openapi_config=OpenAPIConfig(
            title="forum",
            version=forum.__version__,
            description="Discussion backend: topics, threaded comments, moderation, coach Q&A. "
                        "Errors are JSON {status_code, detail}.",
            path="/schema",
            render_plugins=[openapi.SwaggerUI(path="/")],  # served from the package, no CDN
            components=Components(security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="Token from login or register"),
            }),
            use_handler_docstrings=True,
        ),
        template_config=_template_config(),
        debug=False,
        logging_config=None,  # forum.logs configured the process; errors are logged by forum.errors
    )
    from forum.coalesce import SharedReads
    from forum.comments.lifecycle import page_cache
    from forum.comments.shortcut import ThreadReadShortcut

    # the thread route's shared reads (forum/coalesce.py), shared with its shortcut
    reads = app.state.shared_reads = SharedReads(timeout_s=settings.request_timeout_s)
    app.configure_outer(trusted_proxies=settings.trusted_proxies,
                        request_timeout_s=settings.request_timeout_s,
                        metrics_enabled=settings.metrics_enabled,
                        shortcuts=(ThreadReadShortcut(reads, lambda: page_cache(app)),))
    app.state.settings = settings
    app.state.listener = listener
    return app


def create_app_from_env() -> Litestar:
    """Factory for `uvicorn --factory` (each worker builds its own app from the environment)."""
    return create_app(Settings.from_env())
