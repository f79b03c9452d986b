"""LocalHybridIndex: BM25 (bm25s) + dense vectors (numpy, exact) + relative-score fusion.

Everything runs in-process with no server and no download: the default embedder is the bundled
int8 all-MiniLM-L6-v2. It persists as plain files (``.npy`` without pickle, JSON) and reloads
with every scoring setting it was built with, and with the retrieval settings
:func:`~llama_index_cloudkit.retrieve.tuning.tune.tune_retrieval` chose for it, if any.

Any valid text can be indexed and searched: passages with no BM25 term (only digits of one
letter, stop words, emoji) or a corpus with none at all leave the sparse leg silent and the
dense leg answers (with ``alpha`` above 0; ``alpha=0`` means BM25 only on every target); an
empty or whitespace-only query is a ConfigError.

Example:
    >>> from llama_index.core.schema import TextNode
    >>> index = LocalHybridIndex([TextNode(text="llamas eat hay"), TextNode(text="stocks fell today")])
    >>> index.search("what do llamas eat", HybridConfig(rerank_top_n=1))[0].node.text
    'llamas eat hay'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import BaseNode, Document, MetadataMode, NodeWithScore

from llama_index_cloudkit._imports import require
from llama_index_cloudkit._llama_settings import explicit_embed_model
from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.events import dispatcher
from llama_index_cloudkit.retrieve.config import HybridConfig, config_keywords
from llama_index_cloudkit.retrieve.filters import matches
from llama_index_cloudkit.retrieve.fusion import relative_score_fusion
from llama_index_cloudkit.retrieve.hybrid import (
    HybridIndexEngines,
    HybridIndexRetriever,
    finish_search,
)
from llama_index_cloudkit.retrieve.local._files import (
    read_index_files,
    write_index_files,
    write_retrieval_config,
)
from llama_index_cloudkit.retrieve.local.bm25 import BM25Scorer
from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.presets import RetrievalPreset
from llama_index_cloudkit.settings import checked_keywords

__all__ = ["LocalHybridIndex"]


class LocalHybridIndex(HybridIndexEngines):
    """An embedded hybrid index: exact dense search, BM25, fusion by ``alpha``, filters.

    Args:
        nodes: the passages to index (TextNodes; ids must be unique).
        embed_model: any LlamaIndex embedding; default ``Settings.embed_model`` when set
            explicitly, else the bundled int8 all-MiniLM-L6-v2.
        k1: BM25 term saturation.
        b: BM25 length normalisation.
        language: stemmer and stopword language (PyStemmer / bm25s).
        reranker: an optional node postprocessor used when ``enable_reranking`` is set.
        retrieval_config: the settings ``as_retriever()`` uses when no preset is named
            (``tune_retrieval`` sets it; it is persisted with the index).

    Example:
        >>> index = LocalHybridIndex.from_documents([Document(text="Llamas eat hay.")])
        >>> index.as_retriever(preset="keyword").retrieve("hay")[0].node.text
        'Llamas eat hay.'
    """

    @checked_keywords()
    def __init__(
        self,
        nodes: Sequence[BaseNode] = (),
        *,
        embed_model: BaseEmbedding | None = None,
        k1: float = 1.5,
        b: float = 0.75,
        language: str = "english",
        reranker: BaseNodePostprocessor | None = None,
        retrieval_config: HybridConfig | None = None,
        _embeddings: Any = None,
    ) -> None:
        self._np = require("numpy", "local")
        self.embed_model = embed_model or explicit_embed_model() or MiniLMEmbedding()
        self.k1, self.b, self.language = k1, b, language
        self.reranker = reranker
        self.retrieval_config = retrieval_config
        self._nodes: list[BaseNode] = []
        self._embeddings = self._np.zeros((0, 0), dtype=self._np.float32)
        self._bm25 = BM25Scorer([])
        self._position: dict[str, int] = {}
        self._ids: list[str] = []
        if nodes:
            self._add(list(nodes), _embeddings)

    @classmethod
    def class_name(cls) -> str:
        """The component name."""
        return "LocalHybridIndex"

    # --- building ------------------------------------------------------------------------------

    @classmethod
    @checked_keywords(forwards_to="__init__")
    def from_documents(
        cls,
        documents: Sequence[Document],
        *,
        chunk_size: int = 512,
        chunk_overlap: int = 32,
        **kwargs: Any,
    ) -> LocalHybridIndex:
        """Split documents into passages (SentenceSplitter) and index them."""
        splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
        return cls(splitter.get_nodes_from_documents(list(documents)), **kwargs)

    def __len__(self) -> int:
        return len(self._nodes)

    @property
    def nodes(self) -> list[BaseNode]:
        """The indexed passages, in insertion order."""
        return list(self._nodes)

    def _add(self, nodes: list[BaseNode], embeddings: Any = None) -> None:
        known = {n.node_id for n in self._nodes}
        duplicates = [n.node_id for n in nodes if n.node_id in known]
        if duplicates or len({n.node_id for n in nodes}) != len(nodes):
            raise ConfigError(
                f"Node ids must be unique; already indexed: {duplicates[:5]}",
                hint="Delete them first, or give the new nodes other ids",
            )
        if embeddings is None:
            texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
            embeddings = self._np.asarray(
                self.embed_model.get_text_embedding_batch(texts), dtype=self._np.float32
            )
        embeddings = self._normalise(embeddings)
        if self._embeddings.size:
            self._embeddings = self._np.vstack([self._embeddings, embeddings])
        else:
            self._embeddings = embeddings
        self._nodes.extend(nodes)
        self._rebuild_bm25()

    def _normalise(self, matrix: Any) -> Any:
        matrix = self._np.asarray(matrix, dtype=self._np.float32)
        norms = self._np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / self._np.clip(norms, 1e-12, None)

    def _rebuild_bm25(self) -> None:
        self._ids = [n.node_id for n in self._nodes]
        self._position = {node_id: i for i, node_id in enumerate(self._ids)}
        texts = [n.get_content() for n in self._nodes]
        self._bm25 = BM25Scorer(texts, k1=self.k1, b=self.b, language=self.language)

    def insert_nodes(self, nodes: Sequence[BaseNode]) -> None:
        """Add passages (embedded now; BM25 statistics are recomputed)."""
        self._add(list(nodes))

    def insert(self, document: Document, **split_kwargs: Any) -> None:
        """Split one document into passages and add them."""
        splitter = SentenceSplitter(**{"chunk_size": 512, "chunk_overlap": 32, **split_kwargs})
        self._add(splitter.get_nodes_from_documents([document]))

    def delete_nodes(self, node_ids: Sequence[str]) -> int:
        """Remove passages by node id; returns how many were removed."""
        drop = set(node_ids)
        keep = [i for i, n in enumerate(self._nodes) if n.node_id not in drop]
        removed = len(self._nodes) - len(keep)
        self._nodes = [self._nodes[i] for i in keep]
        self._embeddings = self._embeddings[keep] if keep else self._embeddings[:0]
        self._rebuild_bm25()
        return removed

    def delete_ref_doc(self, ref_doc_id: str) -> int:
        """Remove every passage that came from the document ``ref_doc_id``."""
        return self.delete_nodes([n.node_id for n in self._nodes if n.ref_doc_id == ref_doc_id])

    # --- searching -----------------------------------------------------------------------------

    def _top(self, scores: Any, mask: Any, k: int) -> dict[str, float]:
        np = self._np
        if k <= 0 or not len(scores):
            return {}
        scores = np.where(mask, scores, -np.inf)
        k = min(k, int(mask.sum()))
        if k == 0:
            return {}
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return {self._ids[i]: float(scores[i]) for i in idx}

    def dense_scores(self, query: str, *, vector: Any = None) -> Any:
        """Cosine similarity of ``query`` (or of its precomputed ``vector``) with every passage."""
        if vector is None:
            vector = self.embed_model.get_query_embedding(query)
        vector = self._np.asarray(vector, dtype=self._np.float32)
        vector = vector / max(float(self._np.linalg.norm(vector)), 1e-12)
        # einsum, not BLAS: OpenBLAS threads keep spinning after a matmul and starve the
        # embedder's onnxruntime threads (measured: 21 ms -> 11 ms per query on 2 cores).
        return self._np.einsum("ij,j->i", self._embeddings, vector)

    def sparse_scores(self, query: str) -> Any:
        """BM25 score of ``query`` against every passage (zeros when BM25 has nothing to say)."""
        return self._bm25.scores(query)

    def _mask(self, config: HybridConfig) -> Any:
        if config.filters is None or not config.filters.filters:
            return self._np.ones(len(self._nodes), dtype=bool)
        return self._np.fromiter(
            (matches(n.metadata, config.filters) for n in self._nodes), dtype=bool, count=len(self._nodes)
        )

    @dispatcher.span
    def search(self, query: str, config: HybridConfig | None = None) -> list[NodeWithScore]:
        """Hybrid search; returns fused results, best first, at most ``config.final_top_k``.

        Without reranking the fused list is cut to ``top_k``. With ``enable_reranking`` it is
        cut to ``rerank_top_n``, after the reranker when the index has one. A leg with nothing
        to say (no shared term, no BM25 vocabulary) leaves the other to answer.

        Raises:
            ConfigError: an empty or whitespace-only query; a metadata filter whose value type
                differs from the stored one.
        """
        config = config or HybridConfig()
        if not isinstance(query, str) or not query.strip():
            raise ConfigError(
                f"The query is empty ({query!r})",
                hint="Ask a question with at least one word",
            )
        if not self._nodes:
            return []
        mask = self._mask(config)
        dense = (
            self._top(self.dense_scores(query), mask, config.dense_similarity_top_k)
            if config.alpha > 0
            else {}
        )
        sparse: dict[str, float] = {}
        if config.alpha < 1:
            # A passage that shares no term with the query is no sparse candidate.
            sparse_scores = self.sparse_scores(query)
            sparse = self._top(sparse_scores, mask & (sparse_scores > 0), config.sparse_similarity_top_k)
        # With 0 < alpha < 1, a leg with nothing to say leaves the other to answer; alpha 0 and 1
        # mean one leg only, on every target (LlamaCloud and Qdrant alike).
        fused = relative_score_fusion(dense, sparse, config.alpha)
        results = [
            NodeWithScore(node=self._nodes[self._position[node_id]], score=score) for node_id, score in fused
        ]
        return finish_search(query, config, results, self.reranker)

    def as_hybrid_retriever(self, config: HybridConfig, **kwargs: Any) -> HybridIndexRetriever:
        """The retriever for exactly ``config`` (the factory's hook for any hybrid index)."""
        return HybridIndexRetriever(self, config, **kwargs)

    def as_retriever(self, preset: str | None = None, **overrides: Any) -> HybridIndexRetriever:
        """A LlamaIndex retriever with a preset's settings, or the tuned ones when none is named.

        Args:
            preset: a retrieval preset name; None uses :attr:`retrieval_config` when the index
                has one (set by ``tune_retrieval``), else ``balanced``.
            **overrides: HybridConfig fields; they always win (``top_k=3`` gives 3 results).
        """
        overrides = config_keywords(overrides, "LocalHybridIndex.as_retriever")
        if preset is None and self.retrieval_config is not None:
            config = self.retrieval_config.with_overrides(**overrides)
        else:
            config = RetrievalPreset.from_name(preset or "balanced").config(**overrides)
        return self.as_hybrid_retriever(config)

    # --- persistence ---------------------------------------------------------------------------

    def persist(self, persist_dir: str | Path) -> None:
        """Write the index as plain files: embeddings.npy, nodes.json, params.json.

        The tuned retrieval settings, when the index has some, go to retrieval.json.
        """
        settings = {"k1": self.k1, "b": self.b, "language": self.language}
        target = write_index_files(persist_dir, self._embeddings, self._nodes, settings, self.embed_model)
        self.persist_retrieval_config(target)

    def persist_retrieval_config(
        self, persist_dir: str | Path, config: HybridConfig | None = None
    ) -> Path | None:
        """Write (or, with no config, remove) the tuned settings of an index persisted there.

        Args:
            persist_dir: the folder the index was persisted to.
            config: the settings to keep (default :attr:`retrieval_config`).
        """
        return write_retrieval_config(persist_dir, config if config is not None else self.retrieval_config)

    @classmethod
    @checked_keywords()
    def load(
        cls,
        persist_dir: str | Path,
        *,
        embed_model: BaseEmbedding | None = None,
        reranker: BaseNodePostprocessor | None = None,
    ) -> LocalHybridIndex:
        """Load an index written by :meth:`persist`, with the settings it was built with.

        Raises:
            ConfigError: a missing folder, an unknown format, or an embedder that differs from the
                one the vectors were made with.
        """
        stored = read_index_files(persist_dir, embed_model)
        return cls(
            stored.nodes,
            embed_model=stored.embed_model,
            k1=stored.params["k1"],
            b=stored.params["b"],
            language=stored.params["language"],
            reranker=reranker,
            retrieval_config=stored.retrieval_config,
            _embeddings=stored.embeddings,
        )
