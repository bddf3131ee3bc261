"""Markdown in, sanitized HTML out: the one module that owns the HTML allowlist.

Comment and topic bodies are rendered once, at write time: CommonMark (markdown-it-py,
raw HTML disabled, so any `<tag>` in the source is shown as text), bare URLs linked
(linkify-it-py), then cleaned by bleach with the contract's allowlist. Imported HTML goes
through the same cleaner (`sanitize_html`). Cleaning is idempotent: cleaning our own
output changes nothing. bleach is unmaintained since 2026; it is used only here, so it
can be replaced in one place.

Rendering is CPU work that grows with the input (pathological Markdown such as 60,000
characters of `![` takes about a second), so request handlers never run it on the event
loop: `render()` hands it to a small pool of worker processes (`start_renderer`, one per
app process, FORUM_RENDER_WORKERS) and waits at most FORUM_RENDER_BUDGET_MS. Past the budget
that worker is killed and replaced, and the text refused with a clear 422. The workers talk
to the event loop over socket pairs (no helper threads: multiprocessing.Pool's result
threads waited for the GIL behind a busy loop, which cut posting to a third and could push
an ordinary text past its budget). Callers run
their cheap limits (size, rate limit) first. Without a pool (the CLI, FORUM_RENDER_WORKERS=0)
`render()` uses a thread and the same budget, but a thread cannot be stopped: it finishes.
"""

from __future__ import annotations

import asyncio
import html as _html
import re
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import bleach
from bleach.html5lib_shim import Filter
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({"p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li"})
ALLOWED_ATTRIBUTES: dict[str, list[str]] = {"a": ["href", "rel"], "ol": ["start"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"


_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def _scheme_allowed(url: str) -> bool:
    """True for an absolute http/https/mailto URL. bleach's own check lets `javascript:123`
    through (urlparse reads it as host:port);
    look at the scheme as a browser would: control characters and spaces ignored."""
    # bleach keeps character references in attribute values as written: decode them first.
    norm = "".join(c for c in _html.unescape(url) if c > " " and c != "\x7f").lower()
    m = _SCHEME.match(norm)
    # Relative links are refused too: the contract allows http, https and mailto only.
    return m is not None and m.group(1) in ALLOWED_PROTOCOLS


class _LinkFilter(Filter):  # type: ignore[misc]
    """Every link gets exactly `rel="nofollow ugc noopener"` (whatever the input said),
    and loses an href whose scheme is not allowed."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in Filter.__iter__(self):
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "a":
                attrs = {k: v for k, v in (token.get("data") or {}).items() if k != (None, "rel")}
                href = attrs.get((None, "href"))
                if href is not None and not _scheme_allowed(href):
                    del attrs[(None, "href")]
                attrs[(None, "rel")] = LINK_REL
                token = {**token, "data": attrs}
            yield token


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[_LinkFilter],
)


class _QuickLinkify(LinkifyIt):  # type: ignore[misc]
    """linkify-it with a cheap first look: the same answers, faster for plain prose.

    linkify-it's `pretest` (run by markdown-it on every paragraph) and `test` (on each text
    piece of a paragraph that passed) search a pattern that starts with a large Unicode
    class at every position: a third of the Markdown time for a 2 KB comment. Every match
    of either needs one of: a scheme (`http:`, `https:`, `ftp:`, `mailto:`) or `//`, `@`,
    or a match of `host_fuzzy_test` itself (`localhost`, `www.`, `.1.`, `.` + a TLD). A
    search for those (the same flags, so the same case folding) has literal starts and runs
    much faster; when it finds nothing the answer is False, otherwise linkify-it decides.
    """

    def __init__(self) -> None:
        super().__init__()  # the defaults markdown-it uses (fuzzy links and emails, no IPs)
        self._maybe = re.compile(r"(?:https?|ftp|mailto):|//|@|" + self.re["host_fuzzy_test"], re.IGNORECASE)

    def pretest(self, text: str) -> bool:
        return self._maybe.search(text) is not None and bool(super().pretest(text))

    def test(self, text: str) -> bool:
        return self._maybe.search(text) is not None and bool(super().test(text))


def _markdown(linkify: LinkifyIt | None = None) -> MarkdownIt:
    """The renderer; `linkify`: another linkify-it instance (tests compare with the stock one)."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable("linkify")
    md.linkify = linkify if linkify is not None else _QuickLinkify()

    # Headings and images are outside the allowlist: render a heading as a bold
    # paragraph and an image as its alt text, instead of losing structure or text.
    def heading_open(_self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        return "<p><strong>"

    def heading_close(_self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        return "</strong></p>\n"

    def image(_self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        alt = "".join(child.content for child in (token.children or []))
        return _html.escape(alt, quote=False)

    def hr(_self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        return ""

    md.add_render_rule("heading_open", heading_open)
    md.add_render_rule("heading_close", heading_close)
    md.add_render_rule("image", image)
    md.add_render_rule("hr", hr)
    return md


_md = _markdown()


def sanitize_html(html: str) -> str:
    """Clean HTML down to the allowlist (tags outside it are stripped, their text kept)."""
    return str(_cleaner.clean(html.replace("\x00", ""))).strip()


def render_markdown(source: str) -> str:
    """CommonMark source -> sanitized HTML (computed once, stored beside the source)."""
    return sanitize_html(_md.render(source.replace("\x00", "")))


_LINK = re.compile(r"<a\s[^>]*\bhref=", re.IGNORECASE)


def count_links(html: str) -> int:
    """Links in sanitized HTML (moderation's link limit)."""
    return len(_LINK.findall(html))


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset({"p", "br", "li", "pre", "blockquote", "ul", "ol"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """The text of sanitized HTML, whitespace collapsed (search, excerpts, word checks)."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


# ---------------------------------------------------------------- off the event loop

TOO_COMPLEX = "body: this text is too complex to display; please simplify its formatting."

_HEAD = struct.Struct("!BI")  # status (0 text, 1 error, 2 ready), length of the UTF-8 payload


def _worker_main(fd: int) -> None:
    """A render process (`python -m forum.markup FD`): read a text, answer its HTML, forever.

    Frames both ways are `_HEAD` + UTF-8. It says "ready" once its imports are done, so that
    start-up time is never charged to a text's budget."""
    sock = socket.socket(fileno=fd)
    stream = sock.makefile("rwb")
    stream.write(_HEAD.pack(2, 0))
    stream.flush()
    while True:
        head = stream.read(_HEAD.size)
        if len(head) < _HEAD.size:
            return  # the server closed its end
        _, size = _HEAD.unpack(head)
        source = stream.read(size).decode()
        try:
            status, out = 0, render_markdown(source).encode()
        except Exception as exc:  # reported to the caller, the worker lives on
            status, out = 1, f"{type(exc).__name__}: {exc}".encode()
        stream.write(_HEAD.pack(status, len(out)) + out)
        stream.flush()


class _Worker:
    """One render process and the server's end of its socket (read by the event loop: no
    helper threads, so a busy loop never delays an answer past its budget)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self.proc = subprocess.Popen([sys.executable, "-m", "forum.markup", str(theirs.fileno())],  # noqa: S603
                                     pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        theirs.close()
        self._sock = ours
        self._ready = asyncio.ensure_future(self._connect())

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(sock=self._sock)
        status, _ = _HEAD.unpack(await reader.readexactly(_HEAD.size))
        if status != 2:
            raise RuntimeError("render worker: unexpected greeting")
        return reader, writer

    async def ready(self) -> None:
        await self._ready

    async def render(self, source: str, budget_s: float) -> str:
        reader, writer = await self._ready  # start-up is outside the budget
        data = source.encode()
        writer.write(_HEAD.pack(0, len(data)) + data)

        async def answer() -> tuple[int, bytes]:
            status, size = _HEAD.unpack(await reader.readexactly(_HEAD.size))
            return status, await reader.readexactly(size)

        status, out = await asyncio.wait_for(answer(), budget_s)
        if status != 0:
            raise RuntimeError(f"render worker: {out.decode(errors='replace')}")
        return out.decode()

    def stop(self) -> None:
        if self._ready.done() and not self._ready.cancelled() and self._ready.exception() is None:
            self._ready.result()[1].close()
        else:
            self._ready.cancel()
            self._sock.close()
        if self.proc.poll() is None:
            self.proc.kill()
        _reap(self.proc)


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Collect a killed worker's exit status without blocking the loop."""
    if proc.poll() is None:
        asyncio.get_running_loop().call_later(0.05, _reap, proc)


class Renderer:
    """Render processes with a time budget per text: one text at a time per process, so a
    text past its budget only ever takes its own process down (killed and replaced)."""

    def __init__(self, workers: int, budget_s: float):
        self.workers = workers
        self.budget_s = budget_s
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        for _ in range(workers):
            self._add()

    def _add(self) -> None:
        w = _Worker()
        self._all.add(w)
        self._idle.put_nowait(w)

    def _replace(self, w: _Worker) -> None:
        self._all.discard(w)
        w.stop()
        self._add()

    async def ready(self) -> None:
        await asyncio.gather(*(w.ready() for w in self._all))

    async def render(self, source: str) -> str:
        from forum.errors import ContentRefused

        for attempt in (1, 2):
            w = await self._idle.get()
            try:
                html = await w.render(source, self.budget_s)
            except TimeoutError:
                self._replace(w)
                raise ContentRefused(TOO_COMPLEX, rule="too_complex") from None
            except (ConnectionError, asyncio.IncompleteReadError):  # the process died: once more on a new one
                self._replace(w)
                if attempt == 2:
                    raise
                continue
            except BaseException:
                self._replace(w)  # cancelled mid-answer: its stream is out of step
                raise
            self._idle.put_nowait(w)
            return html
        raise AssertionError("unreachable")

    async def close(self) -> None:
        workers, self._all = list(self._all), set()
        for w in workers:
            w.stop()
        for w in workers:  # killed: their exit is a matter of milliseconds
            await asyncio.to_thread(w.proc.wait, 5)


_renderer: Renderer | None = None
_budget_s: float = 1.0


async def start_renderer(workers: int, budget_s: float) -> None:
    """At start-up: the render pool of this process (none when `workers` is 0)."""
    global _renderer, _budget_s
    _budget_s = budget_s
    if workers > 0 and _renderer is None:
        _renderer = Renderer(workers, budget_s)
        await _renderer.ready()


async def stop_renderer() -> None:
    global _renderer
    renderer, _renderer = _renderer, None
    if renderer is not None:
        await renderer.close()


async def render(source: str) -> str:
    """render_markdown off the event loop, within the budget; 422 (ContentRefused,
    rule `too_complex`) for a text that takes longer."""
    if _renderer is not None:
        return await _renderer.render(source)
    from forum.errors import ContentRefused

    try:
        return await asyncio.wait_for(asyncio.to_thread(render_markdown, source), _budget_s)
    except TimeoutError:
        raise ContentRefused(TOO_COMPLEX, rule="too_complex") from None


if __name__ == "__main__":
    _worker_main(int(sys.argv[1]))
