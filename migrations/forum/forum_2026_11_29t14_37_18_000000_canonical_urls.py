"""Topic addresses in their canonical form (forum/topics/urls.py, issue 18).

Before this, a topic's `url` was stored as written, so `https://blog.example/a/` and
`https://blog.example/a?utm_source=x` could name one article twice. Every write and lookup
now goes through `canonical_url`; this rewrites the addresses stored before.

Two stored addresses may have one canonical form. Only one topic can keep it (the unique
index `topic_url_uq` stays): the one that already stores exactly the canonical form, else
the one with the most public comments, else the oldest. The others keep their address as
it was (nothing is lost; they can no longer be found by address) and are named in the
log, for an admin to merge. An address that is not a valid http(s) one stays as it was.
"""

from __future__ import annotations

import logging

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from forum.topics.urls import InvalidUrl, canonical_url
from migrations.raw import RawTable

ID = "2026-11-29T14:37:18:000000"
VERSION = "1.38.0"
DESCRIPTION = "topic.url in its canonical form (one article, one thread)"

log = logging.getLogger("forum.migrations")


def plan(rows: list[dict]) -> tuple[dict[int, str], list[tuple[int, int, str]]]:
    """(new address per topic id, (kept id, left-alone id, canonical) per duplicate)."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        try:
            groups.setdefault(canonical_url(row["url"]), []).append(row)
        except InvalidUrl:
            continue
    changes: dict[int, str] = {}
    duplicates: list[tuple[int, int, str]] = []
    for canonical, members in groups.items():
        members.sort(key=lambda r: (r["url"] != canonical, -r["comment_count"], r["id"]))
        keeper, *others = members
        if keeper["url"] != canonical:
            changes[keeper["id"]] = canonical
        duplicates += [(keeper["id"], other["id"], canonical) for other in others]
    return changes, duplicates


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="forum", description=DESCRIPTION)

    async def run() -> None:
        rows = await RawTable.raw("SELECT id, url, comment_count FROM topic WHERE url IS NOT NULL ORDER BY id")
        changes, duplicates = plan(list(rows))
        for topic_id, url in sorted(changes.items()):
            await RawTable.raw("UPDATE topic SET url = {} WHERE id = {}", url, topic_id)
        for keeper, other, canonical in duplicates:
            log.warning("topic %s keeps the address %s; topic %s names the same article and keeps its old"
                        " address: merge them", keeper, canonical, other)

    manager.add_raw(run)
    return manager
