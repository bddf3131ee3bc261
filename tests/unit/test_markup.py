"""Markdown rendering and the HTML allowlist (forum/markup.py)."""

from __future__ import annotations

import pytest

from forum.markup import LINK_REL, count_links, plain_text, render_markdown, sanitize_html
from tests.xss_corpus_check import problems


def test_emphasis_code_and_blocks() -> None:
    html = render_markdown("**b** *i* `c`\n\n> q\n\n- one\n\n1. first\n\n```\nx = 1\n```")
    for tag in ("<strong>b</strong>", "<em>i</em>", "<code>c</code>", "<blockquote>", "<ul>", "<ol>",
                "<li>one</li>", "<pre><code>x = 1\n</code></pre>"):
        assert tag in html


def test_links_get_rel_and_bare_urls_are_linked() -> None:
    html = render_markdown("[site](https://example.com/a) and https://example.org/b and me@example.net")
    assert f'<a href="https://example.com/a" rel="{LINK_REL}">site</a>' in html
    assert f'<a href="https://example.org/b" rel="{LINK_REL}">https://example.org/b</a>' in html
    assert 'href="mailto:me@example.net"' in html
    assert count_links(html) == 3


def test_rel_from_the_input_is_replaced() -> None:
    assert sanitize_html('<a href="https://x.org" rel="opener" target="_blank">x</a>') == \
        f'<a href="https://x.org" rel="{LINK_REL}">x</a>'


def test_raw_html_in_markdown_is_shown_as_text() -> None:
    html = render_markdown("<script>alert(1)</script> <b>b</b> <img src=x onerror=alert(1)>")
    assert "<script" not in html and "<b>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "vbscript:msgbox(1)", "data:text/html;base64,PHNjcmlwdD4=",
    "java&#x09;script:alert(1)", "&#106;avascript:alert(1)", " javascript:1", "javascript:123", "/relative",
])
def test_unsafe_and_relative_hrefs_are_dropped(url: str) -> None:
    html = sanitize_html(f'<a href="{url}">x</a>')
    assert "href" not in html and problems(html) == []
    html = render_markdown(f"[x]({url})")
    assert "javascript" not in html.lower().replace("&lt;", "") or "href" not in html
    assert problems(html) == []


def test_headings_and_images_leave_the_allowlist_but_keep_text() -> None:
    html = render_markdown("# Title\n\n![a picture](https://example.com/a.png)")
    assert "<h1" not in html and "<img" not in html
    assert "<strong>Title</strong>" in html and "a picture" in html


def test_dangerous_imported_html_is_stripped() -> None:
    html = sanitize_html('<div onclick="x"><style>p{}</style><svg><a xlink:href="javascript:1">s</a></svg>'
                         '<iframe src="https://e.org"></iframe><!-- secret --><p style="x">ok</p></div>')
    assert problems(html) == []
    assert "secret" not in html and "<p>ok</p>" in html


def test_nul_bytes_are_removed() -> None:
    assert render_markdown("a\x00b") == "<p>ab</p>"


@pytest.mark.parametrize("source", [
    "a & b < c > d \"q\" 'q'", "[l](https://x.org/?a=1&b=2)", "line  \nbreak", "1. a\n2. b",
    "`<tag>`", "> nested\n>> deeper", "https://x.org/path_(with)_parens",
])
def test_sanitizing_output_again_changes_nothing(source: str) -> None:
    html = render_markdown(source)
    assert sanitize_html(html) == html


def test_plain_text() -> None:
    assert plain_text(render_markdown("**Hello** &amp; *world*\n\n- one\n- two")) == "Hello & world one two"


# ---- the quick linkify pre-check changes no output (forum.markup._QuickLinkify)

_FRAGMENTS = [
    "plain prose.", "It was hard. Then", "e.g. this", "p.m.", "see example.com", "www.example.org/a?b=c",
    "http://x.y/z", "HTTPS://EXAMPLE.COM/", "ftp://files.example.net", "mailto:someone@example.com",
    "me@example.net", "a@b", "@handle", "//cdn.example.com/x.js", "localhost:8080", "LOCALHOST",
    "192.168.0.1", "10.0.0.1/path", "v1.2.3", "file.txt", "report.pdf", "end.of.sentence.Next", "car.Then",
    "x.co", "a.io.", "xn--80ak6aa92e.com", "пример.рф", "ＷＷＷ.example.com", "ſhop.com", "java\tscript:x",
    "[link](https://example.org/support)", "<https://auto.example>", "`http://code.example`", "**www.bold.com**",
    "_under_score.com_", "(https://paren.example/a_(b))", "“quoted.com”", "»http://x.de«", "ｈttp://wide.example",
    "\u00a0www.nbsp.com", "line\nhttp://next.line", "> quote example.org", "- item mail@host.museum",
    "1. one.two", "K.com", "\u212a.com", "tel:123", "http:", "://", ".", "@@", "www.", "javascript:alert(1)",
]


def _corpus() -> list[str]:
    import random

    rng = random.Random(20261126)
    bodies = list(_FRAGMENTS)
    for _ in range(1500):
        parts = rng.choices(_FRAGMENTS, k=rng.randint(1, 8))
        bodies.append(rng.choice([" ", "\n", "\n\n", ""]).join(parts))
    from bench.run import two_kb_markdown

    bodies.append(two_kb_markdown())
    try:
        from tests.xss_corpus_check import DEFAULT_DIR, payloads

        if DEFAULT_DIR.is_dir():
            bodies += [payload for _, payload in payloads(DEFAULT_DIR)]
    except ImportError:
        pass
    return bodies


def test_quick_linkify_renders_exactly_as_linkify_it() -> None:
    from linkify_it import LinkifyIt

    from forum.markup import _markdown, _md

    reference = _markdown(LinkifyIt())
    differences = [body for body in _corpus() if _md.render(body) != reference.render(body)]
    assert differences == []


def test_quick_linkify_answers_pretest_and_test_as_linkify_it() -> None:
    from linkify_it import LinkifyIt

    from forum.markup import _md

    stock = LinkifyIt()
    quick = _md.linkify
    assert quick is not None
    for body in _corpus():
        for text in (body, *body.split()):
            assert quick.pretest(text) == stock.pretest(text), text
            assert quick.test(text) == stock.test(text), text
