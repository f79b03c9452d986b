"""Index v2 (``POST /api/v1/retrieval/retrieve``, ``/api/v1/indexes``): requests, results, routes.

An Index v2 index *is* an emulated pipeline (same id, same documents, same local hybrid index),
so an index filled through the v1 routes or ``FakeLlamaCloud.add_v2_index`` answers both
``POST /api/v1/pipelines/{id}/retrieve`` and ``POST /api/v1/retrieval/retrieve``.
``POST /api/v1/indexes`` needs a ``source_directory_id`` and makes an empty index (directories
are not emulated: fill it with ``FakeLlamaCloud.add_v2_index`` or the v1 document routes);
``GET`` lists every pipeline as an index (cursor page); ``sync`` ends at once.

How a v2 request maps onto the local engine (:class:`~llama_index_cloudkit.retrieve.config.HybridConfig`):

- ``top_k`` (1..500, default 10): the candidates of each leg; the final count without reranking.
- ``alpha = vector_pipeline_weight / (vector + full_text)``; one weight alone: ``alpha = vector``
  or ``1 - full_text``; neither: 0.5; both 0: 422.
- ``rerank`` (``enabled`` defaults to true, as documented): the emulator's lexical reranker, then
  ``min(top_n, top_k)`` results (``top_n`` defaults to ``top_k``). Reranked results carry
  ``rerank_score`` (the reranker's) beside ``score`` (the fused score).
- ``score_threshold``: results whose fused ``score`` is below it are dropped.
- ``custom_filters`` ``{field: {operator, value} | [{operator, value}, ...]}``: every condition
  must hold (AND); operators ``eq ne gt gte lt lte in nin``. ``static_filters``
  ``{parsed_directory_file_id: {operator, value}}`` filters on the document's ``file_id``.
  There is no OR and no nesting in v2's filter shape (reference, section 4); any other shape,
  and any unknown body field, is a 422.

Results: ``{content, score, rerank_score?, metadata, static_fields}``; ``metadata`` is the
passage's metadata (values that are no str, number, bool, null or list of str become JSON
strings); ``static_fields`` has ``page_range_start`` / ``page_range_end`` (the ``page_number``
metadata), ``chunk_index``, ``chunk_start_char``, ``chunk_end_char`` and
``parsed_directory_file_id`` (the ``file_id`` metadata, else the document id).

Not emulated: ``num_candidates`` (accepted, ignored), attachments, a real reranker; (501)
``/api/v1/retrieval/files/find | grep | read``, directories.

Example:
    >>> body = RetrieveBody.model_validate({"index_id": "i", "query": "q", "vector_pipeline_weight": 0.0})
    >>> alpha_of(body), v1_filters(body) is None
    (0.0, True)
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from llama_index.core.vector_stores.types import MetadataFilters
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llama_index_cloudkit.errors import CloudKitError
from llama_index_cloudkit.testing.jobs import DEFAULT_PROJECT
from llama_index_cloudkit.testing.v2.jobs import cursor_page, now_iso
from llama_index_cloudkit.testing.wire import BadRequest, as_422, detail, json_body, require_field

if TYPE_CHECKING:
    from llama_index_cloudkit.testing.state import EmulatorState

__all__ = [
    "DEFAULT_TOP_K",
    "OPERATORS",
    "Condition",
    "RetrieveBody",
    "alpha_of",
    "chunk_indexes",
    "index_json",
    "retrieve_v2",
    "v1_filters",
    "v2_result",
    "v2_retrieval_router",
]

DEFAULT_TOP_K = 10
OPERATORS = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "in", "nin": "nin"}
Scalar = str | bool | int | float


class Condition(BaseModel):
    """One v2 filter condition ``{operator, value}``.

    Example:
        >>> Condition(operator="in", value=["a", "b"]).value
        ['a', 'b']
    """

    model_config = ConfigDict(extra="forbid")

    operator: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]
    value: Scalar | list[Scalar]


class Rerank(BaseModel):
    """``rerank {enabled, top_n}``."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    top_n: int | None = Field(default=None, ge=1)


class StaticFilters(BaseModel):
    """``static_filters {parsed_directory_file_id}``."""

    model_config = ConfigDict(extra="forbid")

    parsed_directory_file_id: Condition | None = None


class RetrieveBody(BaseModel):
    """The body of ``POST /api/v1/retrieval/retrieve``; ``null`` means the default.

    Example:
        >>> RetrieveBody.model_validate({"index_id": "i", "query": "q"}).top_k is None
        True
    """

    model_config = ConfigDict(extra="forbid")

    index_id: str
    query: str
    top_k: int | None = Field(default=None, ge=1, le=500)
    vector_pipeline_weight: float | None = Field(default=None, ge=0.0, le=1.0)
    full_text_pipeline_weight: float | None = Field(default=None, ge=0.0, le=1.0)
    num_candidates: int | None = Field(default=None, ge=1)
    rerank: Rerank | None = None
    score_threshold: float | None = None
    custom_filters: dict[str, Condition | list[Condition]] | None = None
    static_filters: StaticFilters | None = None


def alpha_of(body: RetrieveBody) -> float:
    """The fusion weight of the dense leg, from the two pipeline weights.

    Example:
        >>> alpha_of(RetrieveBody(index_id="i", query="q", vector_pipeline_weight=0.3,
        ...                       full_text_pipeline_weight=0.3))
        0.5
    """
    vector, full_text = body.vector_pipeline_weight, body.full_text_pipeline_weight
    if vector is None and full_text is None:
        return 0.5
    if full_text is None:
        return float(vector or 0.0)
    if vector is None:
        return 1.0 - full_text
    if vector + full_text == 0:
        raise BadRequest(
            ["body", "vector_pipeline_weight"],
            "vector_pipeline_weight and full_text_pipeline_weight cannot both be 0",
            "value_error",
        )
    return vector / (vector + full_text)


def v1_filters(body: RetrieveBody) -> MetadataFilters | None:
    """The v2 filters as LlamaIndex MetadataFilters (every condition ANDed), or None.

    Example:
        >>> body = RetrieveBody(index_id="i", query="q", custom_filters={"year": [
        ...     Condition(operator="gte", value=2020), Condition(operator="lt", value=2024)]})
        >>> [f.operator.value for f in v1_filters(body).filters]
        ['>=', '<']
    """
    leaves: list[dict[str, Any]] = []
    for key, given in (body.custom_filters or {}).items():
        for condition in given if isinstance(given, list) else [given]:
            leaves.append({"key": key, "operator": OPERATORS[condition.operator], "value": condition.value})
    static = body.static_filters.parsed_directory_file_id if body.static_filters else None
    if static is not None:
        leaves.append({"key": "file_id", "operator": OPERATORS[static.operator], "value": static.value})
    return MetadataFilters.model_validate({"filters": leaves, "condition": "and"}) if leaves else None


def _metadata_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return json.dumps(value, default=str)


def v2_result(hit: dict[str, Any], chunk_index: int, rerank_score: float | None = None) -> dict[str, Any]:
    """A v1 ``retrieval_nodes`` entry as a v2 result.

    Example:
        >>> hit = {"node": {"text": "hay", "extra_info": {"page_number": 2}}, "score": 0.5}
        >>> v2_result(hit, 0)["static_fields"]["page_range_start"]
        2
    """
    node = hit.get("node") or {}
    info = dict(node.get("extra_info") or node.get("metadata") or {})
    page = info.get("page_number")
    ref = ((node.get("relationships") or {}).get("1") or {}).get("node_id")
    file_id = info.get("file_id") if isinstance(info.get("file_id"), str) else ref
    static: dict[str, Any] = {
        "page_range_start": page if isinstance(page, int) else None,
        "page_range_end": page if isinstance(page, int) else None,
        "chunk_index": chunk_index,
        "chunk_start_char": node.get("start_char_idx"),
        "chunk_end_char": node.get("end_char_idx"),
        "parsed_directory_file_id": file_id,
    }
    answer: dict[str, Any] = {
        "content": str(node.get("text") or ""),
        "score": hit.get("score"),
        "metadata": {str(k): _metadata_value(v) for k, v in info.items()},
        "static_fields": static,
    }
    if rerank_score is not None:
        answer["rerank_score"] = rerank_score
    return answer


def index_json(pipeline: dict[str, Any], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """A pipeline as an Index v2 object (directory and config ids are made up when it has none).

    Example:
        >>> index_json({"id": "p1", "name": "docs", "project_id": "proj"})["source_directory_id"]
        'dir-p1'
    """
    meta = meta or {}
    pid = pipeline["id"]
    return {
        "id": pid,
        "name": pipeline["name"],
        "project_id": pipeline["project_id"],
        "description": meta.get("description"),
        "source_directory_id": meta.get("source_directory_id") or f"dir-{pid}",
        "output_directory_id": f"outdir-{pid}",
        "sync_config_id": f"sync-{pid}",
        "export_config_id": f"export-{pid}",
        "sync_in_progress": False,
        "sync_frequency": meta.get("sync_frequency"),
        "last_synced_at": meta.get("last_synced_at"),
    }


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
    v2 = state.v2
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
        >>> from llama_index_cloudkit.testing.state import EmulatorState
        >>> routes = v2_retrieval_router(EmulatorState()).routes
        >>> any(r.path == "/api/v1/indexes/{index_id}/sync" for r in routes)
        True
    """
    router = APIRouter()
    v2 = state.v2

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
