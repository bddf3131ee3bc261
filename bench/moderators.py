"""A team of moderators working the pending queue through the API, as people do: read a
page, take an item they hold or a free one, claim it, approve it. Shared by scenarios 5, 9
and 11 (one loop, one tally), so their figures count the same things."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from bench import client


@dataclass
class Desk:
    """What the team did: decisions by item (a count above 1 is a decision made twice),
    latencies of every request, 409s of competing moderators, anything else unexpected."""

    decided: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    unexpected: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0
    reads: int = 0

    def odd(self, what: str) -> None:
        self.unexpected[what] = self.unexpected.get(what, 0) + 1

    async def timed(self, c: client.Client, method: str, url: str, **kw: Any) -> client.Reply:
        t0 = time.perf_counter()
        r = await c.request(method, url, **kw)
        self.latencies.append(time.perf_counter() - t0)
        return r


def _holder(item: dict[str, Any]) -> Any:
    h = item.get("claimed_by")
    return h.get("id") if isinstance(h, dict) else h


async def work(desk: Desk, base_url: str, token: str, uid: int, *, until: Callable[[], bool],
               wanted: Callable[[dict[str, Any]], bool] = lambda _: True, idle_s: float = 0.02,
               stop_when_empty: bool = True, max_unexpected: int = 200) -> None:
    """One moderator (`uid`, signed in with `token`) deciding until `until()` says stop, the
    queue has nothing `wanted` left (with `stop_when_empty`), or too much went wrong."""
    rnd = random.Random(uid)
    async with client.Client(base_url, {"Authorization": f"Bearer {token}"}) as c:
        while not until():
            r = await desk.timed(c, "GET", "/api/moderation/queue", params={"queue": "pending", "limit": 20})
            desk.reads += 1
            if r.status_code != 200:
                desk.odd(f"queue {r.status_code}")
                await asyncio.sleep(0.05)
                continue
            items = [i for i in r.json().get("items", []) if wanted(i)]
            if not items and stop_when_empty:
                return
            mine = [i for i in items if _holder(i) == uid]
            free = [i for i in items if _holder(i) in (None, uid)]
            if not free:
                await asyncio.sleep(idle_s)  # nothing to take yet: look again shortly
                continue
            iid = (mine[0] if mine else rnd.choice(free))["id"]
            if not mine:
                cr = await desk.timed(c, "POST", f"/api/moderation/items/{iid}/claim")
                if cr.status_code == 409:
                    desk.conflicts += 1
                    continue
                if cr.status_code != 200:
                    desk.odd(f"claim {cr.status_code}")
                    continue
            dr = await desk.timed(c, "POST", f"/api/moderation/items/{iid}/decision", json_body={"action": "approve"})
            if dr.status_code in (200, 201):
                desk.decided[iid] = desk.decided.get(iid, 0) + 1
            elif dr.status_code == 409:
                desk.conflicts += 1
            else:
                desk.odd(f"decision {dr.status_code}")
            if sum(desk.unexpected.values()) > max_unexpected:
                return


async def audited_twice(conn: asyncpg.Connection, since: datetime) -> int:
    """Targets with more than one audit entry since `since` (a decision recorded twice)."""
    return int(await conn.fetchval(
        "SELECT count(*) FROM (SELECT target_type, target_id FROM audit_log WHERE created_at >= $1"
        " GROUP BY target_type, target_id HAVING count(*) > 1) d", since))
