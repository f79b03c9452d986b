"""Files v2 (``POST /api/v1/beta/files`` and its presigned download): routes.

- ``POST /api/v1/beta/files``: multipart with parts ``file``, ``purpose`` and optional
  ``external_file_id``; answers ``{id: "dfl-...", name, project_id, file_type, purpose, ...}``.
  The file joins the emulator's file store, so Parse v2 (``file_id``) and Extract v2
  (``file_input``) read it.
- ``GET /api/v1/beta/files/{file_id}/content``: a presigned download URL ``{url, expires_at}``.

Not emulated (501): listing, reading, updating and deleting beta files.

Example:
    >>> from llama_index_cloudkit.testing.state import EmulatorState
    >>> router = v2_files_router(EmulatorState())
    >>> sorted(r.path for r in router.routes)
    ['/api/v1/beta/files', '/api/v1/beta/files/{file_id}/content']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from llama_index_cloudkit.testing.storage import DEFAULT_EXPIRY_SECONDS, STORAGE_PREFIX
from llama_index_cloudkit.testing.wire import BadRequest

if TYPE_CHECKING:
    from llama_index_cloudkit.testing.state import EmulatorState

__all__ = ["v2_files_router"]


def v2_files_router(state: EmulatorState) -> APIRouter:
    """The v2 file routes, bound to ``state``.

    Example:
        >>> from llama_index_cloudkit.testing.state import EmulatorState
        >>> len(v2_files_router(EmulatorState()).routes)
        2
    """
    router = APIRouter(prefix="/api/v1/beta/files")
    v2 = state.v2

    @router.post("")
    async def create_file(request: Request) -> Response:
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BadRequest(["body", "file"], "Field required", "missing")
        purpose = form.get("purpose")
        if not isinstance(purpose, str) or not purpose:
            raise BadRequest(["body", "purpose"], "Field required", "missing")
        external = form.get("external_file_id")
        data = await upload.read()
        await upload.close()
        stored = v2.add_file(
            upload.filename or "upload.bin",
            data,
            request.query_params.get("project_id"),
            purpose,
            external if isinstance(external, str) else None,
        )
        return JSONResponse(v2.file_json(stored))

    @router.get("/{file_id}/content")
    async def file_content(file_id: str, request: Request) -> Response:
        state.get_file(file_id)
        token, expires_at = state.presigned.sign(file_id, "GET", DEFAULT_EXPIRY_SECONDS)
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {"url": f"{base}{STORAGE_PREFIX}/files/{file_id}?token={token}", "expires_at": expires_at}
        )

    return router
