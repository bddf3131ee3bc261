"""The OpenAPI document (/schema/openapi.json) and its browser UI (/schema).

Litestar builds the document from the handlers and their msgspec schemas; `finish(app)`
adds, once at start-up, what it cannot infer:

- the JSON errors every operation can answer (forum.errors.ERROR_STATUSES, ErrorBody);
- `security`: required (`[{"bearer": []}]`) on operations whose guards or dependencies
  need a signed-in caller, optional (`[{}, {"bearer": []}]`) where a token only changes
  what the caller may see (and a bad one is still a 401);
- response headers: X-Request-ID on every answer, Retry-After on 429 and 503, and those
  particular routes set (ETag and Cache-Control of thread reads and their 304, the
  Idempotent-Replayed marker, the export's Content-Disposition...);
- request bodies a handler can do without are not marked required.

The UI is Swagger UI served from this package (forum/openapi_ui/, vendored with its
licence): the page loads nothing from another origin and runs no inline script, so
readers' and moderators' addresses never reach a CDN.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar.enums import MediaType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.static_files import create_static_files_router

from forum import auth

if TYPE_CHECKING:
    from litestar import Litestar, Request, Response
    from litestar.router import Router

BEARER = "bearer"
METRICS_TOKEN = "metrics_token"  # noqa: S105 (a scheme name, not a secret)
REQUIRED: list[SecurityRequirement] = [{BEARER: []}]
OPTIONAL: list[SecurityRequirement] = [{}, {BEARER: []}]

# Guards that let an anonymous caller through (a token, when given, is still checked).
_OPTIONAL_GUARDS = frozenset({auth.requires_active_if_signed_in})
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_STRING = Schema(type=OpenAPIType.STRING)
HEADERS: dict[str, OpenAPIHeader] = {
    "X-Request-ID": OpenAPIHeader(
        schema=_STRING, description="The request's id: the client's own X-Request-ID when it is 1-128 characters "
                                    "of [A-Za-z0-9-_.:], otherwise a new one. Quote it when reporting a problem."),
    "Retry-After": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.INTEGER, minimum=1), description="Seconds to wait before trying again."),
    "ETag": OpenAPIHeader(
        schema=_STRING, description="The version of this page for this caller; send it back in If-None-Match."),
    "Cache-Control": OpenAPIHeader(schema=_STRING, description="How long the answer may be kept, and by whom."),
    "Vary": OpenAPIHeader(schema=_STRING, description="`Authorization, Accept-Encoding`: the answer depends on the "
                                                       "caller, and is gzip-compressed for a client that accepts it."),
    "Content-Encoding": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING, enum=["gzip"]),
        description="`gzip` when the body is compressed: the public page, to a client whose Accept-Encoding "
                    "accepts gzip."),
    "Idempotent-Replayed": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING, enum=["true"]),
        description="Present (`true`) when this is the stored answer to an earlier request with the same "
                    "Idempotency-Key, returned instead of posting again."),
    "Content-Disposition": OpenAPIHeader(schema=_STRING, description="`attachment` with a file name."),
}
# Headers particular routes set, by operation id and status (the route's code sets them;
# tests/security/test_openapi.py checks real answers against this table).
ROUTE_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "list_topic_comments": {"200": ("ETag", "Cache-Control", "Vary", "Content-Encoding"),
                            "304": ("ETag", "Cache-Control", "Vary")},
    "create_comment": {"201": ("Idempotent-Replayed",)},
    "stream_topic_events": {"200": ("Cache-Control",)},
    "export_site": {"200": ("Cache-Control", "Content-Disposition")},
    "get_health": {"503": ("Retry-After",)},
}
# Responses Litestar does not know a handler gives (a conditional read's 304).
EXTRA_RESPONSES: dict[str, dict[str, str]] = {
    "list_topic_comments": {"304": "Not modified: the If-None-Match ETag is the current one (no body)."},
}


def http_handlers(app: Litestar) -> Iterator[HTTPRouteHandler]:
    """Every HTTP route handler of the app, with the paths it serves."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler):
                yield handler


def token_use(handler: HTTPRouteHandler) -> str | None:
    """'required' when the handler needs a signed-in caller, 'optional' when it reads the
    caller's token if one is given, None when it never looks at one."""
    guards = set(handler.resolve_guards())
    params = handler.parsed_fn_signature.parameters
    if "user" in params or guards - _OPTIONAL_GUARDS:  # every other guard is about the caller
        return "required"
    if "viewer" in params or guards & _OPTIONAL_GUARDS:
        return "optional"
    return None


def finish(app: Litestar) -> None:
    """Complete the app's OpenAPI document (see the module docstring). Call once, before
    the document is first served."""
    handlers = [h for h in http_handlers(app) if h.resolve_include_in_schema()]
    _document_errors(handlers)  # before the document is built: Litestar renders the specs
    document = app.openapi_schema
    operations = dict(_operations(document))
    _document_optional_bodies(handlers, operations)
    _declare_security(document, handlers, operations)
    _document_headers(document, operations)
    for schema in (document.components.schemas or {}).values():
        for prop in (schema.properties or {}).values():
            _flatten_one_of(prop)


def _flatten_one_of(schema: Schema | Reference) -> None:
    """`oneOf` of a single alternative (what an optional msgspec field with a description
    becomes) is that alternative: hoist it, so the property reads as the plain type."""
    while isinstance(schema, Schema) and schema.one_of and len(schema.one_of) == 1 and schema.type is None:
        inner = schema.one_of[0]
        if not isinstance(inner, Schema):
            return
        schema.one_of = None
        for name, value in vars(inner).items():
            if value is not None and getattr(schema, name, None) is None:
                setattr(schema, name, value)


def _operations(document: OpenAPI) -> Iterator[tuple[str, Operation]]:
    for item in (document.paths or {}).values():
        for method in _METHODS:
            operation = getattr(item, method, None)
            if operation is not None and operation.operation_id:
                yield operation.operation_id, operation


def _document_errors(handlers: list[HTTPRouteHandler]) -> None:
    """Every operation documents the JSON errors the outer layer and forum.errors can
    answer, so clients (and schemathesis) know them; handlers may document more precisely."""
    from forum.errors import ERROR_STATUSES, ErrorBody

    for handler in handlers:
        responses = dict(handler.responses or {})
        for status, description in ERROR_STATUSES.items():
            responses.setdefault(status, ResponseSpec(data_container=ErrorBody, description=description,
                                                      generate_examples=False))
        handler.responses = responses


def _document_optional_bodies(handlers: list[HTTPRouteHandler], operations: dict[str, Operation]) -> None:
    """A handler whose `data` has a default takes requests without a body: say so
    (Litestar marks every request body required)."""
    for handler in handlers:
        param = handler.parsed_fn_signature.parameters.get("data")
        operation = operations.get(str(handler.operation_id))
        if param is not None and param.has_default and operation is not None and operation.request_body:
            operation.request_body.required = False  # type: ignore[union-attr]


def _declare_security(document: OpenAPI, handlers: list[HTTPRouteHandler], operations: dict[str, Operation]) -> None:
    schemes = document.components.security_schemes = dict(document.components.security_schemes or {})
    schemes.setdefault(BEARER, SecurityScheme(type="http", scheme="bearer",
                                              description="The token from login or register."))
    schemes[METRICS_TOKEN] = SecurityScheme(
        type="http", scheme="bearer", description="FORUM_METRICS_TOKEN, when the operator sets one.")
    for handler in handlers:
        operation = operations.get(str(handler.operation_id))
        if operation is None:
            continue
        use = token_use(handler)
        if use is not None:
            operation.security = list(REQUIRED if use == "required" else OPTIONAL)
    if (metrics := operations.get("get_metrics")) is not None:
        metrics.security = [{}, {METRICS_TOKEN: []}]


def _document_headers(document: OpenAPI, operations: dict[str, Operation]) -> None:
    document.components.headers = {**(document.components.headers or {}), **HEADERS}

    def ref(name: str) -> Reference:
        return Reference(ref=f"#/components/headers/{name}")

    for operation_id, operation in operations.items():
        responses = operation.responses = dict(operation.responses or {})
        for status, description in EXTRA_RESPONSES.get(operation_id, {}).items():
            responses.setdefault(status, OpenAPIResponse(description=description))
        for status, response in responses.items():
            if not isinstance(response, OpenAPIResponse):
                continue
            headers = response.headers = dict(response.headers or {})
            names = ["X-Request-ID", *ROUTE_HEADERS.get(operation_id, {}).get(status, ())]
            if status in ("429", "503"):
                names.append("Retry-After")
            for name in names:
                headers.setdefault(name, ref(name))


# ---------------------------------------------------------------- the browser UI

UI_DIR = Path(__file__).resolve().parent / "openapi_ui"
_ASSETS = "/assets"
# The page runs only the package's own scripts; Swagger UI sets style attributes, hence
# 'unsafe-inline' for styles (never for scripts).
UI_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
          "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


async def _ui_policy(response: Response[Any]) -> Response[Any]:
    media_type = getattr(response, "media_type", None)  # (a file response has none)
    if str(getattr(media_type, "value", media_type)).startswith(MediaType.HTML.value):
        response.headers["Content-Security-Policy"] = UI_CSP
    return response


class SwaggerUI(OpenAPIRenderPlugin):
    """Swagger UI from forum/openapi_ui/ (same origin): the page, its assets under
    `<schema path>/assets/`, and a small init script instead of Litestar's inline one."""

    def __init__(self, *, path: str = "/") -> None:
        super().__init__(path=path, media_type=MediaType.HTML, favicon="", style="")
        self.base = "/schema"

    def receive_router(self, router: Router) -> None:
        self.base = router.path.rstrip("/")
        router.register(create_static_files_router(
            path=_ASSETS, directories=[UI_DIR], name="openapi-ui-assets", include_in_schema=False))
        router.after_request = _ui_policy  # the HTML pages under the schema path

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema["info"]["title"]))
        assets = html.escape(self.base + _ASSETS, quote=True)
        spec = html.escape(self.get_openapi_json_route(request), quote=True)
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
<link rel="icon" href="{assets}/favicon-32x32.png" type="image/png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="stylesheet" href="{assets}/forum-swagger.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/forum-swagger-init.js" data-spec-url="{spec}"></script>
</body>
</html>
""".encode()
