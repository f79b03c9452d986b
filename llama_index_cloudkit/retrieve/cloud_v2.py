"""Index v2 retrieval (LlamaCloud's current API) as plain HTTP over the cloud core.

One ``POST /api/v1/retrieval/retrieve`` per query, with exactly the HybridConfig's parameters
(reference/llamacloud-api-v2.md, section 4):

| HybridConfig | Index v2 body |
|---|---|
| ``alpha`` | ``vector_pipeline_weight = alpha``, ``full_text_pipeline_weight = 1 - alpha`` |
| ``enable_reranking``, ``rerank_top_n`` | ``rerank: {enabled, top_n}`` (``{enabled: false}`` off) |
| final count | ``top_k``: the candidate pool with reranking on, the final count with it off |
| ``score_threshold`` (retriever argument) | ``score_threshold`` |
| ``filters`` | ``custom_filters`` (see :func:`v2_custom_filters`) |

0, 0.0 and False are sent as given, never dropped (the current SDK's retriever drops them).

Filters are translated by :func:`v2_custom_filters` (module ``cloud_v2_filters``), which keeps
their meaning or refuses them before any request.

An index is named by its name or its id: ``GET /api/v1/indexes`` (cursor pages) is read until
one matches. Results have no node id in v2; it is derived from ``parsed_directory_file_id`` and
``chunk_index`` (or the text), so the same passage has the same id across calls.

Example:
    >>> from llama_index_cloudkit.retrieve.config import HybridConfig
    >>> body = v2_retrieve_body("hay", "idx-1", HybridConfig(alpha=0.0, enable_reranking=False, top_k=3))
    >>> body["vector_pipeline_weight"], body["full_text_pipeline_weight"], body["rerank"], body["top_k"]
    (0.0, 1.0, {'enabled': False}, 3)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession, run_in_session
from llama_index_cloudkit.errors import ConfigError, ServiceError
from llama_index_cloudkit.retrieve.cloud_index import about_index
from llama_index_cloudkit.retrieve.cloud_session_retriever import CloudSessionRetriever
from llama_index_cloudkit.retrieve.cloud_v2_filters import Constraint, v2_custom_filters
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.settings import CloudKitSettings

# Constraint and v2_custom_filters now live in cloud_v2_filters; they stay importable from here.
__all__ = [
    "Constraint",
    "LlamaCloudV2IndexRef",
    "LlamaCloudV2Retriever",
    "aresolve_v2_index",
    "resolve_v2_index",
    "v2_custom_filters",
    "v2_nodes",
    "v2_retrieve_body",
]

RETRIEVE = "/api/v1/retrieval/retrieve"
INDEXES = "/api/v1/indexes"
_MAX_PAGES = 100  # cursor pages read when looking an index up


@dataclass(frozen=True)
class LlamaCloudV2IndexRef:
    """An Index v2 index by name and id: no client, no key, safe to keep.

    Example:
        >>> ref = LlamaCloudV2IndexRef("handbook", "idx-1", "proj-1")
        >>> ref.id, str(ref)
        ('idx-1', "LlamaCloud index 'handbook' (index idx-1)")
    """

    name: str
    index_id: str
    project_id: str | None = None

    @property
    def id(self) -> str:
        """The index id."""
        return self.index_id

    def __str__(self) -> str:
        return f"LlamaCloud index {self.name!r} (index {self.index_id})"


def v2_retrieve_body(
    query: str, index_id: str, config: HybridConfig, *, score_threshold: float | None = None
) -> dict[str, Any]:
    """The ``POST /api/v1/retrieval/retrieve`` body: 0, 0.0 and False are kept.

    Example:
        >>> body = v2_retrieve_body("hay", "idx-1", HybridConfig(rerank_top_n=5), score_threshold=0.0)
        >>> body["rerank"], body["score_threshold"]
        ({'enabled': True, 'top_n': 5}, 0.0)
    """
    body: dict[str, Any] = {"index_id": index_id, "query": query, **config.to_llamacloud_v2_kwargs()}
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


async def aresolve_v2_index(session: CloudSession, name_or_id: str) -> LlamaCloudV2IndexRef:
    """The Index v2 index with this id, or else this name (``GET /api/v1/indexes``, every page).

    Raises:
        ConfigError: no such index, or several with that name.

    Example:
        >>> ref = await aresolve_v2_index(session, "handbook")  # doctest: +SKIP
    """
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


def resolve_v2_index(
    name_or_id: str, settings: CloudKitSettings, *, policy: CloudPolicy | None = None
) -> LlamaCloudV2IndexRef:
    """:func:`aresolve_v2_index` from sync code (safe inside a running loop).

    Example:
        >>> resolve_v2_index("handbook", CloudKitSettings(api_version="v2")).id  # doctest: +SKIP
        'idx-...'
    """
    return run_in_session(settings, policy, lambda session: aresolve_v2_index(session, name_or_id))


class LlamaCloudV2Retriever(CloudSessionRetriever):
    """A LlamaIndex retriever on an Index v2 index, safe across event loops and threads.

    Filters are translated when the retriever is built, so a filter v2 cannot express fails
    here (ConfigError), before any request.

    Args:
        index: the index (see :func:`~llama_index_cloudkit.retrieve.cloud.llamacloud_retriever`
            to start from a name or id).
        config: the retrieval settings; at most ``config.final_top_k`` passages come back.
        settings: key and endpoint.
        policy: retries and timeouts of the cloud core.
        score_threshold: drop results scored below it (sent as given, 0.0 included).
        callback_manager: LlamaIndex callbacks.

    Example:
        >>> ref = LlamaCloudV2IndexRef("handbook", "idx-1")
        >>> LlamaCloudV2Retriever(ref, HybridConfig(), CloudKitSettings()).index.id
        'idx-1'
    """

    index: LlamaCloudV2IndexRef

    def __init__(
        self,
        index: LlamaCloudV2IndexRef,
        config: HybridConfig,
        settings: CloudKitSettings,
        *,
        policy: CloudPolicy | None = None,
        score_threshold: float | None = None,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        self.score_threshold = score_threshold
        v2_retrieve_body("", index.index_id, config, score_threshold=score_threshold)  # fail early
        super().__init__(index, config, settings, policy=policy, callback_manager=callback_manager)

    async def asearch(self, session: CloudSession, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """One retrieval on an open session.

        Example:
            >>> hits = await retriever.asearch(session, QueryBundle("hay"))  # doctest: +SKIP
        """
        index = self.index
        with about_index(index.name, index.index_id):
            body = v2_retrieve_body(
                query_bundle.query_str, index.index_id, self.config, score_threshold=self.score_threshold
            )
            answer = await self.post_search(session, RETRIEVE, body, params=session.project_params())
            return v2_nodes(answer)[: self.config.final_top_k]
