"""Routes of the emulated index API: pipelines, documents, files, sync, status, retrieve."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from llama_index_cloudkit.testing.jobs import DEFAULT_PROJECT
from llama_index_cloudkit.testing.pipelines import pipeline_json
from llama_index_cloudkit.testing.state import EmulatorState

__all__ = ["pipeline_router"]


def _doc_id(raw: str) -> str:
    # The SDK quote_plus-es document ids twice; the framework decoded the path once.
    return unquote_plus(raw)


def _as_422(exc: ValidationError) -> JSONResponse:
    detail = [
        {"loc": ["body", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]} for e in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def pipeline_router(state: EmulatorState) -> APIRouter:
    """The index routes, bound to ``state``.

    Example:
        >>> router = pipeline_router(EmulatorState())
        >>> any(r.path.endswith("/retrieve") for r in router.routes)
        True
    """
    router = APIRouter(prefix="/api/v1/pipelines")
    store = state.pipelines

    @router.put("")
    async def upsert_pipeline(request: Request) -> Response:
        body = await request.json()
        project_id = request.query_params.get("project_id") or DEFAULT_PROJECT["id"]
        if not body.get("name"):
            return JSONResponse(
                {
                    "detail": [
                        {"loc": ["body", "name"], "msg": "field required", "type": "value_error.missing"}
                    ]
                },
                status_code=422,
            )
        return JSONResponse(pipeline_json(store.upsert_pipeline(body["name"], project_id)))

    @router.get("")
    async def search_pipelines(request: Request) -> Response:
        found = store.find(request.query_params.get("project_id"), request.query_params.get("pipeline_name"))
        return JSONResponse([pipeline_json(p) for p in found])

    @router.get("/{pipeline_id}")
    async def get_pipeline(pipeline_id: str) -> Response:
        return JSONResponse(pipeline_json(store.get(pipeline_id)))

    @router.delete("/{pipeline_id}")
    async def delete_pipeline(pipeline_id: str) -> Response:
        store.delete(pipeline_id)
        return Response(status_code=204)

    @router.put("/{pipeline_id}/documents")
    @router.post("/{pipeline_id}/documents")
    async def upsert_documents(pipeline_id: str, request: Request) -> Response:
        body: Any = await request.json()
        if not isinstance(body, list):
            return JSONResponse(
                {"detail": [{"loc": ["body"], "msg": "a list is required", "type": "type_error.list"}]},
                status_code=422,
            )
        return JSONResponse(store.upsert_documents(pipeline_id, body))

    @router.get("/{pipeline_id}/documents")
    async def list_documents(pipeline_id: str, request: Request) -> Response:
        skip = int(request.query_params.get("skip", 0))
        limit = int(request.query_params.get("limit", 100))
        return JSONResponse(store.list_documents(pipeline_id, skip, limit))

    @router.get("/{pipeline_id}/documents/{doc_id}/status")
    async def document_status(pipeline_id: str, doc_id: str) -> Response:
        store.document(pipeline_id, _doc_id(doc_id))
        return JSONResponse({"status": "SUCCESS"})

    @router.delete("/{pipeline_id}/documents/{doc_id}")
    async def delete_document(pipeline_id: str, doc_id: str) -> Response:
        store.delete_document(pipeline_id, _doc_id(doc_id))
        return Response(status_code=204)

    @router.post("/{pipeline_id}/sync")
    async def sync(pipeline_id: str) -> Response:
        return JSONResponse(pipeline_json(store.get(pipeline_id)))

    @router.get("/{pipeline_id}/status")
    async def pipeline_status(pipeline_id: str) -> Response:
        store.get(pipeline_id)
        return JSONResponse({"status": store.next_status()})

    @router.put("/{pipeline_id}/files")
    async def add_files(pipeline_id: str, request: Request) -> Response:
        from llama_index_cloudkit.parse.local import LocalParser

        store.get(pipeline_id)
        for item in await request.json():
            stored = state.get_file(item["file_id"])
            pages = LocalParser(ocr="off").parse(stored.data, stored.name).pages
            store.add_file_documents(
                pipeline_id,
                stored.id,
                stored.name,
                [(p.number, p.markdown()) for p in pages],
                item.get("custom_metadata"),
            )
        return JSONResponse([])

    @router.get("/{pipeline_id}/files/{file_id}/status")
    async def file_status(pipeline_id: str, file_id: str) -> Response:
        files = store.get(pipeline_id)["files"]
        return JSONResponse({"status": files.get(file_id, {}).get("status", "NOT_STARTED")})

    @router.post("/{pipeline_id}/retrieve")
    async def retrieve(pipeline_id: str, request: Request) -> Response:
        body = await request.json()
        try:
            return JSONResponse(store.retrieve(pipeline_id, body))
        except ValidationError as exc:
            return _as_422(exc)

    return router
