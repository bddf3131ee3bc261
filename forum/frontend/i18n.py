"""The string catalogue: `forum/frontend/i18n/<lang>.json`, flat msgid -> text, plurals as
{"one": ..., "other": ...} with `{n}`; English is complete and the fallback of every other
language. Jinja templates call `t()`; pages embed the section a surface needs as JSON
(`<script type="application/json" id="forum-i18n">`, which the CSP allows: it is not run)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

CATALOGUE_DIR = Path(__file__).resolve().parent / "i18n"
DEFAULT_LANG = "en"
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


@functools.cache
def languages() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in CATALOGUE_DIR.glob("*.json")))


@functools.cache
def catalogue(lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """The merged catalogue of `lang` (English under it for any missing msgid)."""
    base: dict[str, Any] = json.loads((CATALOGUE_DIR / f"{DEFAULT_LANG}.json").read_text("utf-8"))
    if lang != DEFAULT_LANG and lang in languages():
        base = {**base, **json.loads((CATALOGUE_DIR / f"{lang}.json").read_text("utf-8"))}
    return base


def pick_language(wanted: str | None) -> str:
    """A supported language for a requested tag (`fr-CA` -> `fr` when only `fr` exists), else English."""
    if not wanted or not _LANG.match(wanted):
        return DEFAULT_LANG
    for candidate in (wanted, wanted.split("-")[0].lower()):
        if candidate in languages():
            return candidate
    return DEFAULT_LANG


def _plural_key(lang: str, n: int) -> str:
    return "one" if n == 1 else "other"  # English rule; other languages add theirs here


def t(msgid: str, lang: str = DEFAULT_LANG, n: int | None = None, **values: Any) -> str:
    """The text of `msgid` with `{name}` placeholders filled; the msgid itself when missing."""
    entry = catalogue(lang).get(msgid, msgid)
    if isinstance(entry, dict):
        entry = entry.get(_plural_key(lang, n or 0)) or entry.get("other", msgid)
    text = str(entry)
    if n is not None:
        values["n"] = n
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def section(lang: str, *prefixes: str) -> dict[str, Any]:
    """The entries whose msgid starts with one of `prefixes` (all of them without prefixes)."""
    entries = catalogue(lang)
    if not prefixes:
        return dict(entries)
    return {k: v for k, v in entries.items() if k.startswith(prefixes) or k.startswith("common.")}


def script_json(data: Any) -> str:
    """JSON safe inside a `<script type="application/json">` element."""
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
