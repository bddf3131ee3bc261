"""Prometheus metrics (prometheus-client): requests, latencies, pool usage, queue sizes.

With several workers, `forum serve` sets PROMETHEUS_MULTIPROC_DIR so every worker
writes to shared files and any worker can answer a scrape for all of them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "forum_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "forum_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
POOL_SIZE = Gauge("forum_db_pool_connections", "Open database connections in the pool", multiprocess_mode="livesum")
POOL_IN_USE = Gauge("forum_db_pool_in_use", "Database connections in use", multiprocess_mode="livesum")
QUEUE_OPEN = Gauge("forum_moderation_queue_open_items", "Open moderation items by queue", ["queue"],
                   multiprocess_mode="mostrecent")
QUESTIONS_UNANSWERED = Gauge("forum_questions_unanswered", "Questions waiting for a coach",
                             multiprocess_mode="mostrecent")
OUTBOX_PENDING = Gauge("forum_email_outbox_pending", "Emails waiting in the outbox", multiprocess_mode="mostrecent")

# Collectors other modules register: async callables run at scrape time (e.g. queue sizes).
_scrape_hooks: list[Callable[[], Awaitable[None]]] = []


def on_scrape(hook: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    if hook not in _scrape_hooks:
        _scrape_hooks.append(hook)
    return hook


# The labelled children per (method, route, status): `labels()` validates and locks on
# every call, a dict lookup does not. Bounded: routes are templates, methods and statuses few.
_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
_MAX_CHILDREN = 2000


def observe(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    children = _children.get(key)
    if children is None:
        children = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
        if len(_children) < _MAX_CHILDREN:
            _children[key] = children
    children[0].inc()
    children[1].observe(seconds)


async def render() -> tuple[bytes, str]:
    for hook in list(_scrape_hooks):
        with contextlib.suppress(Exception):  # a scrape must not fail because one gauge could not be read
            await hook()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
