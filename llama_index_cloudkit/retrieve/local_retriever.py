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

from typing import TYPE_CHECKING

from llama_index_cloudkit.retrieve.hybrid_search import HybridIndexRetriever

if TYPE_CHECKING:
    from llama_index_cloudkit.retrieve.local import LocalHybridIndex

__all__ = ["LocalHybridRetriever"]


class LocalHybridRetriever(HybridIndexRetriever):
    """A LlamaIndex retriever over a :class:`LocalHybridIndex` with a fixed HybridConfig.

    Args:
        index: the index to search.
        config: the retrieval settings (its ``final_top_k`` is the number of results).
        callback_manager: LlamaIndex callbacks.

    Example:
        >>> retriever = LocalHybridRetriever(index, HybridConfig(alpha=0.3))  # doctest: +SKIP
        >>> retriever.retrieve("hay")  # doctest: +SKIP
    """

    index: LocalHybridIndex
