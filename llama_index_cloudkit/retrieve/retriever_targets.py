"""Which retriever a target gets, and with which HybridConfig: the factory's dispatch table.

| target | accepted when | retriever |
|---|---|---|
| a hybrid index (LocalHybridIndex, QdrantHybridIndex, ...) | it has ``as_hybrid_retriever`` | its own |
| a LlamaIndex ``VectorStoreIndex`` (any vector store) | ``isinstance`` | ``index.as_retriever`` |
| a LlamaCloud index | a name (``str``) or a ``LlamaCloudIndex`` | ``retrieve.cloud`` |

Example:
    >>> resolve_config("any-index", "fast", top_k=1).final_top_k
    1
    >>> retriever = retriever_for(index, "keyword", None, {"top_k": 3}, "make_retriever")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.indices.vector_store.base import VectorStoreIndex
from llama_index.core.schema import NodeWithScore, QueryBundle
from pydantic import ValidationError

from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.presets import RetrievalPreset
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.settings import CONNECTION_FIELDS, CloudKitSettings, check_keywords, settings_with

__all__ = ["FinalCountRetriever", "PresetLike", "resolve_config", "retriever_for"]

logger = logging.getLogger(__name__)

PresetLike = str | RetrievalPreset | HybridConfig | None


class FinalCountRetriever(BaseRetriever):
    """Keeps the first ``top_k`` nodes of another retriever (for services with no final count).

    LlamaCloud's v1 pipelines return every fused candidate when reranking is off, and some
    vector stores ignore ``hybrid_top_k``: this cut keeps the count the config promises.

    Example:
        >>> capped = FinalCountRetriever(some_retriever, 3)  # doctest: +SKIP
        >>> len(capped.retrieve("hay")) <= 3  # doctest: +SKIP
        True
    """

    def __init__(self, inner: BaseRetriever, top_k: int) -> None:
        self.inner = inner
        self.top_k = top_k
        super().__init__(callback_manager=CallbackManager([]))

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self.inner.retrieve(query_bundle)[: self.top_k]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return (await self.inner.aretrieve(query_bundle))[: self.top_k]


# --- the target table --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    name: str
    accepts: Callable[[Any], bool]
    build: Callable[[Any, HybridConfig, CloudKitSettings, CloudPolicy | None], BaseRetriever]


def _is_hybrid_index(target: Any) -> bool:
    return callable(getattr(target, "as_hybrid_retriever", None))


def _hybrid_retriever(
    target: Any, config: HybridConfig, settings: CloudKitSettings, policy: CloudPolicy | None
) -> BaseRetriever:
    retriever: BaseRetriever = target.as_hybrid_retriever(config)
    return retriever


def _vector_store_retriever(
    index: VectorStoreIndex, config: HybridConfig, settings: CloudKitSettings, policy: CloudPolicy | None
) -> BaseRetriever:
    count = config.final_top_k
    if bool(getattr(index.vector_store, "enable_hybrid", False)):
        hybrid = index.as_retriever(
            vector_store_query_mode="hybrid",
            similarity_top_k=config.dense_similarity_top_k or count,
            sparse_top_k=config.sparse_similarity_top_k or count,
            hybrid_top_k=count,
            alpha=config.alpha,
            filters=config.filters,
        )
        return FinalCountRetriever(hybrid, count)
    if config.alpha < 1:
        logger.info("%s has no hybrid search; using its dense search only", type(index.vector_store).__name__)
    return index.as_retriever(similarity_top_k=count, filters=config.filters)


def _is_llamacloud(target: Any) -> bool:
    from llama_index_cloudkit.retrieve import cloud

    return isinstance(target, str) or cloud.is_llamacloud_index(target)


def _llamacloud_retriever(
    target: Any, config: HybridConfig, settings: CloudKitSettings, policy: CloudPolicy | None
) -> BaseRetriever:
    from llama_index_cloudkit.retrieve import cloud

    retriever = cloud.llamacloud_retriever(target, config, settings, policy=policy)
    return FinalCountRetriever(retriever, config.final_top_k)


_TARGETS: tuple[_Target, ...] = (
    _Target(
        "a hybrid index (LocalHybridIndex, QdrantHybridIndex, PostgresHybridIndex)",
        _is_hybrid_index,
        _hybrid_retriever,
    ),
    _Target("a VectorStoreIndex", lambda t: isinstance(t, VectorStoreIndex), _vector_store_retriever),
    _Target("a LlamaCloud index name or LlamaCloudIndex", _is_llamacloud, _llamacloud_retriever),
)

_CONFIG_FIELDS = tuple(HybridConfig.model_fields)


def resolve_config(target: Any, preset: PresetLike = None, **overrides: Any) -> HybridConfig:
    """The HybridConfig a target is searched with: preset (or tuned config), then overrides.

    ``preset=None`` takes the target's tuned ``retrieval_config`` when it has one (see
    ``tune_retrieval``), else ``balanced``. A HybridConfig is used as given. Overrides always
    win; ``top_k=N`` alone gives N results whatever the reranking setting.

    Example:
        >>> resolve_config("any-index", "fast", top_k=1).final_top_k
        1
    """
    try:
        if isinstance(preset, HybridConfig):
            return preset.with_overrides(**overrides)
        if preset is None:
            tuned = getattr(target, "retrieval_config", None)
            if isinstance(tuned, HybridConfig):
                return tuned.with_overrides(**overrides)
            preset = RetrievalPreset.BALANCED
        return RetrievalPreset.from_name(preset).config(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(
            f"These retrieval settings cannot work together: {problems}",
            hint="Raise the per-leg top-k, or lower top_k / rerank_top_n",
        ) from None


def retriever_for(
    target: Any,
    preset: PresetLike,
    settings: CloudKitSettings | None,
    kwargs: Mapping[str, Any],
    where: str,
    own: Iterable[str] = (),
) -> BaseRetriever:
    """The retriever of the first row of the table that accepts ``target``.

    ``kwargs`` are checked against HybridConfig's fields, the connection keywords, ``policy``
    and ``own`` (the caller's own keywords, already taken out), naming ``where`` in the error.

    Raises:
        ConfigError: an unknown keyword, settings that cannot work together, or a target no row
            accepts.

    Example:
        >>> retriever_for(index, "keyword", None, {"top_k": 3}, "make_retriever")  # doctest: +SKIP
    """
    check_keywords(kwargs, [*_CONFIG_FIELDS, *CONNECTION_FIELDS, "policy", *own], where)
    connection = {k: v for k, v in kwargs.items() if k in CONNECTION_FIELDS}
    overrides = {k: v for k, v in kwargs.items() if k not in CONNECTION_FIELDS and k != "policy"}
    policy = kwargs.get("policy")
    config = resolve_config(target, preset, **overrides)
    for row in _TARGETS:
        if row.accepts(target):
            return row.build(target, config, settings_with(settings, connection), policy)
    raise ConfigError(
        f"Cannot retrieve from a {type(target).__name__}",
        hint="Pass " + ", ".join(row.name for row in _TARGETS),
    )
