"""canonical_url: one form per article address (issue 18)."""

from __future__ import annotations

import pytest

from forum.topics.urls import InvalidUrl, canonical_url, looks_like_url

CASES = [
    # scheme and host case
    ("HTTPS://Blog.Example.ORG/Post", "https://blog.example.org/Post"),
    ("Http://BLOG.example/", "http://blog.example/"),
    # default ports dropped, others kept
    ("https://blog.example:443/a", "https://blog.example/a"),
    ("http://blog.example:80/a", "http://blog.example/a"),
    ("https://blog.example:80/a", "https://blog.example:80/a"),
    ("http://blog.example:8080/a/", "http://blog.example:8080/a"),
    # fragment dropped
    ("https://blog.example/a#comment-12", "https://blog.example/a"),
    ("https://blog.example/a/#", "https://blog.example/a"),
    # tracking parameters dropped, the rest sorted
    ("https://blog.example/a?utm_source=x&utm_medium=y&UTM_Campaign=z", "https://blog.example/a"),
    ("https://blog.example/a?fbclid=1&gclid=2&msclkid=3&mc_cid=4&mc_eid=5", "https://blog.example/a"),
    ("https://blog.example/a?p=2&utm_source=news&b=1", "https://blog.example/a?b=1&p=2"),
    ("https://blog.example/a?z=1&a=2&m=3", "https://blog.example/a?a=2&m=3&z=1"),
    ("https://blog.example/?p=123", "https://blog.example/?p=123"),
    ("https://blog.example/a?&&x=1&", "https://blog.example/a?x=1"),
    # trailing slash: none except the root
    ("https://blog.example/2024/05/post/", "https://blog.example/2024/05/post"),
    ("https://blog.example/2024/05/post", "https://blog.example/2024/05/post"),
    ("https://blog.example", "https://blog.example/"),
    ("https://blog.example/", "https://blog.example/"),
    ("https://blog.example///", "https://blog.example/"),
    # dot segments and escapes
    ("https://blog.example/a/./b/../c/", "https://blog.example/a/c"),
    ("https://blog.example/%7euser/%2fx", "https://blog.example/~user/%2Fx"),
    ("https://blog.example/caf\u00e9", "https://blog.example/caf%C3%A9"),
    ("https://blog.example/caf%c3%a9", "https://blog.example/caf%C3%A9"),
    ("https://blog.example/a b", "https://blog.example/a%20b"),
    ("https://blog.example/100%", "https://blog.example/100%25"),
    # IDN host to punycode; trailing dot of the host
    ("https://B\u00fccher.example/buch", "https://xn--bcher-kva.example/buch"),
    ("https://xn--bcher-kva.example/buch", "https://xn--bcher-kva.example/buch"),
    ("https://blog.example./a", "https://blog.example/a"),
    # credentials never kept
    ("https://user:secret@blog.example/a", "https://blog.example/a"),
    # IPv6 literal
    ("http://[::1]:8080/a/", "http://[::1]:8080/a"),
    # surrounding whitespace
    ("  https://blog.example/a  ", "https://blog.example/a"),
]


@pytest.mark.parametrize(("raw", "canonical"), CASES)
def test_canonical_form(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical


@pytest.mark.parametrize(("raw", "canonical"), CASES)
def test_idempotent(raw: str, canonical: str) -> None:
    assert canonical_url(canonical_url(raw)) == canonical_url(raw)


def test_variants_of_one_article_meet() -> None:
    variants = [
        "https://blog.example/2024/05/talking-to-teens/",
        "HTTPS://BLOG.EXAMPLE:443/2024/05/talking-to-teens",
        "https://blog.example/2024/05/talking-to-teens/?utm_source=newsletter&utm_medium=email",
        "https://blog.example/2024/05/talking-to-teens#comments",
        "https://blog.example/2024/05/talking-to-teens?fbclid=IwAR0abc",
    ]
    assert len({canonical_url(v) for v in variants}) == 1


@pytest.mark.parametrize("bad", [
    "", "   ", "ftp://blog.example/a", "javascript:alert(1)", "blog.example/a", "/relative/path",
    "https://", "https://bad host.example/", "https://blog.example:99999/", "https://blog.example:abc/",
    "https://blog.example/a\x00b", "https://exa_mple..com/", "https://[zz::1]/", "https://" + "a" * 2100 + ".example/",
])
def test_refused(bad: str) -> None:
    with pytest.raises(InvalidUrl):
        canonical_url(bad)


def test_looks_like_url() -> None:
    assert looks_like_url("HTTPS://blog.example/a") and looks_like_url("http://x.example")
    assert not looks_like_url("talking-to-teens") and not looks_like_url("httpfoo")


def test_migration_plan_keeps_one_topic_per_canonical_address() -> None:
    import importlib

    migration = importlib.import_module("migrations.forum.forum_2026_11_29t14_37_18_000000_canonical_urls")
    rows = [
        {"id": 1, "url": "https://blog.example/a/", "comment_count": 0},
        {"id": 2, "url": "https://blog.example/a?utm_source=x", "comment_count": 5},  # most comments: keeps it
        {"id": 3, "url": "https://blog.example/b", "comment_count": 0},  # canonical already: unchanged
        {"id": 4, "url": "HTTPS://BLOG.EXAMPLE/c#x", "comment_count": 0},
        {"id": 5, "url": "https://blog.example/c", "comment_count": 0},  # stores the canonical form: keeps it
        {"id": 6, "url": "not an address", "comment_count": 0},  # left as it is
    ]
    changes, duplicates = migration.plan(rows)
    assert changes == {2: "https://blog.example/a"}
    assert sorted(duplicates) == [(2, 1, "https://blog.example/a"), (5, 4, "https://blog.example/c")]
