"""Index v1 (``/api/v1/pipelines``): pipelines, documents, files, ingestion status, retrieval, routes.

Each pipeline keeps its documents and indexes their chunks with the local hybrid engine
(:class:`LocalHybridIndex`), so ``retrieve`` honours dense / sparse top-k, alpha, reranking and
metadata filters with observable effects. The emulator's "reranker" is deterministic and lexical
(query-term overlap), standing in for LlamaCloud's managed one.

A valid retrieve request never fails: should the local engine raise on a corpus it cannot index
(for example pages of digits only), the pipeline falls back to ranking its documents by
query-word overlap (:class:`OverlapIndex`) and logs a warning.

``GET /api/v1/pipelines`` filters by ``project_id``, ``project_name``, ``pipeline_name`` and
``pipeline_type``. ``retrieve`` with ``retrieve_page_screenshot_nodes`` answers one image node
per PDF page among the hits, and with ``retrieve_page_figure_nodes`` one figure node per picture
drawn on those pages (the SDK then fetches each image).

Example:
    >>> store = PipelineStore()
    >>> pipe = store.upsert_pipeline("handbook", "proj-0000-default")
    >>> _ = store.upsert_documents(pipe["id"], [{"id": "d1", "text": "llamas eat hay",
    ...                                          "metadata": {}}])
    >>> store.retrieve(pipe["id"], {"query": "hay"})["retrieval_nodes"][0]["node"]["text"]
    'llamas eat hay'
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import (
    Document,
    NodeRelationship,
    NodeWithScore,
    QueryBundle,
    RelatedNodeInfo,
    TextNode,
)
from llama_index.core.vector_stores.types import MetadataFilters
from pydantic import ValidationError

from llama_index_cloudkit.errors import CloudKitError, ConfigError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.filters import matches
from llama_index_cloudkit.retrieve.local import LocalHybridIndex
from llama_index_cloudkit.testing.fixtures import ServedFixtures
from llama_index_cloudkit.testing.jobs import DEFAULT_PROJECT, NotFound
from llama_index_cloudkit.testing.wire import as_422, json_body, require_field, validation_error

if TYPE_CHECKING:
    from llama_index_cloudkit.testing.state import EmulatorState

__all__ = [
    "OverlapIndex",
    "OverlapReranker",
    "PipelineStore",
    "SearchIndex",
    "figure_nodes",
    "pipeline_json",
    "pipeline_router",
    "screenshot_nodes",
]

logger = logging.getLogger(__name__)

_WORD = re.compile(r"\w+")


class SearchIndex(Protocol):
    """What a pipeline searches: the local hybrid index, or the overlap fallback.

    Example:
        >>> isinstance(OverlapIndex([]).search("x"), list)
        True
    """

    def search(self, query: str, config: HybridConfig | None = None) -> list[NodeWithScore]:
        """Ranked passages for ``query``."""
        ...


class OverlapIndex:
    """The fallback: whole documents ranked by how many distinct query words they contain.

    It honours metadata filters and the top-k settings, never raises on odd text, and ranks
    documents that share no word with the query last (score 0).

    Example:
        >>> index = OverlapIndex([Document(text="123 456", id_="d1"), Document(text="7", id_="d2")])
        >>> [hit.node.ref_doc_id for hit in index.search("456")]
        ['d1', 'd2']
    """

    def __init__(self, documents: Sequence[Document]) -> None:
        self._nodes = [
            TextNode(
                id_=f"{doc.doc_id}-overlap",
                text=doc.text,
                metadata=dict(doc.metadata),
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc.doc_id)},
                start_char_idx=0,
                end_char_idx=len(doc.text),
            )
            for doc in documents
        ]

    def search(self, query: str, config: HybridConfig | None = None) -> list[NodeWithScore]:
        """Documents by query-word overlap, best first, cut to the larger top-k."""
        config = config or HybridConfig()
        words = set(_WORD.findall(query.lower()))
        candidates = [n for n in self._nodes if config.filters is None or matches(n.metadata, config.filters)]
        scored = sorted(
            ((len(words & set(_WORD.findall(n.text.lower()))), i, n) for i, n in enumerate(candidates)),
            key=lambda item: (-item[0], item[1]),
        )
        top = max(config.dense_similarity_top_k, config.sparse_similarity_top_k)
        if config.enable_reranking:
            top = min(top, config.rerank_top_n)
        best = max((score for score, _, _ in scored), default=0) or 1
        return [NodeWithScore(node=n, score=score / best) for score, _, n in scored[:top]]


class OverlapReranker(BaseNodePostprocessor):
    """Reorders by how many distinct query words a passage contains (ties keep fused order).

    Example:
        >>> OverlapReranker().class_name()
        'OverlapReranker'
    """

    @classmethod
    def class_name(cls) -> str:
        """The LlamaIndex component name."""
        return "OverlapReranker"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        words = set(_WORD.findall((query_bundle.query_str if query_bundle else "").lower()))

        def overlap(hit: NodeWithScore) -> int:
            return len(words & set(_WORD.findall(hit.node.get_content().lower())))

        ranked = sorted(enumerate(nodes), key=lambda item: (-overlap(item[1]), item[0]))
        return [NodeWithScore(node=hit.node, score=float(overlap(hit))) for _, hit in ranked]


def pipeline_json(pipeline: dict[str, Any]) -> dict[str, Any]:
    """The Pipeline model the SDK validates (embedding_config and transform_config shapes)."""
    return {
        "id": pipeline["id"],
        "name": pipeline["name"],
        "project_id": pipeline["project_id"],
        "pipeline_type": "MANAGED",
        "embedding_config": {"type": "MANAGED_OPENAI_EMBEDDING"},
        "transform_config": {"mode": "auto"},
        "llama_parse_parameters": {},
    }


class PipelineStore:
    """Pipelines, their documents and their local hybrid indexes; thread-safe.

    Args:
        fixtures: where ``FakeLlamaCloud.serve_fixture(..., kind="retrieve")`` queues bodies.
    """

    def __init__(self, fixtures: ServedFixtures | None = None) -> None:
        self._lock = threading.RLock()
        self.pipelines: dict[str, dict[str, Any]] = {}
        self.status_script: list[str] = []  # statuses X10 answers before SUCCESS
        self.fixtures = fixtures or ServedFixtures()

    def clear(self) -> None:
        """Forget every pipeline and scripted status (the routers keep this store)."""
        with self._lock:
            self.pipelines.clear()
            self.status_script.clear()

    # --- pipelines -----------------------------------------------------------------------------

    def upsert_pipeline(self, name: str, project_id: str) -> dict[str, Any]:
        """Create the pipeline ``name`` in ``project_id``, or return the existing one."""
        with self._lock:
            for pipeline in self.pipelines.values():
                if pipeline["name"] == name and pipeline["project_id"] == project_id:
                    return pipeline
            pipeline = {
                "id": f"pipe-{uuid.uuid4()}",
                "name": name,
                "project_id": project_id,
                "documents": {},
                "files": {},
                "index": None,
                "dirty": False,
            }
            self.pipelines[pipeline["id"]] = pipeline
            return pipeline

    def get(self, pipeline_id: str) -> dict[str, Any]:
        """A pipeline by id, or NotFound."""
        try:
            return self.pipelines[pipeline_id]
        except KeyError:
            raise NotFound(pipeline_id) from None

    def find(
        self, project_id: str | None, name: str | None, project_ids: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Pipelines matching a project, a name and a set of projects (None matches any)."""
        return [
            p
            for p in self.pipelines.values()
            if project_id in (None, p["project_id"])
            and name in (None, p["name"])
            and (project_ids is None or p["project_id"] in project_ids)
        ]

    def delete(self, pipeline_id: str) -> None:
        """Forget a pipeline."""
        with self._lock:
            self.get(pipeline_id)
            del self.pipelines[pipeline_id]

    def next_status(self) -> str:
        """The pipeline status for one X10 poll (scripted statuses first, then SUCCESS)."""
        with self._lock:
            return self.status_script.pop(0) if self.status_script else "SUCCESS"

    # --- documents -----------------------------------------------------------------------------

    def upsert_documents(self, pipeline_id: str, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add or replace documents; returns them as CloudDocuments."""
        with self._lock:
            pipeline = self.get(pipeline_id)
            stored = []
            for raw in documents:
                doc = {
                    "id": str(raw.get("id") or uuid.uuid4()),
                    "text": raw.get("text", ""),
                    "metadata": raw.get("metadata") or {},
                    "excluded_embed_metadata_keys": raw.get("excluded_embed_metadata_keys", []),
                    "excluded_llm_metadata_keys": raw.get("excluded_llm_metadata_keys", []),
                }
                pipeline["documents"][doc["id"]] = doc
                stored.append(doc)
            pipeline["dirty"] = True
            return stored

    def list_documents(self, pipeline_id: str, skip: int, limit: int) -> list[dict[str, Any]]:
        """A page of the pipeline's documents."""
        docs = list(self.get(pipeline_id)["documents"].values())
        return docs[skip : skip + limit]

    def document(self, pipeline_id: str, doc_id: str) -> dict[str, Any]:
        """One document, or NotFound."""
        try:
            return self.get(pipeline_id)["documents"][doc_id]
        except KeyError:
            raise NotFound(doc_id) from None

    def delete_document(self, pipeline_id: str, doc_id: str) -> None:
        """Remove one document (NotFound when absent)."""
        with self._lock:
            pipeline = self.get(pipeline_id)
            if doc_id not in pipeline["documents"]:
                raise NotFound(doc_id)
            del pipeline["documents"][doc_id]
            pipeline["dirty"] = True

    def add_file_documents(
        self,
        pipeline_id: str,
        file_id: str,
        file_name: str,
        pages: list[tuple[int, str]],
        custom_metadata: dict[str, Any] | None,
    ) -> None:
        """Index an uploaded file, one document per page."""
        documents = [
            {
                "id": f"{file_id}-p{number}",
                "text": text,
                "metadata": {
                    "file_id": file_id,
                    "file_name": file_name,
                    "page_number": number,
                    **(custom_metadata or {}),
                },
            }
            for number, text in pages
        ]
        self.upsert_documents(pipeline_id, documents)
        self.get(pipeline_id)["files"][file_id] = {"status": "SUCCESS"}

    # --- retrieval -----------------------------------------------------------------------------

    def _index(self, pipeline: dict[str, Any]) -> SearchIndex | None:
        if pipeline["dirty"] or pipeline["index"] is None:
            documents = [
                Document(
                    text=d["text"],
                    id_=d["id"],
                    metadata=d["metadata"],
                    excluded_embed_metadata_keys=d["excluded_embed_metadata_keys"],
                    excluded_llm_metadata_keys=d["excluded_llm_metadata_keys"],
                )
                for d in pipeline["documents"].values()
                if d["text"].strip()
            ]
            pipeline["index"] = _build_index(documents) if documents else None
            pipeline["dirty"] = False
        index: SearchIndex | None = pipeline["index"]
        return index

    def retrieve(self, pipeline_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """X15: hybrid retrieval over the pipeline with the request's parameters."""
        with self._lock:
            pipeline = self.get(pipeline_id)
            index = self._index(pipeline)
        fields: dict[str, Any] = {
            k: body[k]
            for k in (
                "dense_similarity_top_k",
                "sparse_similarity_top_k",
                "alpha",
                "enable_reranking",
                "rerank_top_n",
                "retrieval_mode",
                "files_top_k",
            )
            if k in body
        }
        if body.get("search_filters"):
            fields["filters"] = MetadataFilters.model_validate(body["search_filters"])
        config = HybridConfig(**fields)
        query = str(body.get("query", ""))
        hits = _search(index, query, config) if index is not None else []
        fixture = self.fixtures.next("retrieve")
        if fixture is not None:
            return {**fixture.fresh(), "pipeline_id": pipeline_id}
        return {
            "pipeline_id": pipeline_id,
            "retrieval_nodes": [_node_json(hit) for hit in hits],
            "image_nodes": [],
            "page_figure_nodes": [],
            "metadata": {"retrieval_mode": config.retrieval_mode},
        }


def _build_index(documents: list[Document]) -> SearchIndex:
    try:
        return LocalHybridIndex.from_documents(documents, reranker=OverlapReranker())
    except Exception as exc:  # the emulator stays up; the local index is tested on its own
        logger.warning(
            "LlamaCloud emulator: the local index could not index this pipeline (%s: %s); "
            "ranking by query-word overlap instead",
            type(exc).__name__,
            exc,
        )
        return OverlapIndex(documents)


def _search(index: SearchIndex, query: str, config: HybridConfig) -> list[NodeWithScore]:
    try:
        return index.search(query, config)
    except ConfigError:
        raise  # a request the service would refuse (a filter of the wrong type): the route says 422
    except Exception as exc:  # same fallback as _build_index, for a crash at query time
        if isinstance(index, OverlapIndex):
            raise
        logger.warning(
            "LlamaCloud emulator: the local index failed on %r (%s: %s); ranking by overlap instead",
            query,
            type(exc).__name__,
            exc,
        )
        nodes = getattr(index, "nodes", [])
        return OverlapIndex(
            [
                Document(text=n.get_content(), id_=n.ref_doc_id or n.node_id, metadata=n.metadata)
                for n in nodes
            ]
        ).search(query, config)


def _node_json(hit: NodeWithScore) -> dict[str, Any]:
    node = hit.node
    return {
        "node": {
            "id_": node.node_id,
            "text": node.get_content(),
            "extra_info": dict(node.metadata),  # the SDK reads metadata from extra_info
            "relationships": {
                "1": {
                    "node_id": node.ref_doc_id,
                    "node_type": "4",
                    "metadata": {},
                    "class_name": "RelatedNodeInfo",
                }
            },
            "start_char_idx": getattr(node, "start_char_idx", None),
            "end_char_idx": getattr(node, "end_char_idx", None),
        },
        "score": hit.score,
    }


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
        >>> from llama_index_cloudkit.testing.state import EmulatorState
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
        >>> from llama_index_cloudkit.testing.state import EmulatorState
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
        >>> from llama_index_cloudkit.testing.state import EmulatorState
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
