"""Entry points of `forum import ...` and `forum export` (called by forum/cli.py).

An import reads and checks the whole file first, then writes everything in one
transaction: a malformed file, or any failure while writing, changes nothing. A progress
bar (rich, on standard error) shows on a terminal and stays silent otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from forum import sql
from forum.errors import BadRequest
from forum.transfer import jsonio
from forum.transfer.model import Report, Source
from forum.transfer.writer import write_source

KINDS = ("wordpress", "disqus", "json")


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """`advance(n)`; a rich progress bar on an interactive standard error, else nothing."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _read(kind: str, path: Path) -> Source:
    if kind == "wordpress":
        from forum.transfer.wordpress import read_wordpress

        return read_wordpress(path)
    from forum.transfer.disqus import read_disqus

    return read_disqus(path)


async def run_import(kind: str, path: Path) -> str:
    """Import `path` (kind wordpress | disqus | json); returns the report text."""
    if kind not in KINDS:
        raise BadRequest(f"kind: unknown import kind {kind!r} (expected one of {', '.join(KINDS)})")
    path = Path(path)
    if not path.is_file():
        raise BadRequest(f"{path}: no such file")
    if kind == "json":
        with progress_bar(f"importing {path.name}", None) as advance:
            return await jsonio.import_json(path, advance)
    source = _read(kind, path)
    report = Report(system=kind, file=path.name)
    with progress_bar(f"importing {path.name}", len(source.comments)) as advance:
        async with sql.transaction():
            await write_source(source, report, advance)
    return report.text()


async def run_export(topic_slug: str | None, out: TextIO) -> None:
    """Write the export document (the site, or one topic) to `out`."""
    total = await jsonio.count_rows(topic_slug) if sys.stderr.isatty() else None
    with progress_bar("exporting", total) as advance:
        async for chunk in jsonio.export_chunks(topic_slug, advance):
            out.write(chunk.decode("utf-8"))
    out.flush()
