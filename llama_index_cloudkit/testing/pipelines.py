"""Emulated LlamaCloud indexes (pipelines): documents, files, ingestion status, retrieval.

Each pipeline keeps its documents and indexes their chunks with the local hybrid engine
(:class:`LocalHybridIndex`), so ``retrieve`` honours dense / sparse top-k, alpha, reranking and
metadata filters with observable effects. The emulator's "reranker" is deterministic and lexical
(query-term overlap), standing in for LlamaCloud's managed one.

Example:
    >>> store = PipelineStore()
    >>> pipe = store.upsert_pipeline("handbook", "proj-0000-default")
    >>> _ = store.upsert_documents(pipe["id"], [{"id": "d1", "text": "llamas eat hay",
    ...                                          "metadata": {}}])
    >>> store.retrieve(pipe["id"], {"query": "hay"})["retrieval_nodes"][0]["node"]["text"]  # doctest: +SKIP
    'llamas eat hay'
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any

from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import Document, NodeWithScore, QueryBundle
from llama_index.core.vector_stores.types import MetadataFilters

from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.local import LocalHybridIndex
from llama_index_cloudkit.testing.jobs import NotFound

__all__ = ["OverlapReranker", "PipelineStore"]

_WORD = re.compile(r"\w+")


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
    """Pipelines, their documents and their local hybrid indexes; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.pipelines: dict[str, dict[str, Any]] = {}
        self.status_script: list[str] = []  # statuses X10 answers before SUCCESS

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

    def find(self, project_id: str | None, name: str | None) -> list[dict[str, Any]]:
        """Pipelines matching a project and a name (None matches any)."""
        return [
            p
            for p in self.pipelines.values()
            if project_id in (None, p["project_id"]) and name in (None, p["name"])
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

    def _index(self, pipeline: dict[str, Any]) -> LocalHybridIndex | None:
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
            pipeline["index"] = (
                LocalHybridIndex.from_documents(documents, reranker=OverlapReranker()) if documents else None
            )
            pipeline["dirty"] = False
        return pipeline["index"]

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
        hits = index.search(str(body.get("query", "")), config) if index is not None else []
        return {
            "pipeline_id": pipeline_id,
            "retrieval_nodes": [_node_json(hit) for hit in hits],
            "image_nodes": [],
            "page_figure_nodes": [],
            "metadata": {"retrieval_mode": config.retrieval_mode},
        }


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
