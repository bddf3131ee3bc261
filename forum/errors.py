"""Domain errors and the one mapping from exceptions to JSON error responses.

Every failure answers `{"status_code": N, "detail": "human sentence", ...}`. Services
raise the `DomainError` subclasses below; controllers never build error responses.
"""

from __future__ import annotations

import logging
from datetime import datetime
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

import asyncpg
import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = logging.getLogger("forum.errors")


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """Every error response (documented on every operation by forum.openapi). The optional
    fields appear only on the errors that carry them."""

    status_code: int
    detail: str
    retry_after: Annotated[int, msgspec.Meta(
        description="429: seconds to wait, as in the Retry-After header.")] | msgspec.UnsetType = msgspec.UNSET
    suspended_until: Annotated[datetime | None, msgspec.Meta(
        description="403 for a suspended account: when the suspension ends (null: until a moderator lifts it)."
    )] | msgspec.UnsetType = msgspec.UNSET
    rule: Annotated[str, msgspec.Meta(
        description="422: the content rule that refused it (`banned_words`).")] | msgspec.UnsetType = msgspec.UNSET
    claimed_by: Annotated[int | None, msgspec.Meta(
        description="409 on a claim or decision: the id of the moderator holding the item's lease."
    )] | msgspec.UnsetType = msgspec.UNSET
    second_factor_required: Annotated[bool, msgspec.Meta(
        description="401 from POST /api/auth/login: the password was right and the account has two-factor"
                    " sign-in; send `challenge` with a code to POST /api/auth/login/second-factor."
    )] | msgspec.UnsetType = msgspec.UNSET
    challenge: Annotated[str, msgspec.Meta(
        description="401 with second_factor_required: the short-lived sign-in challenge."
    )] | msgspec.UnsetType = msgspec.UNSET
    challenge_expires_at: Annotated[datetime, msgspec.Meta(
        description="401 with second_factor_required: when the challenge expires."
    )] | msgspec.UnsetType = msgspec.UNSET


ERROR_STATUSES = {
    400: "Invalid input; the detail names the field.",
    401: "No, bad or expired token.",
    403: "Not allowed (role, ownership or suspension).",
    404: "Not found, or not visible to the caller.",
    409: "Conflict: duplicate, already claimed or already decided.",
    413: "The request body is too large.",
    422: "Refused by a content rule.",
    429: "Rate limited; see Retry-After.",
    503: "The database is unavailable or the request took too long; see Retry-After.",
}


class DomainError(Exception):
    status_code = 400

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class BadRequest(DomainError):
    """Invalid input: the detail names the field."""

    status_code = 400


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class ContentRefused(DomainError):
    """Refused by a content rule (banned word): nothing is stored."""

    status_code = 422


class RateLimited(DomainError):
    status_code = 429

    def __init__(self, detail: str, retry_after: int, **extra: Any):
        retry_after = max(1, int(retry_after))
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, retry_after=retry_after, **extra)


class Unavailable(DomainError):
    status_code = 503

    def __init__(self, detail: str = "The database is unavailable; try again shortly.", retry_after: int = 5):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def error_response(status_code: int, detail: str, headers: dict[str, str] | None = None,
                   **extra: Any) -> Response[dict[str, Any]]:
    return Response(
        content={"status_code": status_code, "detail": detail, **extra},
        status_code=status_code,
        media_type=MediaType.JSON,
        headers=headers or {},
    )


def _literal_values(annotation: Any) -> tuple[Any, ...] | None:
    """The values of a Literal type, through Annotated and Optional; None for other types."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    if get_origin(annotation) in (Union, UnionType):
        for arm in get_args(annotation):
            values = _literal_values(arm)
            if values is not None:
                return values
    return None


def _allowed(request: Request[Any, Any, Any] | None, key: str, source: Any) -> tuple[Any, ...] | None:
    """The allowed values of the request field `key` when its type is a Literal (a choice),
    read from the handler's own signature: a bad choice's error names the good ones."""
    if request is None:
        return None
    try:
        handler = request.route_handler
        if source in ("query", "path", "header", "cookie"):
            param = handler.parsed_fn_signature.parameters.get(str(key))
            return _literal_values(param.annotation) if param is not None else None
        data = handler.parsed_data_field
        if data is None:
            return None
        structs = [a for a in (data.annotation, *get_args(data.annotation))
                   if isinstance(a, type) and issubclass(a, msgspec.Struct)]  # X or X | None
        if not structs:
            return None
        hints = get_type_hints(structs[0], include_extras=True)
        return _literal_values(hints[str(key)]) if str(key) in hints else None
    except Exception:  # only a nicer message is at stake
        return None


def _validation_detail(exc: ValidationException, request: Request[Any, Any, Any] | None = None) -> str:
    """Litestar says 'Validation failed for POST /x'; name the fields instead (and, for a
    choice, the allowed values)."""
    parts: list[str] = []
    extra = exc.extra if isinstance(exc.extra, list) else [exc.extra] if exc.extra else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message") or "").strip()
        key = item.get("key")
        source = item.get("source")
        source = getattr(source, "value", source)
        if message and key and message.startswith("Invalid enum value"):
            values = _allowed(request, str(key), source)
            if values:
                message = f"{message.split(' - at ')[0]}; must be one of {', '.join(map(str, values))}"
        if message and key and str(key) not in message:
            where = f"{source} parameter " if source in ("query", "path", "header", "cookie") else ""
            parts.append(f"{where}{key}: {message}")
        elif message:
            parts.append(message)
    if parts:
        return "Invalid input: " + "; ".join(parts)
    detail = exc.detail or "Invalid input"
    if "decode" in detail.lower() or "json" in detail.lower():
        return "The request body is not valid JSON."
    return detail


def domain_error_handler(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    return error_response(exc.status_code, exc.detail, exc.headers, **exc.extra)


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        return error_response(400, _validation_detail(exc, request), headers)
    detail = exc.detail or ""
    if status == 404:
        detail = "Not found."
    elif status == 405:
        detail = f"Method {request.method} is not allowed here."
    elif status == 413:
        detail = "The request body is too large."
    elif status == 401 and not detail:
        detail = "Authentication required."
    elif status >= 500:
        log.error("HTTP %s on %s %s: %s", status, request.method, request.url.path, detail,
                  extra={"request_id": request_id_of(request)})
        detail = "The server could not handle this request."
    return error_response(status, detail or "Request failed.", headers)


_DB_DOWN = (
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
    # A connection broken mid-protocol by a server shutdown ("cannot switch to state 15;
    # another operation is in progress" while the pool resets it): seen in the fault tests.
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
    OSError,
)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    rid = request_id_of(request)
    # Malformed bodies the JSON decoder does not turn into a ValidationException.
    if isinstance(exc, UnicodeDecodeError):
        return error_response(400, "The request body is not valid UTF-8.")
    if isinstance(exc, RecursionError):
        return error_response(400, "The request body is nested too deeply.")
    # Input the validation let through but PostgreSQL cannot take: a NUL in text
    # (CharacterNotInRepertoireError), a number past a column's range (asyncpg raises
    # OverflowError while encoding, PostgreSQL NumericValueOutOfRangeError). Nothing was
    # stored (the transaction rolled back); it is the request's fault, not the server's.
    if isinstance(exc, (asyncpg.exceptions.DataError, OverflowError)):
        log.warning("input refused by the database on %s %s (%s: %s) request_id=%s", request.method,
                    request.url.path, type(exc).__name__, exc, rid)
        if isinstance(exc, asyncpg.exceptions.CharacterNotInRepertoireError):
            return error_response(400, "The request contains a character that cannot be stored (NUL).")
        return error_response(400, "A value in the request is out of range or cannot be stored.")
    if isinstance(exc, (*_DB_DOWN, TimeoutError)):
        log.warning("database unavailable on %s %s (%s: %s) request_id=%s", request.method,
                    request.url.path, type(exc).__name__, exc, rid)
        return error_response(503, "The database is unavailable; try again shortly.", {"Retry-After": "5"})
    if isinstance(exc, asyncpg.exceptions.QueryCanceledError):
        log.warning("statement timeout on %s %s request_id=%s", request.method, request.url.path, rid)
        return error_response(503, "The request took too long; try again shortly.", {"Retry-After": "2"})
    log.exception("unhandled error on %s %s request_id=%s", request.method, request.url.path, rid)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR,
                          f"Internal error; quote request id {rid} when reporting it.")


def request_id_of(request: Request[Any, Any, Any]) -> str:
    return str(request.scope.get("state", {}).get("request_id") or "-")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: domain_error_handler,
    HTTPException: http_exception_handler,
    Exception: internal_error_handler,
}
