"""LocalHybridRetriever: a LlamaIndex retriever over a LocalHybridIndex with a fixed HybridConfig.

It lives beside the index (the index builds it, like ``VectorStoreIndex.as_retriever`` builds
``VectorIndexRetriever``), so the factory only dispatches. It returns at most
``config.final_top_k`` nodes: ``rerank_top_n`` with reranking on, ``top_k`` with it off.

Example:
    >>> retriever = LocalHybridRetriever(index, HybridConfig(alpha=0.3))  # doctest: +SKIP
    >>> len(retriever.retrieve("hay")) <= 6  # doctest: +SKIP
    True
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle

from llama_index_cloudkit.retrieve.config import HybridConfig

if TYPE_CHECKING:
    from llama_index_cloudkit.retrieve.local import LocalHybridIndex

__all__ = ["LocalHybridRetriever"]


class LocalHybridRetriever(BaseRetriever):
    """A LlamaIndex retriever over a :class:`LocalHybridIndex` with a fixed HybridConfig.

    Args:
        index: the index to search.
        config: the retrieval settings (its ``final_top_k`` is the number of results).
        callback_manager: LlamaIndex callbacks.

    Example:
        >>> retriever = LocalHybridRetriever(index, HybridConfig(alpha=0.3))  # doctest: +SKIP
        >>> retriever.retrieve("hay")  # doctest: +SKIP
    """

    def __init__(
        self,
        index: LocalHybridIndex,
        config: HybridConfig,
        callback_manager: CallbackManager | None = None,
        **kwargs: Any,
    ) -> None:
        self.index = index
        self.config = config
        super().__init__(callback_manager=callback_manager, **kwargs)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self.index.search(query_bundle.query_str, self.config)

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)
