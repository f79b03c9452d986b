"""A LlamaIndex ``VectorStoreIndex`` as a retrieval target: a preset's ``alpha`` honoured on any store.

Three cases, tried in order:

| the index | search |
|---|---|
| its store has hybrid search (``enable_hybrid``: Qdrant with sparse vectors) | the store's own |
| its nodes are in its docstore (the default in-memory index) | dense + BM25 (docstore), fused |
| neither (a store that keeps the text itself) | dense only, ONE warning per store |

``alpha=1`` is dense only everywhere, with no warning; ``alpha=0`` is BM25 only where BM25 is
at hand. The BM25 leg is :class:`~llama_index_cloudkit.retrieve.local.bm25.BM25Scorer` (the
``[local]`` extra) and the fusion is
:func:`~llama_index_cloudkit.retrieve.fusion.relative_score_fusion`, as in LocalHybridIndex.

Example:
    >>> from llama_index.core import VectorStoreIndex
    >>> from llama_index.core.schema import TextNode
    >>> from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
    >>> index = VectorStoreIndex([TextNode(text="Llamas eat hay.")], embed_model=MiniLMEmbedding())
    >>> type(vector_store_retriever(index, HybridConfig(alpha=0.2, top_k=1))).__name__
    'DocstoreHybridRetriever'
"""

from __future__ import annotations

import logging
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.indices.vector_store.base import VectorStoreIndex
from llama_index.core.schema import BaseNode, NodeWithScore, QueryBundle

from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.filters import matches
from llama_index_cloudkit.retrieve.fusion import relative_score_fusion

__all__ = ["DocstoreHybridRetriever", "vector_store_retriever"]

logger = logging.getLogger(__name__)

_WARNED: set[int] = set()  # id() of the vector stores already warned about (once per store)

_HOW = (
    "For hybrid search use a store with sparse vectors (QdrantVectorStore(..., enable_hybrid=True)), "
    "QdrantHybridIndex or LocalHybridIndex"
)


def _refuse_empty(query: str) -> None:
    if not query.strip():
        raise ConfigError(f"The query is empty ({query!r})", hint="Ask a question with at least one word")


class DocstoreHybridRetriever(BaseRetriever):
    """The vector store's dense search fused with BM25 over the index's docstore, by ``alpha``.

    For a ``VectorStoreIndex`` whose store has no sparse search but whose nodes are in its
    docstore (the default in-memory index). BM25 statistics are computed once, from the nodes
    the index holds when the retriever is made.

    Args:
        index: the VectorStoreIndex.
        nodes: its passages (from the docstore).
        config: the retrieval settings (legs, ``alpha``, ``filters``, ``final_top_k``).

    Example:
        >>> from llama_index.core import VectorStoreIndex
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
        >>> nodes = [TextNode(text="Llamas eat hay."), TextNode(text="Stocks fell.")]
        >>> index = VectorStoreIndex(nodes, embed_model=MiniLMEmbedding())
        >>> retriever = DocstoreHybridRetriever(index, nodes, HybridConfig(alpha=0.0, top_k=2))
        >>> [hit.node.text for hit in retriever.retrieve("hay")]
        ['Llamas eat hay.']
    """

    def __init__(self, index: VectorStoreIndex, nodes: list[BaseNode], config: HybridConfig) -> None:
        from llama_index_cloudkit.retrieve.local.bm25 import BM25Scorer

        self.index = index
        self.config = config
        self._nodes = nodes
        self._bm25 = BM25Scorer([n.get_content() for n in nodes])
        self._dense = (
            index.as_retriever(similarity_top_k=config.dense_similarity_top_k, filters=config.filters)
            if config.alpha > 0
            else None
        )
        super().__init__(callback_manager=CallbackManager([]))

    def _sparse(self, query: str) -> dict[str, float]:
        scores = self._bm25.scores(query)
        ranked = sorted(
            (
                (float(score), position)
                for position, score in enumerate(scores)
                if score > 0 and matches(self._nodes[position].metadata, self.config.filters)
            ),
            key=lambda item: (-item[0], item[1]),
        )
        top = ranked[: self.config.sparse_similarity_top_k]
        return {self._nodes[position].node_id: score for score, position in top}

    def _fuse(self, query: str, dense_hits: list[NodeWithScore]) -> list[NodeWithScore]:
        by_id = {n.node_id: n for n in self._nodes}
        by_id.update({hit.node.node_id: hit.node for hit in dense_hits})
        dense = {hit.node.node_id: float(hit.score or 0.0) for hit in dense_hits}
        sparse = self._sparse(query) if self.config.alpha < 1 else {}
        fused = relative_score_fusion(dense, sparse, self.config.alpha)
        return [NodeWithScore(node=by_id[node_id], score=score) for node_id, score in fused][
            : self.config.final_top_k
        ]

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        _refuse_empty(query_bundle.query_str)
        dense = self._dense.retrieve(query_bundle) if self._dense is not None else []
        return self._fuse(query_bundle.query_str, dense)

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        _refuse_empty(query_bundle.query_str)
        dense = await self._dense.aretrieve(query_bundle) if self._dense is not None else []
        return self._fuse(query_bundle.query_str, dense)


def _docstore_nodes(index: VectorStoreIndex) -> list[BaseNode]:
    """The index's own nodes from its docstore; empty when the store keeps them instead."""
    ids = list(index.index_struct.nodes_dict.values())
    if not ids:
        return []
    return [node for node in index.docstore.get_nodes(ids, raise_error=False) if node is not None]


def _warn_once(store: Any, config: HybridConfig, why: str) -> None:
    if id(store) in _WARNED:
        return
    _WARNED.add(id(store))
    logger.warning(
        "%s has no sparse search and %s, so alpha=%s searches its dense vectors only. %s.",
        type(store).__name__,
        why,
        config.alpha,
        _HOW,
    )


def vector_store_retriever(index: VectorStoreIndex, config: HybridConfig) -> BaseRetriever:
    """The retriever for ``config`` on a VectorStoreIndex: the store's hybrid, BM25 + dense, or dense.

    Returns at most ``config.final_top_k`` nodes (see the module's table for the three cases).

    Example:
        >>> from llama_index.core import VectorStoreIndex
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
        >>> index = VectorStoreIndex([TextNode(text="Llamas eat hay.")], embed_model=MiniLMEmbedding())
        >>> len(vector_store_retriever(index, HybridConfig(alpha=1.0, top_k=3)).retrieve("hay"))
        1
    """
    from llama_index_cloudkit.retrieve.factory import FinalCountRetriever

    count = config.final_top_k
    store = index.vector_store
    if bool(getattr(store, "enable_hybrid", False)):
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
        nodes = _docstore_nodes(index)
        if nodes:
            try:
                return DocstoreHybridRetriever(index, nodes, config)
            except ImportError as exc:  # BM25 needs the [local] extra; the warning names it
                _warn_once(store, config, f"BM25 over its docstore cannot run ({exc})")
        else:
            _warn_once(store, config, "the index keeps no nodes in its docstore for BM25")
    return index.as_retriever(similarity_top_k=count, filters=config.filters)
