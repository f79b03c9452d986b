"""The emulator's errors in the service's wire format: ``{"detail": ...}`` JSON, never plain text.

LlamaCloud is a FastAPI service: an error is ``{"detail": "<message>"}`` with its status, and a
422 is ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``, the only 422 shape the
generated client can read. Routes raise the exceptions below (or return these responses);
:func:`install_error_handlers` turns every other exception into a JSON 500 as well.

An unknown route answers **501** ``not emulated`` (header ``x-emulator: not-emulated``), so a
missing route never passes for a lost job (404) or a service fault the client should retry.

Example:
    >>> detail("Not found: job-1").status_code
    404
    >>> validation_error(["body", "name"], "field required").status_code
    422
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from llama_index_cloudkit.testing.jobs import NotFound

__all__ = [
    "ERROR_HEADER",
    "NOT_EMULATED_HEADER",
    "NOT_EMULATED_STATUS",
    "BadRequest",
    "NotEmulated",
    "as_422",
    "detail",
    "install_error_handlers",
    "json_body",
    "not_emulated",
    "require_field",
    "validation_error",
]

NOT_EMULATED_STATUS = 501
NOT_EMULATED_HEADER = ("x-emulator", "not-emulated")
ERROR_HEADER = ("x-emulator", "error")


class BadRequest(ValueError):
    """A request the service rejects with a FastAPI-shaped 422.

    Example:
        >>> BadRequest(["body", "name"], "field required").loc
        ['body', 'name']
    """

    def __init__(self, loc: list[str], message: str, kind: str = "value_error") -> None:
        super().__init__(message)
        self.loc, self.message, self.kind = loc, message, kind


class NotEmulated(Exception):
    """A feature of the service the emulator does not have; answered 501 ``not emulated``.

    Example:
        >>> str(NotEmulated("URL parse inputs"))
        'URL parse inputs'
    """


def detail(message: str, status: int = 404, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """An error answer ``{"detail": message}``.

    Example:
        >>> detail("nope", 409).body
        b'{"detail":"nope"}'
    """
    return JSONResponse({"detail": message}, status_code=status, headers=dict(headers or {}))


def validation_error(loc: list[str], message: str, kind: str = "value_error") -> JSONResponse:
    """A 422 in FastAPI's shape, which the generated client requires.

    Example:
        >>> validation_error(["body"], "a list is required").body
        b'{"detail":[{"loc":["body"],"msg":"a list is required","type":"value_error"}]}'
    """
    return JSONResponse({"detail": [{"loc": loc, "msg": message, "type": kind}]}, status_code=422)


def as_422(exc: ValidationError, prefix: str = "body") -> JSONResponse:
    """A pydantic ValidationError as FastAPI would answer it.

    Example:
        >>> from pydantic import BaseModel
        >>> class M(BaseModel):
        ...     n: int
        >>> try:
        ...     M(n="x")
        ... except ValidationError as exc:
        ...     as_422(exc).status_code
        422
    """
    errors = [
        {"loc": [prefix, *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]} for e in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


def not_emulated(what: str) -> JSONResponse:
    """The 501 answer for something the emulator does not do.

    Example:
        >>> not_emulated("GET /api/v1/organizations").status_code
        501
    """
    return detail(f"not emulated: {what}", NOT_EMULATED_STATUS, dict([NOT_EMULATED_HEADER]))


async def json_body(request: Request) -> Any:
    """The request's JSON body; BadRequest (422 ``json_invalid``) when it is not JSON.

    Example:
        >>> import asyncio
        >>> from starlette.requests import Request
        >>> async def receive() -> dict:
        ...     return {"type": "http.request", "body": b'{"name": "a"}'}
        >>> asyncio.run(json_body(Request({"type": "http", "headers": []}, receive)))
        {'name': 'a'}
    """
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except ValueError as exc:
        raise BadRequest(["body", str(getattr(exc, "pos", 0))], "JSON decode error", "json_invalid") from None


def require_field(body: Any, name: str, kind: type | tuple[type, ...] = object) -> Any:
    """``body[name]``, or BadRequest (422 ``missing``) as FastAPI's body validation answers.

    Example:
        >>> require_field({"name": "a"}, "name", str)
        'a'
    """
    if not isinstance(body, dict):
        raise BadRequest(["body"], "Input should be a valid dictionary", "dict_type")
    if body.get(name) is None:
        raise BadRequest(["body", name], "Field required", "missing")
    value = body[name]
    if not isinstance(value, kind):
        raise BadRequest(["body", name], f"Input should be of type {_kind_name(kind)}", "type_error")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as JSON in the service's shape, the unexpected ones as a logged 500.

    Example:
        >>> app = FastAPI()
        >>> install_error_handlers(app)
        >>> NotFound in app.exception_handlers
        True
    """

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return detail(f"Not found: {exc.args[0] if exc.args else request.url.path}")

    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest) -> JSONResponse:
        return validation_error(exc.loc, exc.message, exc.kind)

    @app.exception_handler(NotEmulated)
    async def _not_emulated(request: Request, exc: NotEmulated) -> JSONResponse:
        return not_emulated(str(exc))

    @app.exception_handler(ValidationError)
    async def _validation(request: Request, exc: ValidationError) -> JSONResponse:
        return as_422(exc)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(map(str, e["loc"])), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return detail(str(exc.detail), exc.status_code, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette answers with this, then re-raises; the Gatekeeper logs and records it.
        return detail(
            f"Internal Server Error (emulator bug): {type(exc).__name__}: {exc}",
            500,
            dict([ERROR_HEADER]),
        )
