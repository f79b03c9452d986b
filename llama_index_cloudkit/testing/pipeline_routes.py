"""Routes of the emulated index API: pipelines, documents, files, sync, status, retrieve.

``GET /api/v1/pipelines`` filters by ``project_id``, ``project_name``, ``pipeline_name`` and
``pipeline_type``. ``retrieve`` with ``retrieve_page_screenshot_nodes`` answers one image node
per PDF page among the hits, and with ``retrieve_page_figure_nodes`` one figure node per picture
drawn on those pages (the SDK then fetches each image).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from llama_index_cloudkit.errors import CloudKitError, ConfigError
from llama_index_cloudkit.testing.jobs import DEFAULT_PROJECT, NotFound
from llama_index_cloudkit.testing.pipelines import pipeline_json
from llama_index_cloudkit.testing.state import EmulatorState
from llama_index_cloudkit.testing.wire import as_422, json_body, require_field, validation_error

__all__ = ["figure_nodes", "pipeline_router", "screenshot_nodes"]


def _doc_id(raw: str) -> str:
    # The SDK quote_plus-es document ids twice; the framework decoded the path once.
    return unquote_plus(raw)


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return -1


def _hit_pages(result: dict[str, Any]) -> list[tuple[str, int, dict[str, Any], float]]:
    """(file id, page index, metadata, score) of the file pages among the hits, best first, once."""
    pages: list[tuple[str, int, dict[str, Any], float]] = []
    seen: set[tuple[str, int]] = set()
    for hit in result.get("retrieval_nodes", []):
        info = hit["node"].get("extra_info") or {}
        file_id, page = info.get("file_id"), info.get("page_number")
        if not isinstance(file_id, str) or not isinstance(page, int) or (file_id, page - 1) in seen:
            continue
        seen.add((file_id, page - 1))
        metadata = {"file_name": info.get("file_name"), "page_number": page}
        pages.append((file_id, page - 1, metadata, float(hit.get("score") or 0.0)))
    return pages


def figure_nodes(state: EmulatorState, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Figure nodes for the pictures drawn on the PDF pages among ``result``'s hits.

    Example:
        >>> figure_nodes(EmulatorState(), {"retrieval_nodes": []})
        []
    """
    nodes: list[dict[str, Any]] = []
    for file_id, index, metadata, score in _hit_pages(result):
        try:
            figures = state.page_figures(file_id, index)
        except NotFound:
            continue
        for name, data in figures.items():
            node = {
                "file_id": file_id,
                "page_index": index,
                "figure_name": name,
                "figure_size": len(data),
                "confidence": 0.9,
                "is_likely_noise": False,
                "metadata": metadata,
            }
            nodes.append({"node": node, "score": score, "class_name": "PageFigureNodeWithScore"})
    return nodes


def screenshot_nodes(state: EmulatorState, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Image nodes for the PDF pages among ``result``'s hits, best first, one per page.

    Example:
        >>> screenshot_nodes(EmulatorState(), {"retrieval_nodes": []})
        []
    """
    nodes: list[dict[str, Any]] = []
    for file_id, index, metadata, score in _hit_pages(result):
        try:
            image = state.page_screenshot(file_id, index)
        except NotFound:
            continue  # not a PDF, or no longer stored
        node = {"file_id": file_id, "page_index": index, "image_size": len(image), "metadata": metadata}
        nodes.append({"node": node, "score": score, "class_name": "PageScreenshotNodeWithScore"})
    return nodes


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
        body = await json_body(request)
        project_id = request.query_params.get("project_id") or DEFAULT_PROJECT["id"]
        name = require_field(body, "name", str)
        return JSONResponse(pipeline_json(store.upsert_pipeline(name, project_id)))

    @router.get("")
    async def search_pipelines(request: Request) -> Response:
        params = request.query_params
        project_ids = None
        if params.get("project_name") is not None:
            project_ids = [p["id"] for p in state.projects if p["name"] == params["project_name"]]
        kind = params.get("pipeline_type")
        if kind is not None and kind not in ("MANAGED", "PLAYGROUND"):
            return validation_error(
                ["query", "pipeline_type"], "Input should be 'MANAGED' or 'PLAYGROUND'", "enum"
            )
        found = store.find(params.get("project_id"), params.get("pipeline_name"), project_ids)
        if kind == "PLAYGROUND":  # every emulated pipeline is MANAGED
            found = []
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
        body: Any = await json_body(request)
        if not isinstance(body, list) or not all(isinstance(d, dict) for d in body):
            return JSONResponse(
                {"detail": [{"loc": ["body"], "msg": "a list is required", "type": "type_error.list"}]},
                status_code=422,
            )
        return JSONResponse(store.upsert_documents(pipeline_id, body))

    @router.get("/{pipeline_id}/documents")
    async def list_documents(pipeline_id: str, request: Request) -> Response:
        skip, limit = _int_param(request, "skip", 0), _int_param(request, "limit", 100)
        if skip < 0 or limit < 0:
            return validation_error(
                ["query", "skip" if skip < 0 else "limit"], "Input should be a valid integer"
            )
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
        items = await json_body(request)
        if not isinstance(items, list):
            return validation_error(["body"], "Input should be a valid list", "list_type")
        for item in items:
            stored = state.get_file(require_field(item, "file_id", str))
            try:
                pages = LocalParser(ocr="off").parse(stored.data, stored.name).pages
            except CloudKitError as exc:  # ingestion fails; the file's status says so
                store.get(pipeline_id)["files"][stored.id] = {"status": "ERROR", "error": str(exc)}
                continue
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
        body = await json_body(request)
        require_field(body, "query", str)
        try:
            result = await asyncio.to_thread(store.retrieve, pipeline_id, body)
        except ValidationError as exc:
            return as_422(exc)
        except ConfigError as exc:  # e.g. a filter whose value type differs from the stored one
            return JSONResponse({"detail": exc.message}, status_code=422)
        if body.get("retrieve_page_screenshot_nodes") and not result.get("image_nodes"):
            result["image_nodes"] = await asyncio.to_thread(screenshot_nodes, state, result)
        if body.get("retrieve_page_figure_nodes") and not result.get("page_figure_nodes"):
            result["page_figure_nodes"] = await asyncio.to_thread(figure_nodes, state, result)
        return JSONResponse(result)

    return router
