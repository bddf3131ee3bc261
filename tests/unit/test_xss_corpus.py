"""The sanitizer over every payload of the shared XSS corpora (tests/data/xss/*.json)."""

from __future__ import annotations

import pytest

from forum.markup import render_markdown, sanitize_html
from tests.xss_corpus_check import DEFAULT_DIR, payloads, problems

CASES = list(payloads(DEFAULT_DIR))


def test_the_corpus_is_in_the_repository() -> None:
    assert len(CASES) > 300, f"XSS corpus missing from {DEFAULT_DIR}"


@pytest.mark.parametrize(("name", "payload"), CASES, ids=[name for name, _ in CASES])
def test_payload_is_harmless(name: str, payload: str) -> None:
    for render in (render_markdown, sanitize_html):
        html = render(payload)
        assert problems(html) == [], f"{name} via {render.__name__}: {html!r}"


def test_the_check_itself_finds_unsafe_markup() -> None:
    # guards against a checker that passes everything
    assert problems('<a href="javascript:alert(1)">x</a>', clean=lambda h: h)
    assert problems('<svg onload="x"></svg>', clean=lambda h: h)
    assert problems('<p style="color:red">x</p>', clean=lambda h: h)
    assert problems("<b>x</b>")  # outside the allowlist and not idempotent
