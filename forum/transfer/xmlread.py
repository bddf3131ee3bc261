"""Safe XML parsing for the importers (defusedxml: no entities, no external references)."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse

from forum.errors import BadRequest


def read_xml(path: Path, what: str) -> Element:
    try:
        return parse(str(path), forbid_dtd=False, forbid_entities=True, forbid_external=True).getroot()
    except ParseError as exc:
        raise BadRequest(f"{path.name} is not a well-formed {what} file ({exc}). Nothing was imported.") from None
    except DefusedXmlException as exc:
        raise BadRequest(f"{path.name} was refused: it declares XML entities or external references"
                         f" ({type(exc).__name__}), which a {what} file never needs. Nothing was imported.") from None
    except OSError as exc:
        raise BadRequest(f"{path}: cannot read the file ({exc.strerror or exc}).") from None


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
