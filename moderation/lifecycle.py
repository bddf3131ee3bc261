"""Start-up and shut-down of moderation: queue-size gauges, the suspension sweep."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from forum import metrics
from forum.tasks import cancel_and_wait

log = logging.getLogger("forum.moderation")
SWEEP_INTERVAL_S = 60.0
_sweeper: asyncio.Task[None] | None = None


async def _queue_gauges() -> None:
    from moderation.services import queue_counts

    for queue, count in (await queue_counts()).items():
        metrics.QUEUE_OPEN.labels(queue).set(count)


async def _sweep_forever() -> None:
    from moderation.services import expire_suspensions

    while True:
        try:
            ended = await expire_suspensions()
            if ended:
                log.info("%d suspensions ended by date", ended)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("suspension sweep failed: %s", exc)
        await asyncio.sleep(SWEEP_INTERVAL_S)


async def on_startup(app: Any, settings: Any, listener: Any) -> None:
    global _sweeper
    metrics.on_scrape(_queue_gauges)
    if _sweeper is None or _sweeper.done():
        _sweeper = asyncio.create_task(_sweep_forever(), name="moderation-suspension-sweep")


async def on_shutdown(app: Any) -> None:
    global _sweeper
    task, _sweeper = _sweeper, None
    await cancel_and_wait(task)
