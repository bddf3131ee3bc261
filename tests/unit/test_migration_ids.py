"""Piccolo runs migrations by ID and records each ID once: two files with one ID means the
second never runs (seen when two branches each added one at the same timestamp)."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _ids() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(MIGRATIONS.glob("*/*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "ID" for t in node.targets):
                assert isinstance(node.value, ast.Constant), path
                found.setdefault(path.parent.name, []).append(str(node.value.value))
    return found


def test_every_migration_has_its_own_id() -> None:
    ids = _ids()
    assert set(ids) >= {"forum", "moderation"}
    for app, app_ids in ids.items():
        repeated = [i for i, n in Counter(app_ids).items() if n > 1]
        assert not repeated, f"{app}: migration IDs used twice: {repeated}"
