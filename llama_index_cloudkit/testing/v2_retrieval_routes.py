"""Routes of the emulated Index v2 API: ``POST /api/v1/retrieval/retrieve`` and ``/api/v1/indexes``.

An index is an emulated pipeline (see :mod:`.v2_retrieval` for how a request maps onto the local
hybrid engine). ``POST /api/v1/indexes`` needs a ``source_directory_id`` and makes an empty index
(directories are not emulated: fill it with ``FakeLlamaCloud.add_v2_index`` or the v1 document
routes); ``GET`` lists every pipeline as an index (cursor page); ``sync`` ends at once.

Not emulated (501): ``/api/v1/retrieval/files/find | grep | read``, directories, attachments.

Example:
    >>> router = v2_retrieval_router(EmulatorState())
    >>> any(r.path == "/api/v1/retrieval/retrieve" for r in router.routes)
    True
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from llama_index_cloudkit.errors import CloudKitError
from llama_index_cloudkit.testing.jobs import DEFAULT_PROJECT
from llama_index_cloudkit.testing.state import EmulatorState
from llama_index_cloudkit.testing.v2_jobs import cursor_page, now_iso
from llama_index_cloudkit.testing.v2_retrieval import (
    DEFAULT_TOP_K,
    RetrieveBody,
    alpha_of,
    index_json,
    v1_filters,
    v2_result,
)
from llama_index_cloudkit.testing.v2_state import v2_state_of
from llama_index_cloudkit.testing.wire import as_422, detail, json_body, require_field

__all__ = ["chunk_indexes", "retrieve_v2", "v2_retrieval_router"]


def chunk_indexes(pipeline: dict[str, Any]) -> dict[str, int]:
    """Each passage's position within its document (by start character), by node id.

    Example:
        >>> chunk_indexes({"index": None})
        {}
    """
    nodes = list(getattr(pipeline.get("index"), "nodes", None) or [])
    by_doc: dict[str, list[Any]] = {}
    for node in nodes:
        by_doc.setdefault(str(node.ref_doc_id), []).append(node)
    positions: dict[str, int] = {}
    for siblings in by_doc.values():
        siblings.sort(key=lambda n: n.start_char_idx or 0)
        positions.update({n.node_id: i for i, n in enumerate(siblings)})
    return positions


def retrieve_v2(state: EmulatorState, body: RetrieveBody) -> dict[str, Any]:
    """``{results: [...]}`` for a checked v2 request (a served fixture first, if any).

    Raises:
        NotFound: an unknown ``index_id``.
        CloudKitError: a filter the local engine refuses (a value of another type than stored).
    """
    store = state.pipelines
    pipeline = store.get(body.index_id)
    v2 = v2_state_of(state)
    served = v2.fixtures.next("retrieve")
    if served is not None:
        return served.fresh()
    v1_served = state.fixtures.next("retrieve")
    top_k = body.top_k or DEFAULT_TOP_K
    base: dict[str, Any] = {
        "query": body.query,
        "dense_similarity_top_k": top_k,
        "sparse_similarity_top_k": top_k,
        "alpha": alpha_of(body),
        "enable_reranking": False,
        "top_k": 2 * top_k,
    }
    filters = v1_filters(body)
    if filters is not None:
        base["search_filters"] = filters.model_dump(mode="json")
    rerank = body.rerank.enabled if body.rerank and body.rerank.enabled is not None else True
    final = top_k
    if v1_served is not None:
        fused = v1_served.fresh().get("retrieval_nodes") or []
        reranked: list[dict[str, Any]] | None = None
    else:
        fused = store.retrieve(body.index_id, _v1_body(base))["retrieval_nodes"]
        reranked = None
        if rerank:
            final = min((body.rerank.top_n if body.rerank else None) or top_k, top_k)
            reranked = store.retrieve(
                body.index_id, _v1_body({**base, "enable_reranking": True, "rerank_top_n": final})
            )["retrieval_nodes"]
    positions = chunk_indexes(pipeline)
    fused_scores = {(h["node"].get("id_")): h.get("score") for h in fused}
    results = []
    if reranked is not None:
        for hit in reranked:
            node_id = hit["node"].get("id_")
            scored = {**hit, "score": fused_scores.get(node_id, 0.0)}
            results.append(v2_result(scored, positions.get(node_id, 0), rerank_score=hit.get("score")))
    else:
        results = [v2_result(h, positions.get(h["node"].get("id_"), 0)) for h in fused[:final]]
    if body.score_threshold is not None:
        results = [r for r in results if (r["score"] or 0.0) >= body.score_threshold]
    return {"results": results}


def _v1_body(fields: dict[str, Any]) -> dict[str, Any]:
    """The v1 retrieve body (``top_k`` is no v1 field: it becomes the leg sizes' final cut)."""
    body = dict(fields)
    top_k = body.pop("top_k", None)
    if top_k is not None and not body["enable_reranking"]:
        body["rerank_top_n"] = top_k  # HybridConfig's single count: top_k follows it
    return body


def v2_retrieval_router(state: EmulatorState) -> APIRouter:
    """The Index v2 routes, bound to ``state``.

    Example:
        >>> routes = v2_retrieval_router(EmulatorState()).routes
        >>> any(r.path == "/api/v1/indexes/{index_id}/sync" for r in routes)
        True
    """
    router = APIRouter()
    v2 = v2_state_of(state)

    @router.post("/api/v1/retrieval/retrieve")
    async def retrieve(request: Request) -> Response:
        raw = await json_body(request)
        try:
            body = RetrieveBody.model_validate(raw)
        except ValidationError as exc:
            return as_422(exc)
        try:
            return JSONResponse(await asyncio.to_thread(retrieve_v2, state, body))
        except ValidationError as exc:
            return as_422(exc)
        except CloudKitError as exc:
            return detail(str(exc), 400)

    @router.post("/api/v1/indexes")
    async def create_index(request: Request) -> Response:
        body = await json_body(request)
        source = require_field(body, "source_directory_id", str)
        project_id = request.query_params.get("project_id") or DEFAULT_PROJECT["id"]
        name = body.get("name") or f"index-{source}"
        pipeline = state.pipelines.upsert_pipeline(str(name), project_id)
        meta = {
            "source_directory_id": source,
            "description": body.get("description"),
            "sync_frequency": body.get("sync_frequency"),
            "last_synced_at": now_iso(),
            "request": body,
        }
        v2.index_meta[pipeline["id"]] = meta
        return JSONResponse(index_json(pipeline, meta))

    @router.get("/api/v1/indexes")
    async def list_indexes(request: Request) -> Response:
        params = request.query_params
        found = state.pipelines.find(params.get("project_id"), None)
        items = [index_json(p, v2.index_meta.get(p["id"])) for p in found]
        return JSONResponse(cursor_page(items, params.get("page_size"), params.get("page_token")))

    @router.get("/api/v1/indexes/{index_id}")
    async def get_index(index_id: str) -> Response:
        return JSONResponse(index_json(state.pipelines.get(index_id), v2.index_meta.get(index_id)))

    @router.delete("/api/v1/indexes/{index_id}")
    async def delete_index(index_id: str) -> Response:
        state.pipelines.delete(index_id)
        v2.index_meta.pop(index_id, None)
        return Response(status_code=204)

    @router.post("/api/v1/indexes/{index_id}/sync")
    async def sync_index(index_id: str) -> Response:
        pipeline = state.pipelines.get(index_id)
        meta = v2.index_meta.setdefault(index_id, {})
        meta["last_synced_at"] = now_iso()
        return JSONResponse(index_json(pipeline, meta))

    @router.post("/api/v1/indexes/{index_id}/sync/cancel")
    async def cancel_sync(index_id: str) -> Response:
        return JSONResponse(index_json(state.pipelines.get(index_id), v2.index_meta.get(index_id)))

    return router
