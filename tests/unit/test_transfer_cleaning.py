"""Cleaning imported bodies: plain text skips bleach only where bleach would change nothing."""

from __future__ import annotations

import random

import pytest

from forum.markup import sanitize_html
from forum.transfer.cleaning import clean_body, clean_many
from forum.transfer.model import paragraphs


def bleach_clean(raw: str) -> str:
    return sanitize_html(paragraphs(raw))


def random_text(rng: random.Random) -> str:
    def char() -> str:
        r = rng.random()
        if r < 0.5:
            return rng.choice("abc de\n\n\t\r  .,'\"=/;:!?-_#%()[]{}*+`~@$^|\\")
        code = rng.randint(0x00, 0x2FF) if r < 0.8 else rng.randint(0x80, 0x10FFFF)
        return "x" if 0xD800 <= code < 0xE000 else chr(code)

    return "".join(char() for _ in range(rng.randint(0, 60)))


def test_clean_body_equals_bleach_on_generated_text() -> None:
    rng = random.Random(19)
    texts = [random_text(rng) for _ in range(3000)]
    assert [clean_body(t) for t in texts] == [bleach_clean(t) for t in texts]


@pytest.mark.parametrize("raw", [
    "plain words\n\nsecond paragraph\nwith a line break",
    "  spaces around  \r\n\r\nwindows lines\rold mac",
    "quotes \" and ' stay; so do = and /",
    "unicode: é ñ 日本 \U0001f600 \u00a0nbsp \u2028 \ufeff \ufffe \U0010ffff",
    "control \x01 \x07 \x0b \x0c \x1f characters",
    "a > b",
    "fish & chips",
    "<em>kept</em> <script>alert(1)</script> <a href=\"javascript:x()\">link</a>",
    "\x00nul",
    "",
    "\n\n  \n",
])
def test_clean_body_equals_bleach_on_edge_cases(raw: str) -> None:
    assert clean_body(raw) == bleach_clean(raw)


def test_markup_still_goes_through_the_sanitizer() -> None:
    out = clean_many(['<img src=x onerror="alert(1)">hi <script>bad()</script>', "1 < 2"])
    assert out == ["<p>hi bad()</p>", "<p>1 &lt; 2</p>"]
