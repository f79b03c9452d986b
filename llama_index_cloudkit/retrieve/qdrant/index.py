"""QdrantHybridIndex: the local index's hybrid retrieval on Qdrant (embedded, server or cluster).

The same meaning as :class:`~llama_index_cloudkit.retrieve.local.index.LocalHybridIndex`: a dense
leg (the bundled int8 MiniLM or any LlamaIndex embedding, cosine) and a BM25 leg with the same
tokens, k1 and b (term frequencies as sparse vectors, IDF from Qdrant's ``modifier=IDF``; see
:mod:`.sparse`), fused by the same :func:`~llama_index_cloudkit.retrieve.fusion.relative_score_fusion`
and ``alpha`` (1 dense only, 0 sparse only). Every preset, override and metadata filter works
unchanged; nothing is downloaded at run time.

One collection holds both legs (named vectors ``text-dense`` and ``text-bm25``), the node as
LlamaIndex's vector stores write it (``_node_content``, ``doc_id``, metadata at the top level),
and, in the collection's metadata, every setting that changes scoring (k1, b, language, the fixed
BM25 ``avgdl``, the embedder) plus the JSON kinds of each metadata key, so a collection re-opens by
name with the settings it was built with, from any machine, and refuses a collection made by
something else, in another format or with another embedder. The first insert into a new
collection creates it and fixes its ``avgdl``; node ids must be unique (already indexed or
repeated ids are refused before anything is uploaded).

Point ids are the node ids when those are UUIDs, otherwise a UUID5 of the node id (Qdrant takes
only UUIDs and integers); the node id itself is kept in the payload. Every client error goes
through one translation (:func:`_qdrant_errors`) into a ServiceError.

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
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import BaseNode, Document, MetadataMode, NodeWithScore
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

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
from llama_index_cloudkit.retrieve.qdrant.sparse import BM25SparseEncoder
from llama_index_cloudkit.settings import checked_keywords

__all__ = ["QdrantHybridIndex", "open_qdrant_index"]

_DENSE = "text-dense"
_SPARSE = "text-bm25"
_FORMAT_VERSION = 1
_SETTINGS_KEY = "cloudkit"
_KEY_TYPES_KEY = "cloudkit_key_types"
_NODE_ID_KEY = "_node_id"
_NAMESPACE = uuid.UUID("5b0d3f8e-1c8e-4f43-9d55-6c1b2f0c7a17")
_RESERVED = {"_node_content", "_node_type", "document_id", "doc_id", "ref_doc_id", _NODE_ID_KEY}


def _point_id(node_id: str) -> str:
    """The Qdrant point id of a node: the node id if it is a UUID, else a UUID5 of it."""
    try:
        return str(uuid.UUID(node_id))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, node_id))


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
                if self._dimension is None:
                    self._create(len(vectors[0]), BM25SparseEncoder.mean_length(tokens))
                self._upsert(batch, vectors, tokens[start : start + batch_size])
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
            with _qdrant_errors("look points up", self._where()):
                for start in range(0, len(ids), 1000):
                    chunk = ids[start : start + 1000]
                    found = self.client.retrieve(
                        self.collection_name,
                        ids=[_point_id(i) for i in chunk],
                        with_payload=[_NODE_ID_KEY],
                        with_vectors=False,
                    )
                    known.extend(str((p.payload or {}).get(_NODE_ID_KEY)) for p in found)
        if repeated or known:
            raise ConfigError(
                f"Node ids must be unique; already indexed or repeated: {(known + repeated)[:5]}",
                hint="Delete them first (delete_nodes / delete), or give the new nodes other ids",
            )

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

    def _upsert(self, batch: list[BaseNode], vectors: list[list[float]], tokens: list[list[str]]) -> None:
        models = self._models
        points = []
        for node, vector, terms in zip(batch, vectors, tokens, strict=True):
            if len(vector) != self._dimension:
                raise ConfigError(
                    f"Node {node.node_id!r} has a {len(vector)}-dimensional vector; the {self._where()} "
                    f"holds {self._dimension}",
                    hint="Use the embedder the collection was built with",
                )
            indices, values = self.encoder.document_vector(terms)
            payload = node_to_metadata_dict(node, remove_text=False, flat_metadata=False)
            payload[_NODE_ID_KEY] = node.node_id
            points.append(
                models.PointStruct(
                    id=_point_id(node.node_id),
                    vector={_DENSE: vector, _SPARSE: models.SparseVector(indices=indices, values=values)},
                    payload=payload,
                )
            )
        with _qdrant_errors("upload points", self._where()):
            self.client.upsert(self.collection_name, points=points, wait=True)

    def _record_key_types(self, nodes: list[BaseNode]) -> None:
        self._read_settings()  # what other clients recorded since we opened
        merged = merge_key_types(
            self._key_types, ({k: v for k, v in n.metadata.items() if k not in _RESERVED} for n in nodes)
        )
        if merged != self._key_types:
            self._key_types = merged
            with _qdrant_errors("update the collection metadata", self._where()):
                self.client.update_collection(self.collection_name, metadata={_KEY_TYPES_KEY: merged})

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
            removed = int(self.client.count(self.collection_name, count_filter=selector, exact=True).count)
            if removed:
                self.client.delete(self.collection_name, points_selector=selector, wait=True)
        return removed

    def delete_ref_doc(self, ref_doc_id: str) -> int:
        """The same as :meth:`delete` (LocalHybridIndex's name for it)."""
        return self.delete(ref_doc_id)

    def delete_nodes(self, node_ids: Sequence[str]) -> int:
        """Remove passages by node id; returns how many were removed."""
        if not node_ids or (self._dimension is None and not self._open()):
            return 0
        ids = [_point_id(n) for n in node_ids]
        with _qdrant_errors("delete points", self._where()):
            found = self.client.retrieve(
                self.collection_name, ids=ids, with_payload=False, with_vectors=False
            )
            if found:
                self.client.delete(
                    self.collection_name,
                    points_selector=self._models.PointIdsList(points=[p.id for p in found]),
                    wait=True,
                )
        return len(found)

    # --- reading -------------------------------------------------------------------------------

    def iter_nodes(self, batch_size: int = 256) -> Iterator[BaseNode]:
        """Every indexed passage, page by page (no order promised)."""
        if not self._exists():
            return
        offset = None
        while True:
            with _qdrant_errors("scroll points", self._where()):
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
        """Every indexed passage (reads the whole collection: mind its size)."""
        return list(self.iter_nodes())

    # --- searching -----------------------------------------------------------------------------

    @dispatcher.span
    def search(self, query: str, config: HybridConfig | None = None) -> list[NodeWithScore]:
        """Hybrid search; returns fused results, best first.

        With ``enable_reranking`` the list is cut to ``rerank_top_n`` (after the reranker when the
        index has one); without, to the config's final ``top_k``.
        """
        config = config or HybridConfig()
        if self._dimension is None and not self._open():
            return []
        models = self._models
        query_filter = to_qdrant_filter(config.filters, self._key_types)
        requests, legs = [], []
        if config.alpha > 0:
            vector = self.embed_model.get_query_embedding(query)
            requests.append(self._request(vector, _DENSE, config.dense_similarity_top_k, query_filter))
            legs.append("dense")
        if config.alpha < 1:
            indices, values = self.encoder.query(query)
            if indices:  # only stopwords or one-letter words: no sparse evidence
                sparse = models.SparseVector(indices=indices, values=values)
                requests.append(self._request(sparse, _SPARSE, config.sparse_similarity_top_k, query_filter))
                legs.append("sparse")
        scores: dict[str, dict[str, float]] = {"dense": {}, "sparse": {}}
        if requests:
            with _qdrant_errors("search", self._where()):
                responses = self.client.query_batch_points(self.collection_name, requests=requests)
            for leg, response in zip(legs, responses, strict=True):
                scores[leg] = {
                    str((p.payload or {}).get(_NODE_ID_KEY)): float(p.score) for p in response.points
                }
        fused = relative_score_fusion(scores["dense"], scores["sparse"], config.alpha)
        # With a reranker, it sees every fused candidate; without, only the final count is read.
        rerank = config.enable_reranking and self.reranker is not None
        results = self._fetch(fused if rerank else fused[: config.final_top_k])
        return finish_search(query, config, results, self.reranker)

    def _request(self, query: Any, using: str, limit: int, query_filter: Any) -> Any:
        return self._models.QueryRequest(
            query=query, using=using, limit=limit, filter=query_filter, with_payload=[_NODE_ID_KEY]
        )

    def _fetch(self, ranked: list[tuple[str, float]]) -> list[NodeWithScore]:
        if not ranked:
            return []
        with _qdrant_errors("read points", self._where()):
            points = self.client.retrieve(
                self.collection_name, ids=[_point_id(node_id) for node_id, _ in ranked], with_payload=True
            )
        nodes = {
            str((p.payload or {}).get(_NODE_ID_KEY)): metadata_dict_to_node(p.payload or {}) for p in points
        }
        # A passage deleted by another client between the search and this read is left out.
        return [
            NodeWithScore(node=nodes[node_id], score=score) for node_id, score in ranked if node_id in nodes
        ]

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

    # --- the collection ---------------------------------------------------------------------------

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

    def _create(self, dimension: int, avgdl: float) -> None:
        models = self._models
        self.encoder.avgdl = avgdl
        self._dimension = dimension
        settings = {
            "format_version": _FORMAT_VERSION,
            "package_version": __version__,
            "k1": self.encoder.k1,
            "b": self.encoder.b,
            "language": self.encoder.language,
            "avgdl": avgdl,
            "embed_model": self.embed_model.model_name,
            "embed_class": self.embed_model.class_name(),
            "dimension": dimension,
        }
        with _qdrant_errors("create the collection", self._where()):
            self.client.create_collection(
                self.collection_name,
                vectors_config={_DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE)},
                sparse_vectors_config={_SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                metadata={_SETTINGS_KEY: settings, _KEY_TYPES_KEY: {}},
            )
            if not self._embedded():
                # Deletes by document filter on doc_id: index it, as LlamaIndex's Qdrant store does.
                self.client.create_payload_index(
                    self.collection_name, field_name="doc_id", field_schema=models.PayloadSchemaType.KEYWORD
                )

    def _embedded(self) -> bool:
        return type(getattr(self.client, "_client", None)).__name__ == "QdrantLocal"

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
