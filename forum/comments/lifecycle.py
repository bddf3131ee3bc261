"""Start-up of the comments domain: this process's thread-page cache and its invalidation,
the shared version reads of thread requests (forum/coalesce.py), and the Markdown render
pool (forum/markup.py: rendering never runs on the event loop)."""

from __future__ import annotations

from typing import Any

from forum import markup
from forum.coalesce import SharedReads
from forum.comments.cache import PageCache
from forum.events import EventListener, TopicEvent


def page_cache(app: Any) -> PageCache | None:
    """The app's thread-page cache (None before start-up: pages are then always built)."""
    return getattr(app.state, "thread_pages", None)


def shared_reads(app: Any) -> SharedReads:
    """The app's shared reads (made by create_app, which gives them to the thread-read shortcut too)."""
    reads: SharedReads = app.state.shared_reads
    return reads


async def on_startup(app: Any, settings: Any, listener: EventListener) -> None:
    await markup.start_renderer(settings.render_workers, settings.render_budget_s)
    cache = PageCache(settings.cache_entries)
    app.state.thread_pages = cache

    def on_event(event: TopicEvent) -> None:
        # Only frees memory early: an entry is checked against the topic's version on use.
        if event.kind == "reset":
            cache.clear()
        else:
            cache.drop_topic(event.topic_id, below_version=event.version)

    listener.add_handler(on_event)


async def on_shutdown(app: Any) -> None:
    await markup.stop_renderer()
    cache = page_cache(app)
    if cache is not None:
        cache.clear()
