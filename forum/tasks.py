"""Background tasks owned by the app's lifespan (event listener, mail sender, sweeps)."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(task: asyncio.Task[object] | None) -> None:
    """Cancel a background task and wait for it to finish; its own errors are not ours to raise
    at shutdown (each task logs what went wrong while it ran)."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
