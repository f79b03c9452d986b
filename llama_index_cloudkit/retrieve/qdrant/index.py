"""QdrantHybridIndex: the local index's hybrid retrieval on LlamaIndex's ``QdrantVectorStore``.

The same meaning as :class:`~llama_index_cloudkit.retrieve.local.index.LocalHybridIndex`: a dense
leg (the bundled int8 MiniLM or any LlamaIndex embedding, cosine) and a BM25 leg with the same
tokens, k1 and b (term frequencies as sparse vectors, IDF from Qdrant's ``modifier=IDF``; see
:mod:`.sparse`), fused by the same :func:`~llama_index_cloudkit.retrieve.fusion.relative_score_fusion`
and ``alpha`` (1 dense only, 0 sparse only). Every preset, override and metadata filter works
unchanged; nothing is downloaded at run time.

The collection is written and searched by ``llama_index.vector_stores.qdrant.QdrantVectorStore``
(``enable_hybrid=True``, named vectors ``text-dense`` and ``text-bm25``) with this package's BM25
encoder as its sparse functions and its relative-score fusion as its fusion function. What the
store cannot do goes through its client (``store.client``), and only that: the collection's
metadata (every setting that changes scoring: k1, b, language, the fixed BM25 ``avgdl``, the
embedder; and the JSON kinds of each metadata key), counts, and paging through every point. So a
collection re-opens by name with the settings it was built with, from any machine, and refuses a
collection made by something else, in another format or with another embedder. The first insert
into a new collection creates it and fixes its ``avgdl``; node ids must be unique (already
indexed or repeated ids are refused before anything is uploaded).

The store makes the node id the Qdrant point id, and Qdrant takes only UUIDs and integers: the
store is given each node under its point id (the node id when it is a UUID, otherwise a UUID5 of
it) with the node id kept in its metadata, and every node read back gets its own id again
(:func:`_as_point`, :func:`_as_node`). The store hands its sparse function the embedding text
(metadata included); the BM25 leg scores the node text, as the local index does, so the sparse
vectors are computed from ``node.get_content()`` before the upload and handed over in order.
Every client error goes through one translation (:func:`_qdrant_errors`) into a ServiceError.

Example:
    >>> from llama_index.core.schema import TextNode
    >>> index = QdrantHybridIndex.from_nodes([TextNode(text="Refunds within 30 days.", id_="refund"),
    ...     TextNode(text="Llamas eat hay.", id_="hay")], location=":memory:")
    >>> [hit.node.node_id for hit in index.as_retriever("keyword", top_k=1).retrieve("refund window")]
    ['refund']
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import BaseNode, Document, MetadataMode, NodeWithScore
from llama_index.core.vector_stores.types import (
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from llama_index_cloudkit._imports import require
from llama_index_cloudkit._llama_settings import explicit_embed_model
from llama_index_cloudkit._version import __version__
from llama_index_cloudkit.errors import ConfigError, ServiceError
from llama_index_cloudkit.events import dispatcher
from llama_index_cloudkit.retrieve.config import HybridConfig, config_keywords
from llama_index_cloudkit.retrieve.filters import merge_key_types
from llama_index_cloudkit.retrieve.fusion import relative_score_fusion
from llama_index_cloudkit.retrieve.hybrid import (
    HybridIndexEngines,
    HybridIndexRetriever,
    finish_search,
    indexing_progress,
)
from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.presets import RetrievalPreset
from llama_index_cloudkit.retrieve.qdrant.filters import to_qdrant_filter
from llama_index_cloudkit.retrieve.qdrant.sparse import BM25SparseEncoder, SparseVectorData
from llama_index_cloudkit.settings import checked_keywords

__all__ = ["QdrantHybridIndex", "open_qdrant_index"]

_DENSE = "text-dense"
_SPARSE = "text-bm25"
_FORMAT_VERSION = 1
_SETTINGS_KEY = "cloudkit"
_KEY_TYPES_KEY = "cloudkit_key_types"
_NODE_ID_KEY = "_node_id"
_NAMESPACE = uuid.UUID("5b0d3f8e-1c8e-4f43-9d55-6c1b2f0c7a17")
_MODES = {  # (dense leg, sparse leg) -> the store's query mode
    (True, True): VectorStoreQueryMode.HYBRID,
    (True, False): VectorStoreQueryMode.DEFAULT,
    (False, True): VectorStoreQueryMode.SPARSE,
}
_RESERVED = {"_node_content", "_node_type", "document_id", "doc_id", "ref_doc_id", _NODE_ID_KEY}


def _point_id(node_id: str) -> str:
    """The Qdrant point id of a node: the node id if it is a UUID, else a UUID5 of it."""
    try:
        return str(uuid.UUID(node_id))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, node_id))


def _as_point(node: BaseNode, vector: list[float]) -> BaseNode:
    """A copy of ``node`` under its point id, its node id in the metadata (hidden from the texts)."""
    return node.model_copy(
        update={
            "id_": _point_id(node.node_id),
            "embedding": vector,
            "metadata": {**node.metadata, _NODE_ID_KEY: node.node_id},
            "excluded_embed_metadata_keys": [*node.excluded_embed_metadata_keys, _NODE_ID_KEY],
            "excluded_llm_metadata_keys": [*node.excluded_llm_metadata_keys, _NODE_ID_KEY],
        }
    )


def _as_node(node: BaseNode) -> BaseNode:
    """A node read from the store, under its own id again (``_as_point`` undone)."""
    node_id = node.metadata.pop(_NODE_ID_KEY, None)
    if node_id is not None:
        node.id_ = str(node_id)
        node.excluded_embed_metadata_keys = [
            k for k in node.excluded_embed_metadata_keys if k != _NODE_ID_KEY
        ]
        node.excluded_llm_metadata_keys = [k for k in node.excluded_llm_metadata_keys if k != _NODE_ID_KEY]
    node.embedding = None
    return node


def _scores(result: VectorStoreQueryResult) -> tuple[dict[str, float], dict[str, BaseNode]]:
    """One leg of a store result: scores and nodes by node id."""
    nodes = [_as_node(n) for n in result.nodes or []]
    scores = {n.node_id: float(s) for n, s in zip(nodes, result.similarities or [], strict=True)}
    return scores, {n.node_id: n for n in nodes}


@contextlib.contextmanager
def _qdrant_errors(action: str, where: str) -> Iterator[None]:
    """Translate the client's transport and HTTP errors into ServiceError (one place)."""
    exceptions = require("qdrant_client.http.exceptions", "qdrant", package="qdrant-client")
    try:
        yield
    except exceptions.UnexpectedResponse as exc:
        raise ServiceError(
            f"Qdrant refused to {action} ({where}): HTTP {exc.status_code} {exc.reason_phrase}",
            status_code=exc.status_code,
            hint="Check the collection name, the API key (QDRANT_API_KEY) and the server's version (1.16+)",
        ) from exc
    except exceptions.ResponseHandlingException as exc:
        raise ServiceError(
            f"Could not reach Qdrant to {action} ({where}): {exc}",
            hint="Check that the Qdrant server is running and the URL is right",
        ) from exc


def _make_client(
    client: Any = None,
    *,
    location: str | None = None,
    path: str | os.PathLike[str] | None = None,
    url: str | None = None,
    api_key: str | None = None,
) -> Any:
    """The ``QdrantClient`` for one of ``client``, ``location``, ``path`` or ``url`` (default in memory).

    Raises:
        ConfigError: more than one place given, or a folder another client holds.
    """
    candidates = (("client", client), ("location", location), ("path", path), ("url", url))
    given = [name for name, value in candidates if value is not None]
    if len(given) > 1:
        raise ConfigError(
            f"Give one of client, location, path and url, not {' and '.join(given)}",
            hint="location=':memory:' (embedded, in memory), path=... (embedded, on disk) "
            "or url=... (a server)",
        )
    if client is not None:
        return client
    qdrant_client = require("qdrant_client", "qdrant", package="qdrant-client")
    if url is not None:
        key = api_key or os.environ.get("QDRANT_API_KEY") or None
        return qdrant_client.QdrantClient(url=url, api_key=key)
    if path is not None:
        try:
            return qdrant_client.QdrantClient(path=os.fspath(path))
        except RuntimeError as exc:  # portalocker: another client holds the folder
            raise ConfigError(
                f"The Qdrant folder {os.fspath(path)} is open in another client or process",
                hint="Close the other client (index.close()), or run a Qdrant server for concurrent use",
            ) from exc
    return qdrant_client.QdrantClient(location=location or ":memory:")


class QdrantHybridIndex(HybridIndexEngines):
    """Hybrid retrieval (dense + BM25, relative-score fusion by ``alpha``) on a Qdrant collection.

    The collection is read and written by LlamaIndex's ``QdrantVectorStore`` (``index.store``).

    Opening an existing collection reads its scoring settings; a new one is created on the first
    insert. Use the embedded engine (``location=":memory:"`` or ``path=...``) on one machine and a
    URL for a Qdrant server or cluster: the code is the same.

    Args:
        client: a ``qdrant_client.QdrantClient``.
        collection_name: the collection to open or create.
        embed_model: any LlamaIndex embedding; default ``Settings.embed_model`` when set
            explicitly, else the bundled int8 all-MiniLM-L6-v2. Must be the one the collection was built with.
        k1: BM25 term saturation (new collections; default 1.5, as LocalHybridIndex).
        b: BM25 length normalization (new collections; default 0.75).
        language: stemmer and stopword language (new collections; default english).
        reranker: an optional node postprocessor used when ``enable_reranking`` is set.

    Raises:
        ConfigError: the collection was built with another embedder or other BM25 settings, or
            was not made by this class.

    Example:
        >>> from qdrant_client import QdrantClient
        >>> index = QdrantHybridIndex(QdrantClient(location=":memory:"), "handbook")
        >>> index.insert(Document(text="Refunds within 30 days.", doc_id="policy"))
        [...]
        >>> index.as_retriever("balanced", rerank_top_n=3).retrieve("refund")[0].node.ref_doc_id
        'policy'
    """

    @checked_keywords()
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
        self.embed_model = embed_model or explicit_embed_model() or MiniLMEmbedding()
        self.reranker = reranker
        self._key_types: dict[str, list[str]] = {}
        self._dimension: int | None = None
        self._requested = {"k1": k1, "b": b, "language": language}
        self.encoder = BM25SparseEncoder(
            k1=1.5 if k1 is None else k1, b=0.75 if b is None else b, language=language or "english"
        )
        self._open()
        self._writing = threading.Lock()  # one upload at a time hands the store its sparse vectors
        self._pending: list[SparseVectorData] = []
        store_module = require(
            "llama_index.vector_stores.qdrant", "qdrant", package="llama-index-vector-stores-qdrant"
        )
        with _qdrant_errors("open the collection", self._where()):
            self.store = store_module.QdrantVectorStore(
                collection_name,
                client=client,
                enable_hybrid=True,
                dense_vector_name=_DENSE,
                sparse_vector_name=_SPARSE,
                sparse_config=self._models.SparseVectorParams(modifier=self._models.Modifier.IDF),
                sparse_doc_fn=self._sparse_documents,
                sparse_query_fn=self._sparse_queries,
                hybrid_fusion_fn=self._fuse,
                # Deletes by document filter on doc_id: a payload index on a server (none embedded).
                index_doc_id=type(getattr(client, "_client", None)).__name__ != "QdrantLocal",
            )

    @classmethod
    def class_name(cls) -> str:
        """The component name."""
        return "QdrantHybridIndex"

    # --- building ------------------------------------------------------------------------------

    @classmethod
    @checked_keywords(forwards_to="__init__")
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
            >>> index = QdrantHybridIndex.from_documents([Document(text="Llamas eat hay.")])
            >>> len(index)
            1
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
    @checked_keywords(forwards_to="__init__")
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
        """
        qdrant = _make_client(client, location=location, path=path, url=url, api_key=api_key)
        if overwrite:
            with _qdrant_errors("drop the collection", f"collection {collection_name!r}"):
                if qdrant.collection_exists(collection_name):
                    qdrant.delete_collection(collection_name)
        index = cls(qdrant, collection_name, embed_model=embed_model, **kwargs)
        index.insert_nodes(nodes, embeddings=embeddings, batch_size=batch_size, show_progress=show_progress)
        return index

    # --- writing ------------------------------------------------------------------------------

    def insert_nodes(
        self,
        nodes: Sequence[BaseNode],
        *,
        embeddings: Any = None,
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> list[str]:
        """Add passages in batches (embedded unless given); returns their node ids.

        The first insert into a new collection fixes its BM25 ``avgdl`` (the mean passage length
        of that insert); IDF is Qdrant's and follows the collection as it changes.

        Raises:
            ConfigError: a node id that is already indexed or given twice.
        """
        nodes = list(nodes)
        if not nodes:
            return []
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, not {batch_size}")
        if embeddings is not None and len(embeddings) != len(nodes):
            raise ConfigError(
                f"{len(embeddings)} embeddings for {len(nodes)} nodes", hint="Give one row per node"
            )
        if self._dimension is None:
            self._open()  # another client may have created it meanwhile
        self._refuse_duplicates(nodes)
        tokens = self.encoder.tokenize([n.get_content() for n in nodes])
        progress = indexing_progress(len(nodes), show_progress)
        try:
            for start in range(0, len(nodes), batch_size):
                batch = nodes[start : start + batch_size]
                vectors = self._vectors(
                    batch, None if embeddings is None else embeddings[start : start + batch_size]
                )
                created = self._dimension is None
                if created:
                    self._dimension = len(vectors[0])
                    self.encoder.avgdl = BM25SparseEncoder.mean_length(tokens)
                self._add(batch, vectors, tokens[start : start + batch_size])
                if created:
                    self._write_metadata({_SETTINGS_KEY: self._stored_settings(), _KEY_TYPES_KEY: {}})
                progress.update(len(batch))
        finally:
            progress.close()
        self._record_key_types(nodes)
        return [n.node_id for n in nodes]

    def insert(self, document: Document, **split_kwargs: Any) -> list[str]:
        """Split one document into passages and add them; returns their node ids."""
        splitter = SentenceSplitter(**{"chunk_size": 512, "chunk_overlap": 32, **split_kwargs})
        return self.insert_nodes(splitter.get_nodes_from_documents([document]))

    def insert_documents(
        self,
        documents: Sequence[Document],
        *,
        chunk_size: int = 512,
        chunk_overlap: int = 32,
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> list[str]:
        """Split documents into passages and add them in batches; returns their node ids."""
        splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
        return self.insert_nodes(
            splitter.get_nodes_from_documents(list(documents)),
            batch_size=batch_size,
            show_progress=show_progress,
        )

    def _refuse_duplicates(self, nodes: list[BaseNode]) -> None:
        ids = [n.node_id for n in nodes]
        repeated = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
        known: list[str] = []
        if self._dimension is not None:
            for start in range(0, len(ids), 1000):
                known.extend(self._found(ids[start : start + 1000]))
        if repeated or known:
            raise ConfigError(
                f"Node ids must be unique; already indexed or repeated: {(known + repeated)[:5]}",
                hint="Delete them first (delete_nodes / delete), or give the new nodes other ids",
            )

    def _found(self, node_ids: Sequence[str]) -> list[str]:
        """Which of these node ids are indexed."""
        with _qdrant_errors("look points up", self._where()):
            found = self.store.get_nodes(node_ids=[_point_id(i) for i in node_ids])
        return [_as_node(n).node_id for n in found]

    def _vectors(self, batch: list[BaseNode], given: Any) -> list[list[float]]:
        if given is not None:
            return [[float(x) for x in row] for row in given]
        missing = [i for i, n in enumerate(batch) if n.embedding is None]
        computed = self.embed_model.get_text_embedding_batch(
            [batch[i].get_content(metadata_mode=MetadataMode.EMBED) for i in missing]
        )
        by_position = dict(zip(missing, computed, strict=True))
        return [
            list(by_position[i]) if i in by_position else list(n.embedding or []) for i, n in enumerate(batch)
        ]

    def _add(self, batch: list[BaseNode], vectors: list[list[float]], tokens: list[list[str]]) -> None:
        for node, vector in zip(batch, vectors, strict=True):
            if len(vector) != self._dimension:
                raise ConfigError(
                    f"Node {node.node_id!r} has a {len(vector)}-dimensional vector; the {self._where()} "
                    f"holds {self._dimension}",
                    hint="Use the embedder the collection was built with",
                )
        points = [_as_point(node, vector) for node, vector in zip(batch, vectors, strict=True)]
        with self._writing, _qdrant_errors("upload points", self._where()):
            self._pending = [self.encoder.document_vector(terms) for terms in tokens]
            self.store.add(points)

    def _sparse_documents(self, texts: list[str]) -> tuple[list[list[int]], list[list[float]]]:
        """The store's sparse document function: the vectors of the node texts, in upload order.

        The store passes the embedding texts (metadata included), one upload batch at a time and
        in node order; the BM25 leg scores the node text, so ``_add`` computed its vectors first.
        """
        vectors, self._pending = self._pending[: len(texts)], self._pending[len(texts) :]
        return [v[0] for v in vectors], [v[1] for v in vectors]

    def _record_key_types(self, nodes: list[BaseNode]) -> None:
        self._read_settings()  # what other clients recorded since we opened
        merged = merge_key_types(
            self._key_types, ({k: v for k, v in n.metadata.items() if k not in _RESERVED} for n in nodes)
        )
        if merged != self._key_types:
            self._key_types = merged
            self._write_metadata({_KEY_TYPES_KEY: merged})

    # --- deleting ------------------------------------------------------------------------------

    def delete(self, ref_doc_id: str) -> int:
        """Remove every passage of the document ``ref_doc_id``; returns how many were removed."""
        if self._dimension is None and not self._open():
            return 0
        models = self._models
        selector = models.Filter(
            must=[models.FieldCondition(key="doc_id", match=models.MatchValue(value=ref_doc_id))]
        )
        with _qdrant_errors("delete points", self._where()):
            # The store deletes without saying how many: its client counts them first.
            removed = int(self.client.count(self.collection_name, count_filter=selector, exact=True).count)
            if removed:
                self.store.delete(ref_doc_id)
        return removed

    def delete_ref_doc(self, ref_doc_id: str) -> int:
        """The same as :meth:`delete` (LocalHybridIndex's name for it)."""
        return self.delete(ref_doc_id)

    def delete_nodes(self, node_ids: Sequence[str]) -> int:
        """Remove passages by node id; returns how many were removed."""
        if not node_ids or (self._dimension is None and not self._open()):
            return 0
        found = self._found(node_ids)
        if found:
            with _qdrant_errors("delete points", self._where()):
                self.store.delete_nodes([_point_id(n) for n in found])
        return len(found)

    # --- reading -------------------------------------------------------------------------------

    def iter_nodes(self, batch_size: int = 256) -> Iterator[BaseNode]:
        """Every indexed passage, page by page (no order promised)."""
        if not self._exists():
            return
        offset = None
        while True:  # the store reads at most 9,999 points in one page: its client pages
            with _qdrant_errors("scroll points", self._where()):
                points, offset = self.client.scroll(
                    self.collection_name, limit=batch_size, offset=offset, with_payload=True
                )
            for point in points:
                yield _as_node(metadata_dict_to_node(point.payload or {}))
            if offset is None:
                return

    @property
    def nodes(self) -> list[BaseNode]:
        """Every indexed passage (reads the whole collection: mind its size)."""
        return list(self.iter_nodes())

    # --- searching -----------------------------------------------------------------------------

    @dispatcher.span
    def search(self, query: str, config: HybridConfig | None = None) -> list[NodeWithScore]:
        """Hybrid search; returns fused results, best first.

        Both legs go to the store in one hybrid query; with ``alpha`` 1 or 0, or a query with no
        BM25 terms (stopwords only), only the leg with something to say is asked. With
        ``enable_reranking`` the list is cut to ``rerank_top_n`` (after the reranker when the
        index has one); without, to the config's final ``top_k``.
        """
        config = config or HybridConfig()
        if self._dimension is None and not self._open():
            return []
        dense = config.alpha > 0
        sparse = config.alpha < 1 and bool(self.encoder.query(query)[0])
        if not (dense or sparse):
            return finish_search(query, config, [], self.reranker)
        # With a reranker, it sees every fused candidate; without, only the final count is read.
        rerank = config.enable_reranking and self.reranker is not None
        top_k = (
            config.dense_similarity_top_k + config.sparse_similarity_top_k if rerank else config.final_top_k
        )
        request = VectorStoreQuery(
            query_embedding=self.embed_model.get_query_embedding(query) if dense else None,
            query_str=query,
            similarity_top_k=config.dense_similarity_top_k,
            sparse_top_k=config.sparse_similarity_top_k,
            hybrid_top_k=top_k,
            alpha=config.alpha,
            mode=_MODES[dense, sparse],
        )
        with _qdrant_errors("search", self._where()):
            found = self.store.query(
                request, qdrant_filters=to_qdrant_filter(config.filters, self._key_types)
            )
        if not (dense and sparse):  # one leg: the same fusion, with the other leg empty
            empty = VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
            dense_leg, sparse_leg = (found, empty) if dense else (empty, found)
            found = self._fuse(dense_leg, sparse_leg, config.alpha, top_k)
        scored = zip(found.nodes or [], found.similarities or [], strict=True)
        results = [NodeWithScore(node=node, score=score) for node, score in scored]
        return finish_search(query, config, results, self.reranker)

    def _sparse_queries(self, texts: list[str]) -> tuple[list[list[int]], list[list[float]]]:
        """The store's sparse query function: BM25 query vectors (Qdrant adds the IDF)."""
        vectors = [self.encoder.query(text) for text in texts]
        return [v[0] for v in vectors], [v[1] for v in vectors]

    def _fuse(
        self,
        dense: VectorStoreQueryResult,
        sparse: VectorStoreQueryResult,
        alpha: float = 0.5,
        top_k: int = 2,
    ) -> VectorStoreQueryResult:
        """The store's fusion function: relative-score fusion by node id, nodes under their own ids."""
        dense_scores, dense_nodes = _scores(dense)
        sparse_scores, sparse_nodes = _scores(sparse)
        nodes = {**sparse_nodes, **dense_nodes}
        fused = relative_score_fusion(dense_scores, sparse_scores, alpha)[:top_k]
        return VectorStoreQueryResult(
            nodes=[nodes[i] for i, _ in fused], similarities=[s for _, s in fused], ids=[i for i, _ in fused]
        )

    def as_hybrid_retriever(self, config: HybridConfig, **kwargs: Any) -> BaseRetriever:
        """A LlamaIndex retriever with ``config`` (the factory's entry point).

        ``kwargs`` go to the retriever (``callback_manager``, ``verbose``).
        """
        return HybridIndexRetriever(self, config, **kwargs)

    def as_retriever(self, preset: str = "balanced", **overrides: Any) -> BaseRetriever:
        """A LlamaIndex retriever with a preset's settings (``overrides`` win)."""
        overrides = config_keywords(overrides, "QdrantHybridIndex.as_retriever")
        config: HybridConfig = RetrievalPreset.from_name(preset).config(**overrides)
        return self.as_hybrid_retriever(config)

    # --- the collection (its metadata through the client: the store keeps none) -------------------

    def _open(self) -> bool:
        """Adopt the collection's stored settings if it exists (it may appear after we opened)."""
        stored = self._read_settings()
        if stored is None:
            return False
        for name, value in self._requested.items():
            if value is not None and value != stored[name]:
                raise ConfigError(
                    f"The collection {self.collection_name!r} was built with {name}={stored[name]!r}, "
                    f"not {value!r}",
                    hint=f"Leave {name} out to use the stored value, or build a new collection",
                )
        self.encoder = BM25SparseEncoder(
            k1=stored["k1"], b=stored["b"], language=stored["language"], avgdl=stored["avgdl"]
        )
        self._dimension = int(stored["dimension"])
        return True

    def _where(self) -> str:
        return f"collection {self.collection_name!r}"

    def _exists(self) -> bool:
        with _qdrant_errors("look the collection up", self._where()):
            return bool(self.client.collection_exists(self.collection_name))

    def _read_settings(self) -> dict[str, Any] | None:
        if not self._exists():
            return None
        with _qdrant_errors("read the collection", self._where()):
            info = self.client.get_collection(self.collection_name)
        metadata = info.config.metadata or {}
        settings = metadata.get(_SETTINGS_KEY)
        if not isinstance(settings, dict):
            raise ConfigError(
                f"The Qdrant {self._where()} was not made by QdrantHybridIndex "
                f"(no '{_SETTINGS_KEY}' metadata)",
                hint="Open it with llama-index-vector-stores-qdrant, or choose another collection_name",
            )
        if settings.get("format_version") != _FORMAT_VERSION:
            raise ConfigError(
                f"The {self._where()} has format {settings.get('format_version')}, not {_FORMAT_VERSION}",
                hint="Rebuild it with this version of llama-index-cloudkit",
            )
        if settings.get("embed_model") != self.embed_model.model_name:
            raise ConfigError(
                f"The {self._where()} was built with {settings.get('embed_model')!r}, "
                f"not {self.embed_model.model_name!r}",
                hint="Pass the same embed_model used to build it",
            )
        self._key_types = dict(metadata.get(_KEY_TYPES_KEY) or {})
        return settings

    def _stored_settings(self) -> dict[str, Any]:
        return {
            "format_version": _FORMAT_VERSION,
            "package_version": __version__,
            **self.settings,
            "embed_class": self.embed_model.class_name(),
        }

    def _write_metadata(self, metadata: dict[str, Any]) -> None:
        with _qdrant_errors("update the collection metadata", self._where()):
            self.client.update_collection(self.collection_name, metadata=metadata)

    def __len__(self) -> int:
        if not self._exists():
            return 0
        with _qdrant_errors("count points", self._where()):
            return int(self.client.count(self.collection_name, exact=True).count)

    @property
    def settings(self) -> dict[str, Any]:
        """The scoring settings: k1, b, language, the BM25 avgdl, the embedder and its dimension."""
        return {
            "k1": self.encoder.k1,
            "b": self.encoder.b,
            "language": self.encoder.language,
            "avgdl": self.encoder.avgdl,
            "embed_model": self.embed_model.model_name,
            "dimension": self._dimension,
        }

    def close(self) -> None:
        """Close the client (releases the folder lock of the embedded engine on disk)."""
        self.client.close()


@checked_keywords()
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
        >>> index = open_qdrant_index(":memory:", collection="handbook")
        >>> index.collection_name, len(index)
        ('handbook', 0)
    """
    spec = spec.strip()
    if not spec:
        raise ConfigError(
            "The Qdrant store is empty",
            hint="Use qdrant::memory:, qdrant:./folder or qdrant:http://host:6333",
        )
    if spec == ":memory:":
        client = _make_client(location=spec)
    elif spec.startswith(("http://", "https://")):
        client = _make_client(url=spec)
    else:
        client = _make_client(path=spec)
    return QdrantHybridIndex(client, collection, embed_model=embed_model)
