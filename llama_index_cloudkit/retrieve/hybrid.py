"""What every hybrid index shares: its retriever, its engines, and how a search ends.

:class:`~llama_index_cloudkit.retrieve.local.index.LocalHybridIndex`,
:class:`~llama_index_cloudkit.retrieve.qdrant.index.QdrantHybridIndex` and
:class:`~llama_index_cloudkit.retrieve.postgres.index.PostgresHybridIndex` score differently but
keep the same promises here: a LlamaIndex retriever that calls ``index.search(query, config)`` (in
a thread when awaited); ``as_query_engine`` / ``as_chat_engine`` with LlamaIndex's names
(:class:`HybridIndexEngines`); and a search that reranks when asked and the index has a
reranker, cuts to ``config.final_top_k`` and reports one
:class:`~llama_index_cloudkit.events.RetrieveEndEvent`.

Example:
    >>> finish_search("hay", HybridConfig(top_k=1, enable_reranking=False), [], None)
    []
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle

from llama_index_cloudkit.events import RetrieveEndEvent, dispatcher
from llama_index_cloudkit.retrieve.config import HybridConfig

if TYPE_CHECKING:
    from llama_index.core.base.base_query_engine import BaseQueryEngine
    from llama_index.core.chat_engine.types import BaseChatEngine
    from llama_index.core.llms import LLM

    from llama_index_cloudkit.retrieve.factory import PresetLike

__all__ = [
    "HybridIndexEngines",
    "HybridIndexRetriever",
    "finish_search",
    "indexing_progress",
]


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


class HybridIndexEngines:
    """``as_query_engine`` and ``as_chat_engine`` for a hybrid index, with LlamaIndex's names.

    Shared by the three hybrid indexes (they need ``as_hybrid_retriever`` and, optionally, a
    tuned ``retrieval_config``). The keywords are those of
    :func:`~llama_index_cloudkit.retrieve.factory.make_query_engine` and
    :func:`~llama_index_cloudkit.retrieve.factory.make_chat_engine`: a preset or HybridConfig field
    (``similarity_top_k`` is the result count, ``filters``, ``alpha``), ``llm`` (default
    ``Settings.llm``), and the engine's own (``response_mode``, ``streaming``, ``chat_mode``,
    ``system_prompt``, ...). An unknown keyword is a ConfigError naming the closest one.

    Example:
        >>> from llama_index.core.llms import MockLLM
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
        >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.", id_="hay")])
        >>> engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=1, response_mode="compact")
        >>> [n.node.node_id for n in engine.query("What do llamas eat?").source_nodes]
        ['hay']
        >>> type(index.as_chat_engine(chat_mode="context", llm=MockLLM())).__name__
        'ContextChatEngine'
    """

    def as_query_engine(
        self, preset: PresetLike = None, *, llm: LLM | None = None, **kwargs: Any
    ) -> BaseQueryEngine:
        """A query engine on this index (cited passages when no LLM is passed or set).

        Example:
            >>> from llama_index.core.schema import TextNode
            >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
            >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.")])
            >>> index.as_query_engine("keyword", similarity_top_k=1).query("hay").source_nodes[0].node.text
            'Llamas eat hay.'
        """
        from llama_index_cloudkit.retrieve.factory import query_engine_for

        return query_engine_for(self, preset, llm, kwargs, f"{type(self).__name__}.as_query_engine")

    def as_chat_engine(
        self, preset: PresetLike = None, *, llm: LLM | None = None, **kwargs: Any
    ) -> BaseChatEngine:
        """A chat engine on this index (``chat_mode`` default ``condense_plus_context``).

        Raises:
            ConfigError: no ``llm`` passed and ``Settings.llm`` not set (nor OPENAI_API_KEY),
                an unknown chat mode, or an unknown keyword.

        Example:
            >>> from llama_index.core.llms import MockLLM
            >>> from llama_index.core.schema import TextNode
            >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
            >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.")])
            >>> type(index.as_chat_engine(llm=MockLLM(), similarity_top_k=1)).__name__
            'CondensePlusContextChatEngine'
        """
        from llama_index_cloudkit.retrieve.factory import chat_engine_for

        return chat_engine_for(self, preset, llm, kwargs, f"{type(self).__name__}.as_chat_engine")
