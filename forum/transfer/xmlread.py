"""Safe XML parsing for the importers (defusedxml: no entities, no external references).

`read_xml` builds the whole tree (Disqus); `iter_xml` streams a file as parse events
(WordPress), so memory stays flat however large the file is. Both refuse a file that
declares entities or references anything outside itself, with the same 4xx message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse, parse

from forum.errors import BadRequest


def read_xml(path: Path, what: str) -> Element:
    try:
        return parse(str(path), forbid_dtd=False, forbid_entities=True, forbid_external=True).getroot()
    except (ParseError, DefusedXmlException, OSError) as exc:
        raise _refusal(path, what, exc) from None


def _refusal(path: Path, what: str, exc: Exception) -> BadRequest:
    if isinstance(exc, ParseError):
        return BadRequest(f"{path.name} is not a well-formed {what} file ({exc}). Nothing was imported.")
    if isinstance(exc, DefusedXmlException):
        return BadRequest(f"{path.name} was refused: it declares XML entities or external references"
                          f" ({type(exc).__name__}), which a {what} file never needs. Nothing was imported.")
    if isinstance(exc, OSError):
        return BadRequest(f"{path}: cannot read the file ({exc.strerror or exc}).")
    raise exc


class _Counted:
    """A binary file that reports how many bytes have been read (the progress bar)."""

    def __init__(self, raw: BinaryIO, advance: Callable[[int], None]):
        self._raw = raw
        self._advance = advance

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._advance(len(data))
        return data


def iter_xml(path: Path, what: str, events: tuple[str, ...],
             advance: Callable[[int], None] | None = None) -> Iterator[tuple[str, Element]]:
    """(event, element) pairs as the file is read; `advance(n)` after each n bytes read.
    A malformed or refused file raises BadRequest where the problem is met: callers write
    inside one transaction, so whatever came before it is rolled back."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise _refusal(path, what, exc) from None
    with raw:
        source = _Counted(raw, advance) if advance is not None else raw
        try:
            yield from iterparse(source, events=events, forbid_dtd=False, forbid_entities=True,
                                 forbid_external=True)
        except (ParseError, DefusedXmlException, OSError) as exc:
            raise _refusal(path, what, exc) from None


def local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def namespace(tag: object) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def child(el: Element, name: str, ns_prefix: str | None = None) -> Element | None:
    for c in el:
        if local(c.tag) == name and (ns_prefix is None or namespace(c.tag).startswith(ns_prefix)):
            return c
    return None


def text(el: Element, name: str, ns_prefix: str | None = None) -> str:
    c = child(el, name, ns_prefix)
    return (c.text or "") if c is not None else ""


def children(el: Element, name: str, ns_prefix: str | None = None) -> list[Element]:
    return [c for c in el if local(c.tag) == name and (ns_prefix is None or namespace(c.tag).startswith(ns_prefix))]
