"""What is kept about people only for a while, and the periodic sweep that removes it:
expired rate-limit buckets, idempotency keys past 24 hours, used or expired email
confirmations, erased handles past their hold. Each sweep is a few indexed DELETEs, run by
every process (they are idempotent, so several processes sweeping at once do no harm)."""

from __future__ import annotations

import asyncio
import logging

from forum import ratelimit, sql
from forum.comments import idempotency

log = logging.getLogger("forum.retention")

SWEEP_INTERVAL_S = 300.0
CONFIRMATION_KEEP_S = 24 * 3600  # a used or expired confirmation row, then it goes


async def sweep() -> dict[str, int]:
    """One round; returns how many rows of each kind went."""
    gone = {"rate_limit_bucket": await ratelimit.sweep(),
            "idempotency_key": await idempotency.sweep()}
    status = await sql.execute(
        "DELETE FROM email_confirmation WHERE expires_at < now() - $1 * interval '1 second'"
        " OR used_at < now() - $1 * interval '1 second'", CONFIRMATION_KEEP_S)
    gone["email_confirmation"] = sql.rowcount(status)
    status = await sql.execute("DELETE FROM erased_handle WHERE held_until < now()")
    gone["erased_handle"] = sql.rowcount(status)
    return gone


async def sweep_forever(interval_s: float = SWEEP_INTERVAL_S) -> None:
    while True:
        try:
            gone = await sweep()
            if any(gone.values()):
                log.debug("retention sweep: %s", gone)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # database away: try again next round
            log.warning("retention sweep failed: %s", type(exc).__name__)
        await asyncio.sleep(interval_s)
