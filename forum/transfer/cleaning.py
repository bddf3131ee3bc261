"""Cleaning imported bodies (paragraphs, then `forum.markup.sanitize_html`), on several cores.

bleach is most of an import's CPU (about 0.4 ms for a 250-character WordPress comment,
against about 0.1 ms for everything else the importer does with it), so a large file is
cleaned by worker processes while the importer reads the next batch and writes the
previous one. The workers run the same function the importer would run itself
(`clean_many`); their answers are byte for byte what an in-process clean gives.

Not `forum.markup.Renderer`: that pool serves requests, one text at a time with a time
budget per text (a text over budget is refused with a 422 and its process killed). An
import wants throughput over thousands of texts and never refuses a comment for taking
long (it never did: the earlier importer cleaned in-process), so it sends lists of
texts to a plain `ProcessPoolExecutor` (spawned, never forked: the importer holds a
database connection and an event loop).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor

from forum.markup import sanitize_html
from forum.transfer.model import paragraphs

CHUNK = 200  # texts per task: large enough that pickling and the hand-over are noise


# Text without these characters holds no tag (`<`), no character reference (`&`) and
# nothing the HTML parser rewrites (`>` is escaped; C0 controls other than tab, newline and
# carriage return become "?"): the sanitizer would hand back its paragraphs unchanged.
# Most comments are such plain text; they skip the parse (about 0.2 ms each). The
# equality is tested against bleach on generated text over all of Unicode and on the
# bench's 100,000 comments (tests/unit/test_transfer_cleaning.py).
_NEEDS_SANITIZER = re.compile(r"[<>&\x00-\x08\x0b\x0c\x0e-\x1f]")


def clean_body(raw: str) -> str:
    """An imported body as stored: WordPress paragraphs, then the sanitizer."""
    if _NEEDS_SANITIZER.search(raw) is None:
        return paragraphs(raw).strip()
    return sanitize_html(paragraphs(raw))


def clean_many(texts: list[str]) -> list[str]:
    return [clean_body(t) for t in texts]


def default_workers(size_bytes: int) -> int:
    """Worker processes for a file of this size: none for a small file (starting a worker
    costs more than cleaning a few thousand comments), else one per core, at most four."""
    if size_bytes < 4 * 1024 * 1024:
        return 0
    return max(1, min(os.cpu_count() or 1, 4))


class Cleaner:
    """`await clean(texts)`: the cleaned texts, in order, from worker processes (or in
    this process when `workers` is 0)."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        if workers > 0:
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))

    async def clean(self, texts: list[str]) -> list[str]:
        if not texts:
            return []
        if self._pool is None:
            return clean_many(texts)
        loop = asyncio.get_running_loop()
        parts = await asyncio.gather(*(loop.run_in_executor(self._pool, clean_many, texts[i:i + CHUNK])
                                       for i in range(0, len(texts), CHUNK)))
        return [text for part in parts for text in part]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
