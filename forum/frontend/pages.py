"""HTML pages: the Jinja template engine (templates in forum/frontend/templates/, with
`t()`, `asset_url()` and `script_json` available) and `page()`, the one way a surface
answers with an HTML page (the security headers of forum/frontend/csp.py on every one)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from forum.frontend import csp, i18n
from forum.frontend.assets import asset_url

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


def _configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.globals["asset_url"] = asset_url
    env.globals["t"] = i18n.t
    env.filters["script_json"] = i18n.script_json


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATE_DIR, engine=JinjaTemplateEngine, engine_callback=_configure)


def page(template_name: str, *, title: str, lang: str = i18n.DEFAULT_LANG, module: str | None = None,
         i18n_prefixes: Sequence[str] = (), config: dict[str, Any] | None = None,
         frame_ancestors: Sequence[str] = (), worker_src: bool = False, theme: str = "auto",
         stylesheets: Sequence[str] = (), context: dict[str, Any] | None = None,
         status_code: int = 200) -> Template:
    """An HTML page from `template_name` (which extends base.html).
    `module`: the page's one ES module (a static path); `i18n_prefixes`: the catalogue sections
    embedded for it; `config`: JSON embedded as `#forum-config`; `frame_ancestors`: who may frame it."""
    ctx = {
        "title": title, "lang": lang, "theme": theme if theme in ("light", "dark", "auto") else "auto",
        "module": module, "stylesheets": list(stylesheets),
        "i18n": i18n.section(lang, *i18n_prefixes), "config": config or {},
        **(context or {}),
    }
    return Template(template_name=template_name, context=ctx, status_code=status_code,
                    headers=csp.page_headers(frame_ancestors, worker_src=worker_src),
                    media_type="text/html; charset=utf-8")
