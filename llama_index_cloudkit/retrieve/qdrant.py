"""QdrantHybridIndex: the local index's hybrid retrieval on Qdrant (embedded, server or cluster).

The same meaning as :class:`LocalHybridIndex`: a dense leg (the bundled int8 MiniLM or any
LlamaIndex embedding, cosine) and a BM25 leg with the same tokens, k1 and b (term frequencies as
sparse vectors, IDF from Qdrant's ``modifier=IDF``; see ``qdrant_sparse``), fused by the same
:func:`relative_score_fusion` and ``alpha`` (1 dense only, 0 sparse only). Every preset, override
and metadata filter works unchanged; nothing is downloaded at run time.

One collection holds both legs (named vectors ``text-dense`` and ``text-bm25``), the node as
LlamaIndex's vector stores write it (``_node_content``, ``doc_id``, metadata at the top level),
and, in the collection's metadata, every setting that changes scoring (k1, b, language, the fixed
BM25 ``avgdl``, the embedder) plus the type of each metadata key, so a collection re-opens by name
with the settings it was built with, from any machine.

Point ids are the node ids when those are UUIDs, otherwise a UUID5 of the node id (Qdrant takes
only UUIDs and integers); the node id itself is kept in the payload.

This module builds and searches; the collection's settings (``qdrant_collection``), inserts and
deletes (``qdrant_writing``) and the client and its errors (``qdrant_connection``) live beside it.

Example:
    >>> index = QdrantHybridIndex.from_documents(docs, location=":memory:")  # doctest: +SKIP
    >>> index.as_retriever("keyword").retrieve("refund window")  # doctest: +SKIP
    >>> server = open_qdrant_index("http://qdrant.internal:6333", collection="handbook")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import BaseNode, Document, NodeWithScore
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from llama_index_cloudkit._imports import require
from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.events import dispatcher
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.fusion import relative_score_fusion
from llama_index_cloudkit.retrieve.hybrid_search import HybridIndexRetriever, default_embedder, finish_search
from llama_index_cloudkit.retrieve.qdrant_connection import (
    DENSE,
    FORMAT_VERSION,
    KEY_TYPES_KEY,
    NODE_ID_KEY,
    SETTINGS_KEY,
    SPARSE,
    make_client,
    point_id,
    qdrant_errors,
)
from llama_index_cloudkit.retrieve.qdrant_filters import to_qdrant_filter
from llama_index_cloudkit.retrieve.qdrant_sparse import BM25SparseEncoder
from llama_index_cloudkit.retrieve.qdrant_writing import QdrantWriting

# The vector and metadata names and point_id now live in qdrant_connection; they stay importable
# from here.
__all__ = [
    "DENSE",
    "FORMAT_VERSION",
    "KEY_TYPES_KEY",
    "NODE_ID_KEY",
    "SETTINGS_KEY",
    "SPARSE",
    "QdrantHybridIndex",
    "QdrantHybridRetriever",
    "open_qdrant_index",
    "point_id",
]


class QdrantHybridRetriever(HybridIndexRetriever):
    """A LlamaIndex retriever over a :class:`QdrantHybridIndex` with a fixed HybridConfig.

    Example:
        >>> retriever = QdrantHybridRetriever(index, HybridConfig(alpha=0.3))  # doctest: +SKIP
        >>> retriever.retrieve("hay")  # doctest: +SKIP
    """

    index: QdrantHybridIndex


class QdrantHybridIndex(QdrantWriting):
    """Hybrid retrieval (dense + BM25, relative-score fusion by ``alpha``) on a Qdrant collection.

    Opening an existing collection reads its scoring settings; a new one is created on the first
    insert. Use the embedded engine (``location=":memory:"`` or ``path=...``) on one machine and a
    URL for a Qdrant server or cluster: the code is the same.

    Args:
        client: a ``qdrant_client.QdrantClient``.
        collection_name: the collection to open or create.
        embed_model: any LlamaIndex embedding; default the bundled int8 all-MiniLM-L6-v2. Must be
            the one the collection was built with.
        k1: BM25 term saturation (new collections; default 1.5, as LocalHybridIndex).
        b: BM25 length normalization (new collections; default 0.75).
        language: stemmer and stopword language (new collections; default english).
        reranker: an optional node postprocessor used when ``enable_reranking`` is set.

    Raises:
        ConfigError: the collection was built with another embedder or other BM25 settings, or
            was not made by this class.

    Example:
        >>> from qdrant_client import QdrantClient
        >>> index = QdrantHybridIndex(QdrantClient(path="./qdrant"), "handbook")  # doctest: +SKIP
        >>> index.insert(Document(text="Refunds within 30 days."))  # doctest: +SKIP
        >>> index.as_retriever("balanced", rerank_top_n=3).retrieve("refund")  # doctest: +SKIP
    """

    def __init__(
        self,
        client: Any,
        collection_name: str = "cloudkit",
        *,
        embed_model: BaseEmbedding | None = None,
        k1: float | None = None,
        b: float | None = None,
        language: str | None = None,
        reranker: BaseNodePostprocessor | None = None,
    ) -> None:
        self._models = require("qdrant_client.models", "qdrant", package="qdrant-client")
        self.client = client
        self.collection_name = collection_name
        self.embed_model = embed_model or default_embedder()
        self.reranker = reranker
        self._key_types: dict[str, list[str]] = {}
        self._dimension: int | None = None
        self._requested = {"k1": k1, "b": b, "language": language}
        self.encoder = BM25SparseEncoder(
            k1=1.5 if k1 is None else k1, b=0.75 if b is None else b, language=language or "english"
        )
        self._open()

    @classmethod
    def class_name(cls) -> str:
        """The component name."""
        return "QdrantHybridIndex"

    # --- building ------------------------------------------------------------------------------

    @classmethod
    def from_documents(
        cls,
        documents: Sequence[Document],
        *,
        client: Any = None,
        location: str | None = None,
        path: str | os.PathLike[str] | None = None,
        url: str | None = None,
        api_key: str | None = None,
        collection_name: str = "cloudkit",
        embed_model: BaseEmbedding | None = None,
        batch_size: int = 64,
        show_progress: bool = False,
        chunk_size: int = 512,
        chunk_overlap: int = 32,
        overwrite: bool = False,
        **kwargs: Any,
    ) -> QdrantHybridIndex:
        """Split documents into passages (SentenceSplitter, as LocalHybridIndex) and index them.

        Args:
            client / location / path / url: where the collection lives (one of them; default an
                in-memory embedded engine). ``api_key`` (or ``QDRANT_API_KEY``) goes with ``url``.
            collection_name: created if missing; an existing one is added to.
            batch_size: passages embedded and uploaded per request.
            show_progress: a progress bar over passages.
            overwrite: drop an existing collection of that name first.
            **kwargs: ``k1``, ``b``, ``language``, ``reranker``.

        Example:
            >>> index = QdrantHybridIndex.from_documents(
            ...     docs, path="./qdrant", show_progress=True)  # doctest: +SKIP
        """
        splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
        return cls.from_nodes(
            splitter.get_nodes_from_documents(list(documents)),
            client=client,
            location=location,
            path=path,
            url=url,
            api_key=api_key,
            collection_name=collection_name,
            embed_model=embed_model,
            batch_size=batch_size,
            show_progress=show_progress,
            overwrite=overwrite,
            **kwargs,
        )

    @classmethod
    def from_nodes(
        cls,
        nodes: Sequence[BaseNode],
        *,
        client: Any = None,
        location: str | None = None,
        path: str | os.PathLike[str] | None = None,
        url: str | None = None,
        api_key: str | None = None,
        collection_name: str = "cloudkit",
        embed_model: BaseEmbedding | None = None,
        embeddings: Any = None,
        batch_size: int = 64,
        show_progress: bool = False,
        overwrite: bool = False,
        **kwargs: Any,
    ) -> QdrantHybridIndex:
        """Index passages as they are (see :meth:`from_documents` for the arguments).

        ``embeddings`` (an (n, dim) array, one row per node) skips embedding, for vectors you
        already have; nodes with ``node.embedding`` set are not embedded again either.

        Example:
            >>> index = QdrantHybridIndex.from_nodes(nodes, embeddings=matrix)  # doctest: +SKIP
        """
        qdrant = make_client(client, location=location, path=path, url=url, api_key=api_key)
        if overwrite:
            with qdrant_errors("drop the collection", f"collection {collection_name!r}"):
                if qdrant.collection_exists(collection_name):
                    qdrant.delete_collection(collection_name)
        index = cls(qdrant, collection_name, embed_model=embed_model, **kwargs)
        index.insert_nodes(nodes, embeddings=embeddings, batch_size=batch_size, show_progress=show_progress)
        return index

    # --- reading -------------------------------------------------------------------------------

    def iter_nodes(self, batch_size: int = 256) -> Iterator[BaseNode]:
        """Every indexed passage, page by page (no order promised).

        Example:
            >>> sum(1 for _ in index.iter_nodes())  # doctest: +SKIP
            10
        """
        if not self._exists():
            return
        offset = None
        while True:
            with qdrant_errors("scroll points", self._where()):
                points, offset = self.client.scroll(
                    self.collection_name,
                    limit=batch_size,
                    offset=offset,
                    with_payload=True,
                    with_vectors=False,
                )
            for point in points:
                yield metadata_dict_to_node(point.payload or {})
            if offset is None:
                return

    @property
    def nodes(self) -> list[BaseNode]:
        """Every indexed passage (reads the whole collection: mind its size).

        Example:
            >>> len(index.nodes)  # doctest: +SKIP
            10
        """
        return list(self.iter_nodes())

    # --- searching -----------------------------------------------------------------------------

    @dispatcher.span
    def search(self, query: str, config: HybridConfig | None = None) -> list[NodeWithScore]:
        """Hybrid search; returns fused results, best first.

        With ``enable_reranking`` the list is cut to ``rerank_top_n`` (after the reranker when the
        index has one); without, to the config's final ``top_k``.

        Example:
            >>> hits = index.search("hay", HybridConfig(alpha=0.0, rerank_top_n=3))  # doctest: +SKIP
        """
        config = config or HybridConfig()
        if self._dimension is None and not self._open():
            return []
        models = self._models
        query_filter = to_qdrant_filter(config.filters, self._key_types)
        requests, legs = [], []
        if config.alpha > 0:
            vector = self.embed_model.get_query_embedding(query)
            requests.append(self._request(vector, DENSE, config.dense_similarity_top_k, query_filter))
            legs.append("dense")
        if config.alpha < 1:
            indices, values = self.encoder.query(query)
            if indices:  # only stopwords or one-letter words: no sparse evidence
                sparse = models.SparseVector(indices=indices, values=values)
                requests.append(self._request(sparse, SPARSE, config.sparse_similarity_top_k, query_filter))
                legs.append("sparse")
        scores: dict[str, dict[str, float]] = {"dense": {}, "sparse": {}}
        if requests:
            with qdrant_errors("search", self._where()):
                responses = self.client.query_batch_points(self.collection_name, requests=requests)
            for leg, response in zip(legs, responses, strict=True):
                scores[leg] = {
                    str((p.payload or {}).get(NODE_ID_KEY)): float(p.score) for p in response.points
                }
        fused = relative_score_fusion(scores["dense"], scores["sparse"], config.alpha)
        # With a reranker, it sees every fused candidate; without, only the final count is read.
        rerank = config.enable_reranking and self.reranker is not None
        results = self._fetch(fused if rerank else fused[: config.final_top_k])
        return finish_search(query, config, results, self.reranker)

    def _request(self, query: Any, using: str, limit: int, query_filter: Any) -> Any:
        return self._models.QueryRequest(
            query=query, using=using, limit=limit, filter=query_filter, with_payload=[NODE_ID_KEY]
        )

    def _fetch(self, ranked: list[tuple[str, float]]) -> list[NodeWithScore]:
        if not ranked:
            return []
        with qdrant_errors("read points", self._where()):
            points = self.client.retrieve(
                self.collection_name, ids=[point_id(node_id) for node_id, _ in ranked], with_payload=True
            )
        nodes = {
            str((p.payload or {}).get(NODE_ID_KEY)): metadata_dict_to_node(p.payload or {}) for p in points
        }
        # A passage deleted by another client between the search and this read is left out.
        return [
            NodeWithScore(node=nodes[node_id], score=score) for node_id, score in ranked if node_id in nodes
        ]

    def as_hybrid_retriever(self, config: HybridConfig, **kwargs: Any) -> BaseRetriever:
        """A LlamaIndex retriever with ``config`` (the factory's entry point).

        ``kwargs`` go to the retriever (``callback_manager``, ``verbose``).

        Example:
            >>> index.as_hybrid_retriever(HybridConfig(alpha=0.2)).retrieve("hay")  # doctest: +SKIP
        """
        return QdrantHybridRetriever(self, config, **kwargs)

    def as_retriever(self, preset: str = "balanced", **overrides: Any) -> BaseRetriever:
        """A LlamaIndex retriever with a preset's settings (``overrides`` win).

        Example:
            >>> index.as_retriever("keyword", rerank_top_n=3).retrieve("hay")  # doctest: +SKIP
        """
        from llama_index_cloudkit.presets import RetrievalPreset

        config: HybridConfig = RetrievalPreset.from_name(preset).config(**overrides)
        return self.as_hybrid_retriever(config)


def open_qdrant_index(
    spec: str, *, collection: str = "cloudkit", embed_model: BaseEmbedding | None = None
) -> QdrantHybridIndex:
    """Open (or prepare to create) a collection from a CLI-style spec: the part after ``qdrant:``.

    Args:
        spec: ``:memory:`` (embedded, in memory), a folder (embedded, on disk) or an
            ``http(s)://`` URL of a Qdrant server or cluster (API key from ``QDRANT_API_KEY``).
        collection: the collection name.
        embed_model: the embedder; default the bundled MiniLM.

    Raises:
        ConfigError: an empty spec, a folder held by another client, or a collection built
            with other settings.

    Example:
        >>> index = open_qdrant_index("./qdrant-data", collection="handbook")  # doctest: +SKIP
        >>> index = open_qdrant_index("https://xyz.cloud.qdrant.io:6333")  # doctest: +SKIP
    """
    spec = spec.strip()
    if not spec:
        raise ConfigError(
            "The Qdrant store is empty",
            hint="Use qdrant::memory:, qdrant:./folder or qdrant:http://host:6333",
        )
    if spec == ":memory:":
        client = make_client(location=spec)
    elif spec.startswith(("http://", "https://")):
        client = make_client(url=spec)
    else:
        client = make_client(path=spec)
    return QdrantHybridIndex(client, collection, embed_model=embed_model)
