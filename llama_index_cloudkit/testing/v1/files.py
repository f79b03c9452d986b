"""Files v1 (F1-F4 of the reference, presigned URLs, upload from URL, page pictures): routes.

The files themselves are :class:`~llama_index_cloudkit.testing.storage.StoredFile` records in
``EmulatorState.files``, shared with Files v2.

- ``POST /api/v1/files``: multipart upload (part ``upload_file``).
- ``PUT /api/v1/files``: presigned upload; answers ``{file_id, url, expires_at}``. The client
  then sends the bytes with a ``PUT`` to ``url`` (no bearer key), and reads the file with F2.
- ``GET /api/v1/files/{id}/content``: answers ``{url, expires_at}``, a presigned GET.
- ``PUT /api/v1/files/upload_from_url``: the emulator never fetches URLs. It stores the bytes a
  test registered with ``FakeLlamaCloud.serve_url``, or else a placeholder
  (:func:`placeholder_bytes`), and says so in the request log (``RecordedRequest.note``) and in
  a warning.
- ``GET /api/v1/files/{id}/page_screenshots/{n}`` renders PDF pages;
  ``GET /api/v1/files/{id}/page-figures/{n}/{name}`` serves the pictures drawn on them.

Example:
    >>> from llama_index_cloudkit.testing.state import EmulatorState
    >>> router = file_router(EmulatorState())
    >>> sorted({r.path for r in router.routes})[:2]
    ['/_storage/files/{file_id}', '/api/v1/files']
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from llama_index_cloudkit.testing._pages import TINY_PNG
from llama_index_cloudkit.testing.jobs import NotFound
from llama_index_cloudkit.testing.storage import DEFAULT_EXPIRY_SECONDS, STORAGE_PREFIX
from llama_index_cloudkit.testing.wire import detail, json_body, require_field, validation_error

if TYPE_CHECKING:
    from llama_index_cloudkit.testing.state import EmulatorState

__all__ = ["file_router", "placeholder_bytes"]

logger = logging.getLogger(__name__)


def _expiry(request: Request) -> int:
    raw = request.query_params.get("expires_at_seconds")
    if raw is None:
        return DEFAULT_EXPIRY_SECONDS
    try:
        return max(int(raw), 1)
    except ValueError:
        return DEFAULT_EXPIRY_SECONDS


def _name_from_url(url: str) -> str:
    return posixpath.basename(urlsplit(url).path) or "download"


_TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".csv", ".json", ".html", ".htm")


def placeholder_bytes(name: str, url: str) -> bytes:
    """What ``upload_from_url`` stores when nothing was registered for ``url``.

    A text file says that it is a placeholder (so an index that ingests it has a document to
    show); any other type is empty (its ingestion fails, as an unreadable file would).

    Example:
        >>> placeholder_bytes("robots.txt", "https://example.com/robots.txt")[:12]
        b'Placeholder:'
        >>> placeholder_bytes("a.pdf", "https://example.com/a.pdf")
        b''
    """
    if not name.lower().endswith(_TEXT_SUFFIXES):
        return b""
    return f"Placeholder: the LlamaCloud emulator did not fetch {url}.".encode()


def file_router(state: EmulatorState) -> APIRouter:
    """The files routes and the presigned-URL object store, bound to ``state``.

    Example:
        >>> from llama_index_cloudkit.testing.state import EmulatorState
        >>> any(r.path == "/api/v1/files/{file_id}/content" for r in file_router(EmulatorState()).routes)
        True
    """
    router = APIRouter()

    def storage_url(request: Request, file_id: str, method: str, seconds: int) -> tuple[str, str]:
        token, expires_at = state.presigned.sign(file_id, method, seconds)
        base = str(request.base_url).rstrip("/")
        return f"{base}{STORAGE_PREFIX}/files/{file_id}?token={token}", expires_at

    @router.post("/api/v1/files")
    async def upload_file(request: Request) -> Response:
        form = await request.form()
        upload = form.get("upload_file")
        if upload is None or isinstance(upload, str):
            return validation_error(["body", "upload_file"], "Field required", "missing")
        data = await upload.read()
        await upload.close()
        stored = state.add_file(
            upload.filename or "upload.bin",
            data,
            request.query_params.get("project_id"),
            request.query_params.get("external_file_id"),
        )
        return JSONResponse(stored.to_json())

    @router.put("/api/v1/files")
    async def presigned_upload(request: Request) -> Response:
        body = await json_body(request)
        name = require_field(body, "name", str)
        stored = state.add_file(
            name,
            b"",
            request.query_params.get("project_id"),
            body.get("external_file_id"),
            uploaded=False,
        )
        url, expires_at = storage_url(request, stored.id, "PUT", _expiry(request))
        return JSONResponse({"file_id": stored.id, "url": url, "expires_at": expires_at, "form_fields": None})

    @router.put("/api/v1/files/upload_from_url")
    async def upload_from_url(request: Request) -> Response:
        body = await json_body(request)
        url = require_field(body, "url", str)
        name = body.get("name") or _name_from_url(url)
        data = state.url_contents.get(url)
        headers: dict[str, str] = {}
        if data is None:
            data = placeholder_bytes(name, url)
            note = f"the emulator did not fetch {url}: stored a placeholder file ({len(data)} bytes)"
            logger.warning("LlamaCloud emulator: %s", note)
            headers["x-emulator-note"] = note
        else:
            headers["x-emulator-note"] = f"the emulator did not fetch {url}: stored the registered bytes"
        stored = state.add_file(name, data, request.query_params.get("project_id"), source_url=url)
        return JSONResponse(stored.to_json(), headers=headers)

    @router.get("/api/v1/files/{file_id}")
    async def get_file(file_id: str) -> Response:
        return JSONResponse(state.get_file(file_id).to_json())

    @router.get("/api/v1/files/{file_id}/content")
    async def read_content(file_id: str, request: Request) -> Response:
        state.get_file(file_id)
        url, expires_at = storage_url(request, file_id, "GET", _expiry(request))
        return JSONResponse({"url": url, "expires_at": expires_at, "form_fields": None})

    @router.put(STORAGE_PREFIX + "/files/{file_id}")
    async def storage_put(file_id: str, request: Request) -> Response:
        if not state.presigned.check(request.query_params.get("token", ""), file_id, "PUT"):
            return detail("Request has expired or the signature does not match", 403)
        state.store_upload(file_id, await request.body())
        return Response(status_code=200, headers={"etag": f'"{file_id}"'})

    @router.api_route(STORAGE_PREFIX + "/files/{file_id}", methods=["GET", "HEAD"])
    async def storage_get(file_id: str, request: Request) -> Response:
        if not state.presigned.check(request.query_params.get("token", ""), file_id, request.method):
            return detail("Request has expired or the signature does not match", 403)
        stored = state.get_file(file_id)
        if not stored.uploaded:
            raise NotFound(f"the content of {file_id} (never uploaded to its presigned URL)")
        return Response(stored.data, media_type="application/octet-stream")

    @router.get("/api/v1/files/{file_id}/page_screenshots/{page_index}")
    async def page_screenshot(file_id: str, page_index: int) -> Response:
        data = await asyncio.to_thread(state.page_screenshot, file_id, page_index)
        return Response(data, media_type="image/jpeg")

    @router.get("/api/v1/files/{file_id}/page-figures/{page_index}/{figure_name}")
    async def page_figure(file_id: str, page_index: int, figure_name: str) -> Response:
        if file_id not in state.files and file_id in state.fixtures.file_ids:
            return Response(TINY_PNG, media_type="image/png")  # named by a served fixture
        figures = await asyncio.to_thread(state.page_figures, file_id, page_index)
        if figure_name not in figures:
            raise NotFound(f"figure {figure_name!r} on page {page_index} of {file_id}")
        return Response(figures[figure_name], media_type="image/png")

    return router
