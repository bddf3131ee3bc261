"""Entry points of `forum import ...` and `forum export` (called by forum/cli.py).

An import is one transaction: a malformed file (even one that breaks near its end), or
any failure while writing, changes nothing. A WordPress file is read as a stream and
written in batches inside that transaction while the next batch is read and cleaned
(worker processes clean the bodies of a large file), so memory stays flat however large
the file is. A progress bar (rich, on standard error) shows on a terminal and stays
silent otherwise.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from forum import sql
from forum.errors import BadRequest
from forum.transfer import jsonio
from forum.transfer.cleaning import Cleaner, default_workers
from forum.transfer.model import Report, Source
from forum.transfer.writer import Plan, Writer

KINDS = ("wordpress", "disqus", "json")
BATCH_COMMENTS = 2000  # a batch is whole posts, at least this many comments (or BATCH_TOPICS posts)
BATCH_TOPICS = 200
IN_FLIGHT = 2  # batches cleaned ahead of the one being written
# Between two statements the transaction waits for the next batch to be read and cleaned:
# a post with a huge number of comments can take longer than the pool's idle limit.
IDLE_LIMIT = "10min"


@contextmanager
def progress_bar(label: str, total: int | None, unit: str = "") -> Iterator[Callable[[int], None]]:
    """`advance(n)`; a rich progress bar on an interactive standard error, else nothing."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    count = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
    with Progress(TextColumn("{task.description}"), BarColumn(), count, TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


async def run_import(kind: str, path: Path, *, workers: int | None = None, batch_comments: int = BATCH_COMMENTS,
                     batch_topics: int = BATCH_TOPICS) -> str:
    """Import `path` (kind wordpress | disqus | json); returns the report text. `workers`:
    processes that clean bodies (default: none for a small file, else one per core)."""
    if kind not in KINDS:
        raise BadRequest(f"kind: unknown import kind {kind!r} (expected one of {', '.join(KINDS)})")
    path = Path(path)
    if not path.is_file():
        raise BadRequest(f"{path}: no such file")
    if kind == "json":
        with progress_bar(f"importing {path.name}", None) as advance:
            return await jsonio.import_json(path, advance)
    report = Report(system=kind, file=path.name)
    if kind == "disqus":
        from forum.transfer.disqus import read_disqus

        source = read_disqus(path)  # cleaned as it is read: Disqus files are small
        with progress_bar(f"importing {path.name}", len(source.comments)) as advance:
            async with sql.transaction():
                writer = Writer(kind, report, advance)
                await writer.write(await writer.plan(source))
                await writer.finish()
        return report.text()

    from forum.transfer.wordpress import read_wordpress

    size = path.stat().st_size
    cleaner = Cleaner(default_workers(size) if workers is None else workers)
    try:
        with progress_bar(f"importing {path.name}", size, unit="bytes") as advance:
            async with sql.transaction():
                await sql.execute(f"SET LOCAL idle_in_transaction_session_timeout = '{IDLE_LIMIT}'")
                writer = Writer(kind, report)
                await _pipeline(read_wordpress(path, advance), writer, cleaner, batch_comments, batch_topics)
                await writer.finish()
    finally:
        cleaner.close()
    return report.text()


async def _pipeline(items: Iterable[Source], writer: Writer, cleaner: Cleaner, batch_comments: int,
                    batch_topics: int) -> None:
    """Reading, cleaning and writing at the same time:

    - this task reads the file, post by post, and hands over batches of whole posts;
    - `planning` looks up what a batch already mapped and sends its new bodies to the
      cleaning workers;
    - `writing` waits for a batch's bodies and writes it, batches in file order.

    PostgreSQL works on one batch while this process reads the next one and the workers
    clean the one after. Planning and writing share the transaction's connection, one
    statement at a time (the lock); reading lets them run between posts.
    """
    to_plan: asyncio.Queue[Source | None] = asyncio.Queue(1)
    to_write: asyncio.Queue[tuple[Plan, asyncio.Task[None]] | None] = asyncio.Queue(IN_FLIGHT)
    connection = asyncio.Lock()

    async def planning(tasks: asyncio.TaskGroup) -> None:
        while (batch := await to_plan.get()) is not None:
            async with connection:
                plan = await writer.plan(batch)
            await to_write.put((plan, tasks.create_task(_clean(plan, writer, cleaner))))
        await to_write.put(None)

    async def writing() -> None:
        while (entry := await to_write.get()) is not None:
            plan, cleaning = entry
            await cleaning
            async with connection:
                await writer.write(plan)

    try:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(planning(tasks))
            tasks.create_task(writing())
            batch: Source | None = None
            for item in items:  # reads one <item> of the file
                if batch is None:
                    batch = item
                else:
                    batch.topics += item.topics
                    batch.comments += item.comments
                    batch.skipped_topics.update(item.skipped_topics)
                if len(batch.comments) >= batch_comments or len(batch.topics) >= batch_topics:
                    await to_plan.put(batch)
                    batch = None
                else:
                    await asyncio.sleep(0)  # the other stages send their next statement
            if batch is not None:
                await to_plan.put(batch)
            await to_plan.put(None)
    except BaseExceptionGroup as group:
        raise _first_error(group) from None


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error that stopped the pipeline (the others were cancelled because of it)."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first_error(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return group.exceptions[0]


async def _clean(plan: Plan, writer: Writer, cleaner: Cleaner) -> None:
    """Clean the bodies the batch may write; the writer refuses any body left raw."""
    topics, comments = plan.needs_cleaning(writer)
    cleaned = await cleaner.clean([t.raw_html or "" for t in topics] + [c.raw_html or "" for c in comments])
    for t, html in zip(topics, cleaned[:len(topics)], strict=True):
        t.body_html, t.raw_html = html, None
    for c, html in zip(comments, cleaned[len(topics):], strict=True):
        c.body_html, c.raw_html = html, None


async def run_export(topic_slug: str | None, out: TextIO) -> None:
    """Write the export document (the site, or one topic) to `out`."""
    total = await jsonio.count_rows(topic_slug) if sys.stderr.isatty() else None
    binary = getattr(out, "buffer", None)  # standard output: write the UTF-8 as it comes
    out.flush()
    with progress_bar("exporting", total) as advance:
        async for chunk in jsonio.export_chunks(topic_slug, advance):
            if binary is not None:
                binary.write(chunk)
            else:
                out.write(chunk.decode("utf-8"))
    if binary is not None:
        binary.flush()
    out.flush()
