"""Size budgets of the comment widget (issue 15), gzipped as served over the wire:
embed.js under 3 KB; the widget's JavaScript and CSS under 60 KB (everything the frame
loads, the guest challenge included)."""

from __future__ import annotations

import gzip
from pathlib import Path

from forum.frontend.assets import STATIC_DIR

LOADER_BUDGET = 3 * 1024
WIDGET_BUDGET = 60 * 1024


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def widget_files() -> list[Path]:
    js = sorted((STATIC_DIR / "js" / "widget").glob("*.js")) + sorted((STATIC_DIR / "js" / "lib").glob("*.js"))
    vendor = [STATIC_DIR / "vendor" / n for n in ("preact.mjs", "hooks.mjs", "htm.mjs")]
    challenge = sorted((STATIC_DIR / "vendor" / "altcha").glob("*.js")) + sorted(
        (STATIC_DIR / "vendor" / "altcha").glob("*.css"))
    css = [STATIC_DIR / "css" / "base.css", STATIC_DIR / "css" / "widget.css"]
    return js + vendor + challenge + css


def test_loader_budgets() -> None:
    for name in ("embed.js", "count.js"):
        size = gz(STATIC_DIR / "js" / "loader" / name)
        print(f"\n{name}: {size} bytes gzipped (budget {LOADER_BUDGET})")
        assert size < LOADER_BUDGET, name


def test_widget_budget() -> None:
    files = widget_files()
    assert all(f.is_file() for f in files)
    sizes = {f.relative_to(STATIC_DIR).as_posix(): gz(f) for f in files}
    total = sum(sizes.values())
    print("\n" + "\n".join(f"  {k}: {v}" for k, v in sizes.items()))
    print(f"widget JS+CSS: {total} bytes gzipped (budget {WIDGET_BUDGET})")
    assert total < WIDGET_BUDGET
