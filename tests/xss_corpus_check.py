"""Run the sanitizer over the shared XSS corpora and report what a browser would see.

    python tests/xss_corpus_check.py [folder]     # default tests/data/xss

Each payload goes through `render_markdown` (the comment path) and `sanitize_html` (the
import path); the output is re-parsed with html5lib and checked: no dangerous elements,
no on*/style attributes, no URL with a scheme other than http/https/mailto, only
allowlisted tags, and cleaning the output again changes nothing. Exit status 1 when any
payload fails.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import html5lib

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from forum.markup import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_markdown, sanitize_html  # noqa: E402

DEFAULT_DIR = ROOT / "tests" / "data" / "xss"
FORBIDDEN = {"script", "style", "iframe", "object", "embed", "svg", "math", "form", "base", "meta", "link",
             "frame", "frameset", "applet", "template", "noscript", "portal"}
SAFE_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1] if name.startswith("{") else name


def _norm(value: str) -> str:
    return "".join(c for c in value if not c.isspace() and unicodedata.category(c) != "Cc").lower()


def problems(html: str, clean: Callable[[str], str] = sanitize_html) -> list[str]:
    """Every safety or allowlist finding in `html` as an HTML5 parser reads it."""
    found: list[str] = []
    tree = html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag == "DOCUMENT_FRAGMENT":
            continue
        tag = _local(el.tag).lower()
        if tag in FORBIDDEN:
            found.append(f"<{tag}> element")
        elif tag not in ALLOWED_TAGS:
            found.append(f"<{tag}> outside the allowlist")
        for raw, value in el.attrib.items():
            name = _local(raw).lower()
            if name.startswith("on") or name == "style":
                found.append(f"{name}= on <{tag}>")
            if name not in ALLOWED_ATTRIBUTES.get(tag, ()):
                found.append(f"attribute {name} on <{tag}>")
            m = _SCHEME.match(_norm(value or ""))
            if m and m.group(1) not in SAFE_SCHEMES:
                found.append(f"{name} with scheme {m.group(1)}")
    if clean(html) != html:
        found.append("not idempotent")
    return found


def payloads(folder: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(folder.glob("*.json")):
        for i, entry in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            payload: Any = entry.get("payload") if isinstance(entry, dict) else entry
            if isinstance(payload, str):
                yield f"{path.name}#{i}", payload


def check(folder: Path) -> dict[str, Any]:
    failures: dict[str, list[str]] = {}
    count = 0
    for name, payload in payloads(folder):
        count += 1
        for label, render in (("markdown", render_markdown), ("html", sanitize_html)):
            found = problems(render(payload))
            if found:
                failures[f"{name} ({label})"] = found
    return {"payloads": count, "checked": count * 2, "failures": failures}


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT_DIR
    if not folder.is_dir():
        print(f"no corpus folder at {folder}")
        return 2
    result = check(folder)
    print(f"payloads: {result['payloads']}  renderings checked: {result['checked']}  "
          f"unsafe or outside the allowlist: {len(result['failures'])}")
    for name, found in sorted(result["failures"].items()):
        print(f"  {name}: {'; '.join(found)}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
