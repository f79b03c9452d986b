"""What every hybrid index shares: its default embedder, its retriever, and how a search ends.

:class:`~llama_index_cloudkit.retrieve.local.LocalHybridIndex` and
:class:`~llama_index_cloudkit.retrieve.qdrant.QdrantHybridIndex` score differently but keep the
same promises here: the bundled MiniLM when no embedder is given, a LlamaIndex retriever that
calls ``index.search(query, config)`` (in a thread when awaited), and a search that reranks when
asked and the index has a reranker, cuts to ``config.final_top_k`` and reports one
:class:`~llama_index_cloudkit.events.RetrieveEndEvent`.

Example:
    >>> retriever = HybridIndexRetriever(index, HybridConfig(alpha=0.3))  # doctest: +SKIP
    >>> retriever.retrieve("hay")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.callbacks import CallbackManager
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle

from llama_index_cloudkit.events import RetrieveEndEvent, dispatcher
from llama_index_cloudkit.retrieve.config import HybridConfig

__all__ = ["HybridIndexRetriever", "default_embedder", "finish_search"]


def default_embedder() -> BaseEmbedding:
    """The bundled int8 all-MiniLM-L6-v2 (imported only when an index needs it).

    Example:
        >>> default_embedder().model_name  # doctest: +SKIP
        'all-MiniLM-L6-v2-int8-onnx'
    """
    from llama_index_cloudkit.retrieve.embedding import MiniLMEmbedding

    return MiniLMEmbedding()


class HybridIndexRetriever(BaseRetriever):
    """A LlamaIndex retriever over any hybrid index with a fixed HybridConfig.

    Args:
        index: the index to search (anything with ``search(query, config)``).
        config: the retrieval settings (its ``final_top_k`` is the number of results).
        callback_manager: LlamaIndex callbacks.

    Example:
        >>> retriever = HybridIndexRetriever(index, HybridConfig(alpha=0.3))  # doctest: +SKIP
        >>> retriever.retrieve("hay")  # doctest: +SKIP
    """

    def __init__(
        self,
        index: Any,
        config: HybridConfig,
        callback_manager: CallbackManager | None = None,
        **kwargs: Any,
    ) -> None:
        self.index = index
        self.config = config
        super().__init__(callback_manager=callback_manager, **kwargs)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        found: list[NodeWithScore] = self.index.search(query_bundle.query_str, self.config)
        return found

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)


def finish_search(
    query: str,
    config: HybridConfig,
    results: list[NodeWithScore],
    reranker: BaseNodePostprocessor | None,
) -> list[NodeWithScore]:
    """Rerank (with ``enable_reranking`` and a reranker), cut to ``final_top_k``, report the end.

    Example:
        >>> finish_search("hay", HybridConfig(top_k=1, enable_reranking=False), [], None)
        []
    """
    if config.enable_reranking and reranker is not None:
        results = reranker.postprocess_nodes(results, QueryBundle(query))
    results = results[: config.final_top_k]
    dispatcher.event(
        RetrieveEndEvent(
            query=query,
            alpha=config.alpha,
            results=len(results),
            settings=config.model_dump(exclude={"filters"}),
        )
    )
    return results
