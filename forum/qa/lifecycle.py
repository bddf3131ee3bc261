"""Start-up of the Q&A domain: the unanswered-questions gauge, read at scrape time."""

from __future__ import annotations

from typing import Any

from forum import metrics, sql


async def _scrape_unanswered() -> None:
    metrics.QUESTIONS_UNANSWERED.set(await sql.fetchval(
        "SELECT count(*) FROM comment WHERE kind = 'question' AND status = 'published'"
        " AND question_status = 'unanswered'"))


async def on_startup(app: Any, settings: Any, listener: Any) -> None:
    metrics.on_scrape(_scrape_unanswered)
