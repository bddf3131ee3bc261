"""Moderation services: flags, queues, claims, decisions, suspensions, rules."""

from __future__ import annotations

from forum import sql


async def remove_flags_of(user_id: int) -> None:
    """Account erasure: the user's flags (and their notes) go; items stay for moderators."""
    await sql.execute('DELETE FROM flag WHERE "user" = $1', user_id)
