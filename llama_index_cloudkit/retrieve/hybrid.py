"""What every hybrid index shares: its retriever, and how a search ends.

:class:`~llama_index_cloudkit.retrieve.local.index.LocalHybridIndex` and
:class:`~llama_index_cloudkit.retrieve.qdrant.index.QdrantHybridIndex` score differently but keep
the same promises here: a LlamaIndex retriever that calls ``index.search(query, config)`` (in a
thread when awaited), and a search that reranks when asked and the index has a reranker, cuts to
``config.final_top_k`` and reports one :class:`~llama_index_cloudkit.events.RetrieveEndEvent`.

Example:
    >>> finish_search("hay", HybridConfig(top_k=1, enable_reranking=False), [], None)
    []
"""

from __future__ import annotations

import asyncio
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle

from llama_index_cloudkit.events import RetrieveEndEvent, dispatcher
from llama_index_cloudkit.retrieve.config import HybridConfig

__all__ = ["HybridIndexRetriever", "finish_search", "indexing_progress"]


class HybridIndexRetriever(BaseRetriever):
    """A LlamaIndex retriever over any hybrid index with a fixed HybridConfig.

    Args:
        index: the index to search (anything with ``search(query, config)``).
        config: the retrieval settings (its ``final_top_k`` is the number of results).
        callback_manager: LlamaIndex callbacks.

    Example:
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
        >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.", id_="hay")])
        >>> HybridIndexRetriever(index, HybridConfig(alpha=0.3, top_k=1)).retrieve("hay")[0].node.node_id
        'hay'
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


class _NoProgress:
    def update(self, n: int) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""


def indexing_progress(total: int, show: bool) -> Any:
    """A progress bar over ``total`` passages being indexed, or one that shows nothing.

    Example:
        >>> bar = indexing_progress(3, show=False)
        >>> bar.update(3); bar.close()
    """
    if not show:
        return _NoProgress()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Indexing passages", unit="passage")
