"""The domains that make up the API, and their start-up and shut-down hooks.

Each domain package exposes `controllers.ROUTES` (a list of controllers/handlers) and
may have a `lifecycle` module with `async def on_startup(app, settings, listener)` and
`async def on_shutdown(app)` (background tasks, event handlers).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

DOMAINS = (
    "forum.accounts",
    "forum.topics",
    "forum.articles",
    "forum.comments",
    "forum.qa",
    "forum.notifications",
    "forum.live",
    "forum.search",
    "forum.transfer",
    "forum.site",
    "forum.frontend",
    "forum.console",
    "forum.account_pages",
    "forum.feeds",
    "moderation",
)


def domain_route_handlers() -> list[Any]:
    handlers: list[Any] = []
    for package in DOMAINS:
        module = importlib.import_module(f"{package}.controllers")
        handlers.extend(module.ROUTES)
    return handlers


def _lifecycles() -> list[Any]:
    out = []
    for package in DOMAINS:
        if importlib.util.find_spec(f"{package}.lifecycle") is not None:
            out.append(importlib.import_module(f"{package}.lifecycle"))
    return out


async def on_startup(app: Any, settings: Any, listener: Any) -> None:
    for module in _lifecycles():
        hook = getattr(module, "on_startup", None)
        if hook is not None:
            await hook(app, settings, listener)


async def on_shutdown(app: Any) -> None:
    for module in reversed(_lifecycles()):
        hook = getattr(module, "on_shutdown", None)
        if hook is not None:
            await hook(app)
