"""The shared browser front end's foundation (forum/frontend): content-addressed static
assets, the loaders' short cache, page security headers, the string catalogue, settings."""

from __future__ import annotations

import json

import httpx
import pytest

from forum.frontend import assets, csp, i18n
from forum.settings import Settings, SettingsError


async def test_static_assets_are_content_addressed_and_cached_for_a_year(client: httpx.AsyncClient) -> None:
    url = assets.asset_url("css/base.css")
    assert url == f"/static/{assets.tree_hash()}/css/base.css" and len(assets.tree_hash()) == 12
    r = await client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "--forum-accent" in r.text
    # a page loaded before a deploy (older hash) still gets the file, briefly cached
    r = await client.get("/static/0123456789ab/css/base.css")
    assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=300"
    r = await client.get(assets.asset_url("vendor/preact.mjs"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize("path", ["../settings.py", "..%2f..%2fsettings.py", "css/missing.css", "",
                                  "../../forum/settings.py", "/etc/passwd"])
async def test_static_never_serves_outside_the_tree(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(f"/static/{assets.tree_hash()}/{path}")
    assert r.status_code == 404, r.text
    assert "SettingsError" not in r.text


def test_find_asset_refuses_traversal_and_unknown_types() -> None:
    assert assets.find_asset("css/base.css") is not None
    assert assets.find_asset("../assets.py") is None
    assert assets.find_asset("/../../settings.py") is None
    assert assets.find_asset("vendor/LICENSE.preact.txt") is not None


@pytest.mark.parametrize("path", ["/embed.js", "/count.js"])
async def test_loaders_have_fixed_urls_and_a_short_cache(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"  # the blog's page loads it


def test_csp_is_strict_and_frame_ancestors_come_from_the_caller() -> None:
    policy = csp.content_security_policy()
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert policy.endswith("frame-ancestors 'none'") and "default-src 'none'" in policy
    policy = csp.content_security_policy(["https://blog.example.org", "https://b.example"])
    assert policy.endswith("frame-ancestors https://blog.example.org https://b.example")
    headers = csp.page_headers()
    assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in headers["Permissions-Policy"]


def test_catalogue_plurals_placeholders_and_languages() -> None:
    assert i18n.t("common.close") == "Close"
    assert i18n.t("no.such.id") == "no.such.id"
    assert i18n.pick_language("en-GB") == "en" and i18n.pick_language("<script>") == "en"
    # every plural entry has one and other, and every text is a string
    for key, value in i18n.catalogue("en").items():
        assert isinstance(value, str) or set(value) >= {"one", "other"}, key
    safe = i18n.script_json({"a": "</script><b>&"})
    assert "<" not in safe and ">" not in safe and json.loads(safe) == {"a": "</script><b>&"}


def test_frontend_settings() -> None:
    s = Settings.from_env({"FORUM_EMBED_ORIGINS": "https://Blog.example.org/, http://127.0.0.1:8080"})
    assert s.embed_origins == ("https://blog.example.org", "http://127.0.0.1:8080")
    assert s.guest_challenge is True and s.auto_articles is True
    s = Settings.from_env({"FORUM_GUEST_CHALLENGE": "off", "FORUM_AUTO_ARTICLES": "off"})
    assert s.guest_challenge is False and s.auto_articles is False and s.embed_origins == ()
    assert Settings.from_env({}).auto_articles is False
    for bad in ("blog.example.org", "https://blog.example.org/path", "*", "https://a.example 'unsafe-inline'"):
        with pytest.raises(SettingsError, match="FORUM_EMBED_ORIGINS"):
            Settings.from_env({"FORUM_EMBED_ORIGINS": bad})


def test_every_frontend_file_is_package_data() -> None:
    """`pip install .` serves the front end: pyproject's package-data covers every asset."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["forum"]
    package = root / "forum"
    covered = {p for pattern in patterns for p in package.glob(pattern) if p.is_file()}
    assets_on_disk = {p for p in (package / "frontend").rglob("*")
                      if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    assert assets_on_disk and not (assets_on_disk - covered), sorted(str(p) for p in assets_on_disk - covered)
