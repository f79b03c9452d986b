"""Index v2: the LlamaCloud index adapter of the current API generation.

Only this module knows the v2 retrieval routes and bodies: one ``POST /api/v1/retrieval/retrieve``
per query, with exactly the HybridConfig's parameters (reference/llamacloud-api-v2.md, section 4):

| HybridConfig | Index v2 body |
|---|---|
| ``alpha`` | ``vector_pipeline_weight = alpha``, ``full_text_pipeline_weight = 1 - alpha`` |
| ``enable_reranking``, ``rerank_top_n`` | ``rerank: {enabled, top_n}`` (``{enabled: false}`` off) |
| final count | ``top_k``: the pool with reranking on (the larger leg, at most 500), else the count |
| ``score_threshold`` (retriever argument) | ``score_threshold`` |
| ``filters`` | ``custom_filters`` (see :func:`~.filters_v2.v2_custom_filters`) |

0, 0.0 and False are sent as given, never dropped (the current SDK's retriever drops them).
Filters are translated when the retriever is built, so a filter v2 cannot express fails before
any request.

An index is named by its name or its id: ``GET /api/v1/indexes`` (cursor pages) is read until
one matches. Results have no node id in v2; it is derived from ``parsed_directory_file_id`` and
``chunk_index`` (or the text), so the same passage has the same id across calls. Index v2 builds
an index from a LlamaCloud directory, so documents are not uploaded here.

Example:
    >>> body = v2_retrieve_body("hay", "idx-1", HybridConfig(alpha=0.0, enable_reranking=False, top_k=3))
    >>> body["vector_pipeline_weight"], body["full_text_pipeline_weight"], body["rerank"], body["top_k"]
    (0.0, 1.0, {'enabled': False}, 3)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.schema import Document, NodeWithScore, TextNode

from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import ConfigError, ServiceError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.llamacloud.filters_v2 import v2_custom_filters
from llama_index_cloudkit.retrieve.llamacloud.refs import (
    LlamaCloudIndexRef,
    LlamaCloudV2IndexRef,
    about_index,
    index_ref_of,
    is_llamacloud_index,
)

__all__ = ["IndexV2", "v2_nodes", "v2_retrieve_body"]

RETRIEVE = "/api/v1/retrieval/retrieve"
INDEXES = "/api/v1/indexes"
MAX_TOP_K = 500  # Index v2 caps top_k at 500 (reference/llamacloud-api-v2.md)
_MAX_PAGES = 100  # cursor pages read when looking an index up


def v2_retrieve_body(
    query: str, index_id: str, config: HybridConfig, *, score_threshold: float | None = None
) -> dict[str, Any]:
    """The ``POST /api/v1/retrieval/retrieve`` body: 0, 0.0 and False are kept.

    Raises:
        ConfigError: a filter whose meaning Index v2 cannot express.

    Example:
        >>> body = v2_retrieve_body("hay", "idx-1", HybridConfig(rerank_top_n=5), score_threshold=0.0)
        >>> body["rerank"], body["score_threshold"], body["top_k"]
        ({'enabled': True, 'top_n': 5}, 0.0, 30)
    """
    if config.enable_reranking:
        pool = max(config.dense_similarity_top_k, config.sparse_similarity_top_k, config.rerank_top_n)
        top_k = min(pool, MAX_TOP_K)
        rerank: dict[str, Any] = {"enabled": True, "top_n": config.rerank_top_n}
    else:
        top_k = min(config.top_k, MAX_TOP_K)
        rerank = {"enabled": False}
    body: dict[str, Any] = {
        "index_id": index_id,
        "query": query,
        "top_k": top_k,
        "vector_pipeline_weight": config.alpha,
        "full_text_pipeline_weight": round(1.0 - config.alpha, 10),
        "rerank": rerank,
    }
    if score_threshold is not None:
        body["score_threshold"] = float(score_threshold)
    if config.filters is not None and config.filters.filters:
        body["custom_filters"] = v2_custom_filters(config.filters)
    return body


def _node_id(result: Mapping[str, Any], text: str) -> str:
    static = result.get("static_fields")
    if isinstance(static, Mapping):
        file_id, chunk = static.get("parsed_directory_file_id"), static.get("chunk_index")
        if isinstance(file_id, str) and file_id and isinstance(chunk, int) and not isinstance(chunk, bool):
            return f"{file_id}-chunk-{chunk}"
    return "llamacloud-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _number(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ServiceError(f"The retrieval answer has a {what} of {value!r}")
    return float(value)


def v2_nodes(answer: Mapping[str, Any]) -> list[NodeWithScore]:
    """An Index v2 answer's ``results`` as nodes: text from ``content``, metadata from
    ``metadata`` and ``static_fields``, score ``rerank_score`` when reranked, else ``score``.

    Raises:
        ServiceError: an answer of another shape.

    Example:
        >>> hit = v2_nodes({"results": [{"content": "hay", "score": 0.4, "rerank_score": 0.9,
        ...     "metadata": {"section": "care"}, "static_fields": {"chunk_index": 0,
        ...     "parsed_directory_file_id": "f1"}}]})[0]
        >>> hit.node.node_id, hit.score, hit.node.metadata["section"]
        ('f1-chunk-0', 0.9, 'care')
    """
    results = answer.get("results")
    if not isinstance(results, list):
        raise ServiceError(
            "The retrieval answer has no list of 'results'",
            hint="LlamaCloud answered an unexpected shape; try again later",
        )
    hits = []
    for raw in results:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("content"), str):
            raise ServiceError("The retrieval answer has a result without text 'content'")
        text = raw["content"]
        metadata: dict[str, Any] = {}
        for key in ("metadata", "static_fields"):
            part = raw.get(key)
            if isinstance(part, Mapping):
                metadata.update(part)
        rerank = _number(raw.get("rerank_score"), "rerank_score")
        score = rerank if rerank is not None else _number(raw.get("score"), "score")
        node = TextNode(id_=_node_id(raw, text), text=text, metadata=metadata)
        hits.append(NodeWithScore(node=node, score=score))
    return hits


async def _aresolve_v2_index(session: CloudSession, name_or_id: str) -> LlamaCloudV2IndexRef:
    """The Index v2 index with this id, or else this name (``GET /api/v1/indexes``, every page)."""
    with about_index(name_or_id):
        what = f"looking up LlamaCloud index {name_or_id!r}"
        found: list[Mapping[str, Any]] = []
        params: dict[str, Any] = session.project_params()
        for _ in range(_MAX_PAGES):
            page = await session.json("GET", INDEXES, what=what, params=params)
            items = page.get("items")
            if not isinstance(items, list):
                raise ServiceError(f"{what}: the answer is not a page of 'items'")
            found.extend(i for i in items if isinstance(i, Mapping))
            token = page.get("next_page_token")
            if not token:
                break
            params = {**params, "page_token": token}
        by_id = [i for i in found if i.get("id") == name_or_id]
        named = by_id or [i for i in found if i.get("name") == name_or_id]
        if not named:
            known = sorted(str(i.get("name")) for i in found if i.get("name"))
            raise ConfigError(
                f"Unknown LlamaCloud index {name_or_id!r} (Index v2)",
                hint=("Known indexes: " + ", ".join(known[:20])) if known else "The project has no indexes",
            )
        if len(named) > 1:
            raise ConfigError(
                f"{len(named)} LlamaCloud indexes are named {name_or_id!r}",
                hint="Pass the index id instead of its name",
            )
        index = named[0]
        project = index.get("project_id")
        return LlamaCloudV2IndexRef(
            str(index.get("name") or index["id"]),
            str(index["id"]),
            project if isinstance(project, str) else None,
        )


class IndexV2:
    """The Index v2 adapter: indexes by name or id, one retrieval per query, results as nodes.

    Args:
        screenshots: v1 only; v2 refuses it.
        figures: v1 only; v2 refuses it.
        score_threshold: drop results scored below it (sent as given, 0.0 included).

    Raises:
        ConfigError: page screenshot or figure nodes asked for.

    Example:
        >>> IndexV2(score_threshold=0.0).score_threshold
        0.0
    """

    def __init__(
        self, *, screenshots: bool = False, figures: bool = False, score_threshold: float | None = None
    ) -> None:
        if screenshots or figures:
            raise ConfigError(
                "Index v2 retrieval returns no page screenshot or figure nodes",
                hint="Drop retrieve_page_*_nodes, or use the v1 API (CLOUDKIT_API_VERSION=v1)",
            )
        self.score_threshold = score_threshold

    def check(self, config: HybridConfig) -> None:
        """Refuse, before any request, a config Index v2 cannot express (its filters).

        Raises:
            ConfigError: a filter whose meaning v2 cannot keep.

        Example:
            >>> IndexV2().check(HybridConfig(top_k=3))
        """
        v2_retrieve_body("", "", config, score_threshold=self.score_threshold)

    async def resolve(self, session: CloudSession, target: Any) -> LlamaCloudV2IndexRef:
        """The index of a name or id (looked up), a v2 reference, or a v1 reference (by its name).

        Raises:
            ConfigError: an unknown or ambiguous index, or a target of another type.

        Example:
            >>> import asyncio
            >>> ref = LlamaCloudV2IndexRef("handbook", "idx-1")
            >>> asyncio.run(IndexV2().resolve(None, ref)) is ref
            True
        """
        if isinstance(target, LlamaCloudV2IndexRef):
            return target
        if isinstance(target, str):
            return await _aresolve_v2_index(session, target)
        if is_llamacloud_index(target):
            return await _aresolve_v2_index(session, index_ref_of(target).name)
        raise ConfigError(
            f"Cannot retrieve from a {type(target).__name__} on LlamaCloud",
            hint="Pass an index name or id, or a LlamaCloudV2IndexRef",
        )

    async def search(
        self, session: CloudSession, index: LlamaCloudV2IndexRef, query: str, config: HybridConfig
    ) -> list[NodeWithScore]:
        """One retrieval: at most ``config.final_top_k`` passages (a read-only, retried POST)."""
        with about_index(index.name, index.index_id):
            answer = await session.json(
                "POST",
                RETRIEVE,
                what=f"retrieving from LlamaCloud index {index.name!r}",
                idempotent=True,  # a search: repeating it charges and creates nothing
                json=v2_retrieve_body(query, index.index_id, config, score_threshold=self.score_threshold),
                params=session.project_params(),
            )
            return v2_nodes(answer)[: config.final_top_k]

    async def ingest(
        self,
        session: CloudSession,
        documents: Sequence[Document],
        name: str,
        *,
        timeout: float,
        partial_ok: bool = False,
    ) -> LlamaCloudIndexRef:
        """Refused: Index v2 builds an index from a LlamaCloud directory, not from documents.

        Raises:
            ConfigError: always, with the way to get an Index v2 index.
        """
        raise ConfigError(
            "Index v2 builds an index from a LlamaCloud directory (POST /api/v1/indexes with a "
            "source_directory_id); this package does not upload documents to Index v2",
            hint="Create the index in LlamaCloud and retrieve from it by name or id on the v2 API, "
            "or ingest into a pipeline on the v1 API (CLOUDKIT_API_VERSION=v1)",
        )
