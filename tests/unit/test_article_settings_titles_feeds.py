"""Articles without a database: the embed and feed settings, titles made from addresses,
titles cleaned as any topic title, feeds parsed (RSS and Atom)."""

from __future__ import annotations

import pytest

from forum.articles.feed import FeedError, parse_entries
from forum.articles.services import article_title, creation_allowed, title_from_url
from forum.settings import Settings, SettingsError, origin_of


def test_embed_origins_are_canonical_and_turn_auto_articles_on() -> None:
    s = Settings.from_env({"FORUM_EMBED_ORIGINS": " HTTPS://Blog.Example:443/ , http://other.example:8080,"
                                                  "https://blog.example"})
    assert s.embed_origins == ("https://blog.example", "http://other.example:8080")
    assert s.auto_articles is True
    assert Settings.from_env({}).auto_articles is False and Settings.from_env({}).embed_origins == ()
    off = Settings.from_env({"FORUM_EMBED_ORIGINS": "https://blog.example", "FORUM_AUTO_ARTICLES": "off"})
    assert off.auto_articles is False


@pytest.mark.parametrize("raw", ["blog.example", "ftp://blog.example", "https://blog.example/path",
                                 "https://blog.example/?q=1", "https://"])
def test_embed_origins_must_be_origins(raw: str) -> None:
    with pytest.raises(SettingsError, match="FORUM_EMBED_ORIGINS"):
        Settings.from_env({"FORUM_EMBED_ORIGINS": raw})


def test_feed_settings() -> None:
    s = Settings.from_env({"FORUM_BLOG_FEED_URL": "https://blog.example/feed", "FORUM_BLOG_FEED_INTERVAL": "600"})
    assert s.blog_feed_url == "https://blog.example/feed" and s.blog_feed_interval_s == 600
    assert Settings.from_env({}).blog_feed_url is None and Settings.from_env({}).blog_feed_interval_s == 1800
    for env in ({"FORUM_BLOG_FEED_URL": "file:///etc/passwd"}, {"FORUM_BLOG_FEED_INTERVAL": "5"},
                {"FORUM_AUTO_ARTICLES": "maybe"}):
        with pytest.raises(SettingsError):
            Settings.from_env(env)


def test_creation_is_allowed_only_for_listed_origins_with_auto_articles_on() -> None:
    s = Settings.from_env({"FORUM_EMBED_ORIGINS": "https://blog.example"})
    assert creation_allowed(s, "https://blog.example/a")
    assert not creation_allowed(s, "http://blog.example/a")  # another scheme is another origin
    assert not creation_allowed(s, "https://blog.example:8443/a")
    assert not creation_allowed(s, "https://evil.example/a")
    assert not creation_allowed(s.with_overrides(auto_articles=False), "https://blog.example/a")
    assert origin_of("HTTPS://Blog.Example:443/x?utm_source=y") == "https://blog.example"


@pytest.mark.parametrize(("url", "title"), [
    ("https://blog.example/2024/05/talking-to-teens", "Talking to teens"),
    ("https://blog.example/posts/when_to_ask.html", "When to ask"),
    ("https://blog.example/2024/05/31", "blog.example"),
    ("https://blog.example/", "blog.example"),
    ("https://blog.example/caf%C3%A9-talks", "Café talks"),
    ("https://blog.example/archive/123/a+b", "A b"),
])
def test_titles_from_addresses(url: str, title: str) -> None:
    assert title_from_url(url) == title


def test_titles_are_cleaned_and_bounded() -> None:
    url = "https://blog.example/a-post"
    assert article_title("  Hello\n\tthere\x00 ", url) == "Hello there"
    assert article_title(None, url) == "A post" and article_title("", url) == "A post"
    long = article_title("word " * 100, url)
    assert len(long) == 300 and long.endswith("…")


RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>
<item><title>One</title><link>https://blog.example/one</link></item>
<item><title>No link</title></item></channel></rss>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>B</title>
<entry><title>Two</title><id>urn:2</id><link rel="alternate" href="https://blog.example/two"/></entry></feed>"""


def test_feeds_are_parsed() -> None:
    assert parse_entries(RSS) == [("https://blog.example/one", "One"), ("", "No link")]
    assert parse_entries(ATOM) == [("https://blog.example/two", "Two")]
    with pytest.raises(FeedError):
        parse_entries(b"<html><body>not a feed</body></html>")
