"""The blog's own look for the comment widget: a few CSS custom properties the host page
names on the script tag (`data-forum-accent="#0b6e4f"`, `data-forum-font="Georgia, serif"`,
...). The widget lives in an iframe, so the host's CSS cannot reach it; embed.js passes
these values in the frame's address, and this module is the one place that checks them
against an allowlist before the page sets them (through the CSSOM, so the CSP stays
`style-src 'self'`). Anything that is not a plain colour, length or font list is dropped:
no `url()`, no expressions, no way to load anything from elsewhere."""

from __future__ import annotations

import re

_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_LENGTH = re.compile(r"^(?:0|\d{1,2}(?:\.\d{1,2})?(?:px|rem|em))$")
_FONTS = re.compile(r"^[A-Za-z0-9 ,'\"-]{1,120}$")

# name on the script tag (data-forum-NAME) -> (the CSS custom property, its check)
VARIABLES: dict[str, tuple[str, re.Pattern[str]]] = {
    "accent": ("--forum-accent", _COLOUR),
    "accent-text": ("--forum-accent-text", _COLOUR),
    "link": ("--forum-link", _COLOUR),
    "bg": ("--forum-bg", _COLOUR),
    "text": ("--forum-text", _COLOUR),
    "font": ("--forum-font", _FONTS),
    "radius": ("--forum-radius", _LENGTH),
}


def parse(raw: str | None) -> dict[str, str]:
    """`name:value;name:value` (what embed.js sends) -> {css property: value}, allowlisted."""
    found: dict[str, str] = {}
    for item in (raw or "").split(";")[: len(VARIABLES)]:
        name, sep, value = item.partition(":")
        name, value = name.strip().lower(), value.strip()
        if not sep or name not in VARIABLES:
            continue
        prop, check = VARIABLES[name]
        if check.match(value):
            found[prop] = value
    return found
