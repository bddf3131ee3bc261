"""The blog's look for the widget: only plain colours, lengths and font lists pass."""

from __future__ import annotations

import pytest

from forum.frontend.hostvars import parse


def test_allowed_values_become_css_properties() -> None:
    assert parse("accent:#0B6E4F; radius: 2px;font:Georgia, 'Times New Roman', serif;bg:#fff") == {
        "--forum-accent": "#0B6E4F", "--forum-radius": "2px",
        "--forum-font": "Georgia, 'Times New Roman', serif", "--forum-bg": "#fff"}


@pytest.mark.parametrize("raw", [
    "link:url(https://tracker.example/x)", "accent:red", "accent:#12345", "radius:calc(1px + 1px)",
    "radius:100000px", "font:x}body{display:none", "font:Georgia\\;", "margin:0", "accent", "",
    "bg:#fff url(x)", "text:expression(alert(1))",
])
def test_anything_else_is_dropped(raw: str) -> None:
    assert parse(raw) == {}


def test_a_long_list_is_cut_to_the_allowlist_size() -> None:
    assert len(parse(";".join(["accent:#000"] * 100))) == 1
