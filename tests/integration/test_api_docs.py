"""docs/api.md is the API reference: it names every route the app serves, and no other.

The route table is the app's own (`app.routes`), so a new route fails this test until it is
documented, and a removed one until its row goes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from litestar.handlers import HTTPRouteHandler

from tests.security.support import strip_types

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
# Litestar's own answers, not routes of the API: the HTML 404 page under /schema.
NOT_API = {("GET", "/schema/{}")}
_ROW = re.compile(r"^\|\s*([A-Z, ]+?)\s*\|\s*(/[^\s|]*)\s*\|")


def _shape(path: str) -> str:
    """'/api/users/{user_id}' and '/api/users/{id}' -> '/api/users/{}'."""
    return re.sub(r"\{[^}]*\}", "{}", strip_types(path)).rstrip("/") or "/"


def documented_routes() -> set[tuple[str, str]]:
    routes = set()
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            for method in match.group(1).split(","):
                routes.add((method.strip(), _shape(match.group(2))))
    return routes


def served_routes(app: Any) -> set[tuple[str, str]]:
    routes = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler):
                for method in handler.http_methods - {"HEAD", "OPTIONS"}:
                    routes.add((method, _shape(route.path)))
    return routes - NOT_API


def test_the_docs_table_parser_reads_rows() -> None:
    assert _ROW.match("| GET, PUT | /api/moderation/rules | word lists |")
    assert not _ROW.match("|---|---|---|")
    assert ("PUT", "/api/moderation/rules") in documented_routes()


async def test_docs_name_every_served_route(app: Any) -> None:
    served, documented = served_routes(app), documented_routes()
    assert len(served) >= 45
    missing = sorted(served - documented)
    assert not missing, f"served but not in docs/api.md: {missing}"
    phantom = sorted(documented - served)
    assert not phantom, f"in docs/api.md but not served: {phantom}"


async def test_docs_name_every_closed_set_value(client: Any) -> None:
    """Each enum value of the OpenAPI document appears in the reference (inside backticks)."""
    doc = (await client.get("/schema/openapi.json")).json()
    text = DOCS.read_text(encoding="utf-8")
    values: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            values.update(v for v in node.get("enum", ()) if isinstance(v, str))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    assert len(values) >= 30
    named = {word for span in re.findall(r"`([^`]+)`", text) for word in re.findall(r"[A-Za-z_]+", span)}
    missing = sorted(values - named)
    assert not missing, f"enum values the reference never names: {missing}"
