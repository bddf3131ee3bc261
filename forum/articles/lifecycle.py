"""Start-up and shut-down of the articles domain: the periodic feed sync (FORUM_BLOG_FEED_URL)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from forum.articles.feed import sync_feed
from forum.settings import Settings
from forum.tasks import cancel_and_wait

log = logging.getLogger("forum.articles")
FIRST_RUN_DELAY_S = 5.0  # let the process finish starting first


async def run_periodically(settings: Settings, first_delay_s: float = FIRST_RUN_DELAY_S) -> None:
    """Sync the blog's feed every FORUM_BLOG_FEED_INTERVAL seconds; a failed run is logged
    and the next one tried on time (every worker may run it: the sync is idempotent)."""
    url = settings.blog_feed_url
    if url is None:
        return
    await asyncio.sleep(first_delay_s)
    while True:
        try:
            await sync_feed(url, settings)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a feed that is down must not stop the next run
            log.warning("feed sync of %s failed: %s", url, getattr(exc, "detail", None) or type(exc).__name__)
        await asyncio.sleep(settings.blog_feed_interval_s)


async def on_startup(app: Any, settings: Settings, listener: Any) -> None:
    if settings.blog_feed_url:
        app.state.feed_sync = asyncio.create_task(run_periodically(settings), name="forum-feed-sync")
        log.info("feed sync of %s every %d s", settings.blog_feed_url, settings.blog_feed_interval_s)


async def on_shutdown(app: Any) -> None:
    await cancel_and_wait(getattr(app.state, "feed_sync", None))
    app.state.feed_sync = None
