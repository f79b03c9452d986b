"""PostgresHybridIndex: the local index's hybrid retrieval on PostgreSQL (pgvector + full-text search).

The same meaning as :class:`~llama_index_cloudkit.retrieve.local.LocalHybridIndex`: a dense leg
(the bundled int8 MiniLM or any LlamaIndex embedding, cosine, exact unless HNSW is asked for)
and a full-text leg (PostgreSQL's text search, ranked by BM25 with the same k1 and b; see
``fulltext``), fused by the same :func:`relative_score_fusion` and ``alpha`` (1 dense only, 0
full-text only). Every preset, override and metadata filter works unchanged.

The rows live in LlamaIndex's own ``PGVectorStore`` table (``data_<table>``, written through
``PGVectorStore.add`` in batches), so plain LlamaIndex code reads the same table; ``table``
adds the unique node id, the token count column and the stored settings. Passages get stable
ids (the document's id, the passage's position and a hash of its text), so indexing the same
documents again inserts nothing, and a changed document replaces its old passages.

Example (``postgres_url`` is a server's ``postgresql://user:password@host:5432/database``):
    >>> from llama_index.core import Document
    >>> docs = [
    ...     Document(text="Refunds are accepted within 30 days.", doc_id="refunds"),
    ...     Document(text="Parcels ship in five working days.", doc_id="shipping"),
    ... ]
    >>> index = open_postgres_index(postgres_url)
    >>> len(index.insert_documents(docs))
    2
    >>> index.as_retriever("keyword").retrieve("refund window")[0].node.ref_doc_id
    'refunds'
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import BaseNode, Document, MetadataMode, NodeWithScore, TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from llama_index_cloudkit.errors import ConfigError
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
from llama_index_cloudkit.retrieve.postgres.filters import to_sql_filter
from llama_index_cloudkit.retrieve.postgres.fulltext import FullTextLeg
from llama_index_cloudkit.retrieve.postgres.table import PostgresTable
from llama_index_cloudkit.retrieve.presets import RetrievalPreset
from llama_index_cloudkit.settings import checked_keywords

__all__ = ["PostgresHybridIndex", "open_postgres_index", "passage_id"]

_NAMESPACE = uuid.UUID("9c3f4a52-7d1e-4b8a-a6f0-2e5d8c1b7f43")
_RESERVED = {"_node_content", "_node_type", "document_id", "doc_id", "ref_doc_id"}


def passage_id(ref_doc_id: str, position: int, text: str) -> str:
    """The stable id of a passage: a UUID5 of its document id, position and text.

    Example:
        >>> passage_id("guide.pdf#2", 0, "Llamas eat hay.") == passage_id("guide.pdf#2", 0, "Llamas eat hay.")
        True
    """
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return str(uuid.uuid5(_NAMESPACE, f"{ref_doc_id}\x00{position}\x00{digest}"))


def _split(documents: Sequence[Document], chunk_size: int, chunk_overlap: int) -> list[BaseNode]:
    """SentenceSplitter's passages (as LocalHybridIndex), with stable ids per document."""
    splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
    nodes: list[BaseNode] = []
    for document in documents:
        passages = splitter.get_nodes_from_documents([document])
        for position, passage in enumerate(passages):
            passage.id_ = passage_id(document.doc_id, position, passage.get_content())
        nodes.extend(passages)
    return nodes


class PostgresHybridIndex(HybridIndexEngines):
    """Hybrid retrieval (dense + BM25 full-text, relative-score fusion by ``alpha``) on PostgreSQL.

    Opening an existing table reads its settings; a new one is created on the first insert.

    Args:
        url: ``postgresql://user:password@host:5432/database`` (any server with pgvector:
            self-hosted, Supabase, Neon, Cloud SQL, AlloyDB, RDS, Citus).
        table_name: the table (PGVectorStore's ``table_name``; the SQL table is ``data_<name>``).
        embed_model: any LlamaIndex embedding; default the bundled int8 all-MiniLM-L6-v2. Must be
            the one the table was built with.
        k1: BM25 term saturation (new tables; default 1.5, as LocalHybridIndex).
        b: BM25 length normalization (new tables; default 0.75).
        text_search_config: PostgreSQL's text search configuration (new tables; ``english``).
        schema_name: the schema (default ``public``).
        hnsw: HNSW settings for the dense leg of a new table, e.g. ``{"hnsw_m": 16,
            "hnsw_ef_construction": 64, "hnsw_ef_search": 100}`` (approximate, for large
            tables); None (default) searches exactly.
        reranker: an optional node postprocessor used when ``enable_reranking`` is set.
        retrieval_config: the settings ``as_retriever()`` and ``make_retriever(index)`` use when
            no preset is named (e.g. ``tune_retrieval(...).config`` from a LocalHybridIndex
            over the same documents).

    Raises:
        ConfigError: a server without the vector extension, a refused login, or a table built
            with another embedder or other BM25 settings, or not by this class.
        ServiceError: the server cannot be reached (the message names the host, never the
            password).

    Example:
        >>> index = PostgresHybridIndex(postgres_url, "handbook")
        >>> _ = index.insert(Document(text="Refunds are accepted within 30 days."))
        >>> _ = index.insert(Document(text="Parcels ship in five working days."))
        >>> [hit.node.text for hit in index.as_retriever("balanced", top_k=1).retrieve("refund")]
        ['Refunds are accepted within 30 days.']
    """

    @checked_keywords()
    def __init__(
        self,
        url: str,
        table_name: str = "cloudkit",
        *,
        embed_model: BaseEmbedding | None = None,
        k1: float | None = None,
        b: float | None = None,
        text_search_config: str | None = None,
        schema_name: str = "public",
        hnsw: dict[str, int] | None = None,
        reranker: BaseNodePostprocessor | None = None,
        retrieval_config: HybridConfig | None = None,
    ) -> None:
        self.retrieval_config = retrieval_config
        self.table = PostgresTable(
            url,
            table_name,
            schema_name=schema_name,
            text_search_config=text_search_config or "english",
            hnsw=hnsw,
        )
        self.embed_model = embed_model or MiniLMEmbedding()
        self.reranker = reranker
        self._requested = {"k1": k1, "b": b, "text_search_config": text_search_config}
        self._settings: dict[str, Any] = {
            "k1": 1.5 if k1 is None else k1,
            "b": 0.75 if b is None else b,
            "avgdl": None,
            "key_types": {},
        }
        self._dimension: int | None = None
        self._clause: Any = None
        self._clause_dimension: int | None = None
        self._open()

    @classmethod
    def class_name(cls) -> str:
        """The component name.

        Example:
            >>> PostgresHybridIndex.class_name()
            'PostgresHybridIndex'
        """
        return "PostgresHybridIndex"

    # --- settings ------------------------------------------------------------------------------

    def _adopt(self, stored: dict[str, Any]) -> None:
        for name, value in self._requested.items():
            if value is not None and value != stored.get(name):
                raise ConfigError(
                    f"The table {self.table.sql_name} was built with {name}={stored.get(name)!r}, "
                    f"not {value!r}",
                    hint=f"Leave {name} out to use the stored value, or build a new table",
                )
        if stored.get("embed_model") != self.embed_model.model_name:
            raise ConfigError(
                f"The table {self.table.sql_name} was built with {stored.get('embed_model')!r}, "
                f"not {self.embed_model.model_name!r}",
                hint="Pass the same embed_model used to build it",
            )
        self._settings = dict(stored)
        self.table.text_search_config = stored["text_search_config"]
        self._dimension = int(stored["dimension"])

    def _open(self) -> bool:
        """Adopt the table's stored settings if it exists (it may appear after we opened)."""
        stored = self.table.settings()
        if stored is None:
            return False
        self._adopt(stored)
        return True

    @property
    def settings(self) -> dict[str, Any]:
        """The scoring settings: k1, b, avgdl, text search configuration, embedder, dimension.

        Example:
            >>> index = PostgresHybridIndex(postgres_url, "handbook", k1=1.2)
            >>> index.settings["k1"], index.settings["avgdl"]  # avgdl: fixed by the first insert
            (1.2, None)
            >>> _ = index.insert(Document(text="Llamas eat hay."))
            >>> index.settings["avgdl"], index.settings["dimension"]
            (3.0, 384)
        """
        return {
            "k1": self._settings["k1"],
            "b": self._settings["b"],
            "avgdl": self._settings.get("avgdl"),
            "text_search_config": self.table.text_search_config,
            "embed_model": self.embed_model.model_name,
            "dimension": self._dimension,
        }

    @property
    def vector_store(self) -> Any:
        """LlamaIndex's ``PGVectorStore`` on this table (None before the table exists).

        Example:
            >>> from llama_index.core import VectorStoreIndex
            >>> index = PostgresHybridIndex(postgres_url, "handbook")
            >>> index.vector_store is None
            True
            >>> _ = index.insert(Document(text="Llamas eat hay."))
            >>> plain = VectorStoreIndex.from_vector_store(index.vector_store, embed_model=index.embed_model)
            >>> plain.as_retriever().retrieve("what do llamas eat")[0].node.text
            'Llamas eat hay.'
        """
        if self._dimension is None and not self._open():
            return None
        return self.table.vector_store(self._dimension or 0)

    def __len__(self) -> int:
        if self._dimension is None and not self._open():
            return 0
        sa = self.table.sa
        with self.table.connect("count rows") as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(self._columns())).scalar())

    def _columns(self) -> Any:
        if getattr(self, "_clause", None) is None or self._clause_dimension != self._dimension:
            self._clause = self.table.columns(self._dimension)
            self._clause_dimension = self._dimension
        return self._clause

    # --- building ------------------------------------------------------------------------------

    @classmethod
    @checked_keywords(forwards_to="open")
    def from_documents(
        cls,
        documents: Sequence[Document],
        url: str,
        *,
        table_name: str = "cloudkit",
        chunk_size: int = 512,
        chunk_overlap: int = 32,
        batch_size: int = 128,
        show_progress: bool = False,
        overwrite: bool = False,
        **kwargs: Any,
    ) -> PostgresHybridIndex:
        """Split documents into passages (SentenceSplitter, as LocalHybridIndex) and index them.

        Indexing the same documents into the same table again inserts nothing.

        Args:
            url: the server (``postgresql://...``).
            table_name: created if missing; an existing one is brought up to date.
            batch_size: passages embedded and inserted per transaction.
            show_progress: a progress bar over passages.
            overwrite: drop an existing table of that name first.
            **kwargs: ``embed_model``, ``k1``, ``b``, ``text_search_config``, ``schema_name``,
                ``hnsw``, ``reranker``.

        Example:
            >>> docs = [Document(text="Llamas eat hay.", doc_id="care")]
            >>> index = PostgresHybridIndex.from_documents(docs, postgres_url, table_name="handbook")
            >>> len(index)
            1
            >>> again = PostgresHybridIndex.from_documents(docs, postgres_url, table_name="handbook")
            >>> len(again)  # the same passages: nothing new
            1
        """
        index = cls.open(url, table_name=table_name, overwrite=overwrite, **kwargs)
        index.insert_documents(
            documents,
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            batch_size=batch_size,
            show_progress=show_progress,
        )
        return index

    @classmethod
    @checked_keywords(forwards_to="open")
    def from_nodes(
        cls,
        nodes: Sequence[BaseNode],
        url: str,
        *,
        table_name: str = "cloudkit",
        embeddings: Any = None,
        batch_size: int = 128,
        show_progress: bool = False,
        overwrite: bool = False,
        **kwargs: Any,
    ) -> PostgresHybridIndex:
        """Index passages as they are (see :meth:`from_documents`).

        ``embeddings`` (an (n, dim) array, one row per node) skips embedding; nodes with
        ``node.embedding`` set are not embedded again either.

        Example:
            >>> from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
            >>> embedder = MiniLMEmbedding()
            >>> nodes = [TextNode(id_="hay", text="Llamas eat hay."), TextNode(id_="water", text="Drink.")]
            >>> matrix = embedder.get_text_embedding_batch([node.text for node in nodes])
            >>> index = PostgresHybridIndex.from_nodes(nodes, postgres_url, embeddings=matrix)
            >>> [node.node_id for node in index.nodes]
            ['hay', 'water']
        """
        index = cls.open(url, table_name=table_name, overwrite=overwrite, **kwargs)
        index.insert_nodes(nodes, embeddings=embeddings, batch_size=batch_size, show_progress=show_progress)
        return index

    @classmethod
    @checked_keywords(forwards_to="__init__")
    def open(
        cls, url: str, *, table_name: str = "cloudkit", overwrite: bool = False, **kwargs: Any
    ) -> PostgresHybridIndex:
        """Open (or prepare to create) a table; with ``overwrite``, drop it first.

        Example:
            >>> _ = PostgresHybridIndex.from_nodes([TextNode(text="Llamas eat hay.")], postgres_url)
            >>> len(PostgresHybridIndex.open(postgres_url))
            1
            >>> len(PostgresHybridIndex.open(postgres_url, overwrite=True))
            0
        """
        if overwrite:
            PostgresTable(url, table_name, schema_name=kwargs.get("schema_name", "public")).drop()
        return cls(url, table_name, **kwargs)

    # --- writing -------------------------------------------------------------------------------

    def insert_documents(
        self,
        documents: Sequence[Document],
        *,
        chunk_size: int = 512,
        chunk_overlap: int = 32,
        batch_size: int = 128,
        show_progress: bool = False,
    ) -> list[str]:
        """Split documents into passages (stable ids) and bring the table up to date with them.

        A document indexed before with the same text adds nothing; one whose text changed has
        its old passages replaced. Returns the node ids inserted.

        Example:
            >>> index = PostgresHybridIndex(postgres_url, "handbook")
            >>> docs = [Document(text="Refunds within 30 days.", doc_id="policy")]
            >>> len(index.insert_documents(docs))
            1
            >>> index.insert_documents(docs)  # the same text again: nothing to insert
            []
            >>> changed = [Document(text="Refunds within 60 days.", doc_id="policy")]
            >>> len(index.insert_documents(changed)), len(index)  # the old passage is replaced
            (1, 1)
        """
        documents = list(documents)
        nodes = _split(documents, chunk_size, chunk_overlap)
        self._drop_stale({d.doc_id for d in documents}, {n.node_id for n in nodes})
        return self.insert_nodes(nodes, batch_size=batch_size, show_progress=show_progress)

    def insert(self, document: Document, **split_kwargs: Any) -> list[str]:
        """Split one document into passages and add them (see :meth:`insert_documents`).

        Example:
            >>> index = PostgresHybridIndex(postgres_url, "handbook")
            >>> len(index.insert(Document(text="Refunds within 30 days.", doc_id="policy"), chunk_size=128))
            1
        """
        return self.insert_documents([document], **split_kwargs)

    def insert_nodes(
        self,
        nodes: Sequence[BaseNode],
        *,
        embeddings: Any = None,
        batch_size: int = 128,
        show_progress: bool = False,
    ) -> list[str]:
        """Add passages in batches (one transaction each); returns the node ids inserted.

        Node ids already in the table are skipped (not embedded, not inserted), so the same
        passages can be given again safely; an id given twice in one call is a ConfigError.

        Example:
            >>> index = PostgresHybridIndex(postgres_url, "handbook")
            >>> index.insert_nodes([TextNode(id_="hay", text="Llamas eat hay.")])
            ['hay']
            >>> index.insert_nodes([TextNode(id_="hay", text="Llamas eat hay.")])  # already there
            []
        """
        nodes = list(nodes)
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, not {batch_size}")
        if embeddings is not None and len(embeddings) != len(nodes):
            raise ConfigError(
                f"{len(embeddings)} embeddings for {len(nodes)} nodes", hint="Give one row per node"
            )
        ids = [n.node_id for n in nodes]
        if len(set(ids)) != len(ids):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            raise ConfigError(
                f"Node ids must be unique within one insert; repeated: {repeated[:5]}",
                hint="Give the nodes distinct ids",
            )
        if not nodes:
            return []
        if self._dimension is None:
            self._open()  # another client may have created it meanwhile
        progress = indexing_progress(len(nodes), show_progress)
        inserted: list[str] = []
        try:
            for start in range(0, len(nodes), batch_size):
                batch = nodes[start : start + batch_size]
                given = None if embeddings is None else embeddings[start : start + batch_size]
                inserted.extend(self._insert_batch(batch, given))
                progress.update(len(batch))
        finally:
            progress.close()
        if inserted:
            self._after_insert(nodes)
        return inserted

    def _insert_batch(self, batch: list[BaseNode], given: Any) -> list[str]:
        known = self._known_ids([n.node_id for n in batch]) if self._dimension is not None else set()
        positions = [i for i, n in enumerate(batch) if n.node_id not in known]
        if not positions:
            return []
        fresh = [batch[i] for i in positions]
        vectors = self._vectors(fresh, None if given is None else [given[i] for i in positions])
        if self._dimension is None:
            self._create(len(vectors[0]))
        rows: list[BaseNode] = []
        for node, vector in zip(fresh, vectors, strict=True):
            if len(vector) != self._dimension:
                raise ConfigError(
                    f"Node {node.node_id!r} has a {len(vector)}-dimensional vector; the table "
                    f"{self.table.sql_name} holds {self._dimension}",
                    hint="Use the embedder the table was built with",
                )
            row = node.model_copy()
            row.embedding = vector
            rows.append(row)
        store = self.table.vector_store(self._dimension or 0)
        # Under the table's lock: a concurrent writer of the same passages waits, then skips them.
        with self.table.locked("insert passages") as connection:
            present = self._known_ids([n.node_id for n in rows], connection)
            rows = [n for n in rows if n.node_id not in present]
            if rows:
                from llama_index_cloudkit.retrieve.postgres.connection import postgres_errors

                with postgres_errors("insert passages", self.table.place):
                    store.add(rows)
        return [n.node_id for n in rows]

    def _known_ids(self, ids: list[str], connection: Any = None) -> set[str]:
        sa, t = self.table.sa, self._columns()
        statement = sa.select(t.c.node_id).where(t.c.node_id.in_(ids))
        if connection is not None:
            return {str(r[0]) for r in connection.execute(statement)}
        with self.table.connect("look passages up") as own:
            return {str(r[0]) for r in own.execute(statement)}

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

    def _create(self, dimension: int) -> None:
        settings = {
            "k1": self._settings["k1"],
            "b": self._settings["b"],
            "avgdl": None,
            "embed_model": self.embed_model.model_name,
            "embed_class": self.embed_model.class_name(),
        }
        self._adopt(self.table.create(dimension, settings))

    def _after_insert(self, nodes: list[BaseNode]) -> None:
        """Record the metadata kinds, and fix ``avgdl`` after the table's first fill."""
        sa, t = self.table.sa, self._columns()
        with self.table.locked("record the table's settings") as connection:
            stored = self.table.read_settings(connection) or {}
            changes: dict[str, Any] = {
                "key_types": merge_key_types(
                    stored.get("key_types") or {},
                    ({k: v for k, v in n.metadata.items() if k not in _RESERVED} for n in nodes),
                )
            }
            if stored.get("avgdl") is None:
                mean = connection.execute(sa.select(sa.func.avg(t.c.cloudkit_length))).scalar()
                changes["avgdl"] = max(float(mean or 1.0), 1.0)
            self._settings = self.table.update_settings(connection, **changes)

    def _drop_stale(self, doc_ids: set[str], keep: set[str]) -> None:
        """Remove passages of these documents that the new split no longer has."""
        if not doc_ids or (self._dimension is None and not self._open()):
            return
        sa, t = self.table.sa, self._columns()
        ref = t.c.metadata_.op("->>")(sa.literal("ref_doc_id", sa.Text))
        with self.table.locked("replace changed passages") as connection:
            found = connection.execute(sa.select(t.c.node_id).where(ref.in_(sorted(doc_ids))))
            stale = [str(r[0]) for r in found if str(r[0]) not in keep]
            if stale:
                connection.execute(sa.delete(t).where(t.c.node_id.in_(stale)))

    def delete(self, ref_doc_id: str) -> int:
        """Remove every passage of the document ``ref_doc_id``; returns how many were removed.

        Example:
            >>> index = PostgresHybridIndex(postgres_url, "handbook")
            >>> _ = index.insert(Document(text="Refunds within 30 days.", doc_id="policy"))
            >>> index.delete("policy"), len(index)
            (1, 0)
        """
        if self._dimension is None and not self._open():
            return 0
        sa, t = self.table.sa, self._columns()
        ref = t.c.metadata_.op("->>")(sa.literal("ref_doc_id", sa.Text))
        with self.table.connect("delete passages") as connection:
            return int(connection.execute(sa.delete(t).where(ref == ref_doc_id)).rowcount)

    def delete_ref_doc(self, ref_doc_id: str) -> int:
        """The same as :meth:`delete` (LocalHybridIndex's name for it).

        Example:
            >>> index = PostgresHybridIndex(postgres_url, "handbook")
            >>> _ = index.insert(Document(text="Refunds within 30 days.", doc_id="policy"))
            >>> index.delete_ref_doc("policy")
            1
        """
        return self.delete(ref_doc_id)

    def delete_nodes(self, node_ids: Sequence[str]) -> int:
        """Remove passages by node id; returns how many were removed.

        Example:
            >>> index = PostgresHybridIndex(postgres_url, "handbook")
            >>> texts = {"hay": "Llamas eat hay.", "water": "Llamas drink water.", "news": "Stocks fell."}
            >>> _ = index.insert_nodes([TextNode(id_=key, text=text) for key, text in texts.items()])
            >>> index.delete_nodes(["hay", "water"]), len(index)
            (2, 1)
        """
        if not node_ids or (self._dimension is None and not self._open()):
            return 0
        sa, t = self.table.sa, self._columns()
        with self.table.connect("delete passages") as connection:
            return int(connection.execute(sa.delete(t).where(t.c.node_id.in_(list(node_ids)))).rowcount)

    # --- reading -------------------------------------------------------------------------------

    def iter_nodes(self, batch_size: int = 256) -> Iterator[BaseNode]:
        """Every indexed passage, by node id.

        Example:
            >>> index = PostgresHybridIndex(postgres_url, "handbook")
            >>> _ = index.insert_nodes([TextNode(id_="b", text="Drink."), TextNode(id_="a", text="Eat.")])
            >>> [node.node_id for node in index.iter_nodes(batch_size=1)]
            ['a', 'b']
        """
        if self._dimension is None and not self._open():
            return
        sa, t = self.table.sa, self._columns()
        last = ""
        while True:
            statement = (
                sa.select(t.c.node_id, t.c.text, t.c.metadata_)
                .where(t.c.node_id > last)
                .order_by(t.c.node_id)
                .limit(batch_size)
            )
            with self.table.connect("read passages") as connection:
                rows = connection.execute(statement).all()
            for row in rows:
                yield _node(row.text, row.metadata_, row.node_id)
            if len(rows) < batch_size:
                return
            last = rows[-1].node_id

    @property
    def nodes(self) -> list[BaseNode]:
        """Every indexed passage (reads the whole table: mind its size).

        Example:
            >>> index = PostgresHybridIndex(postgres_url, "handbook")
            >>> _ = index.insert(Document(text="Llamas eat hay.", doc_id="care"))
            >>> [(node.text, node.ref_doc_id) for node in index.nodes]
            [('Llamas eat hay.', 'care')]
        """
        return list(self.iter_nodes())

    # --- searching -----------------------------------------------------------------------------

    @dispatcher.span
    def search(self, query: str, config: HybridConfig | None = None) -> list[NodeWithScore]:
        """Hybrid search; returns fused results, best first, at most ``config.final_top_k``.

        Raises:
            ConfigError: an empty query, or a metadata filter whose value type differs from the
                stored one.

        Example:
            >>> index = PostgresHybridIndex(postgres_url, "handbook")
            >>> _ = index.insert_nodes([TextNode(id_="hay", text="Llamas eat hay."), TextNode(text="Tax.")])
            >>> hits = index.search("what do llamas eat", HybridConfig(alpha=0.0, top_k=3))  # full-text only
            >>> [hit.node.node_id for hit in hits]
            ['hay']
        """
        config = config or HybridConfig()
        if not isinstance(query, str) or not query.strip():
            raise ConfigError(f"The query is empty ({query!r})", hint="Ask a question with at least one word")
        if self._dimension is None and not self._open():
            return []
        t = self._columns()
        where = to_sql_filter(config.filters, t.c.metadata_, self._settings.get("key_types") or {})
        vector = self.embed_model.get_query_embedding(query) if config.alpha > 0 else None
        with self.table.connect("search") as connection:
            dense: dict[str, float] = {}
            if vector is not None:
                dense = self._dense(connection, vector, config.dense_similarity_top_k, where)
            sparse: dict[str, float] = {}
            if config.alpha < 1:
                leg = FullTextLeg(
                    t, self.table.text_search_config, k1=self._settings["k1"], b=self._settings["b"]
                )
                sparse = leg.search(
                    connection,
                    query,
                    config.sparse_similarity_top_k,
                    where,
                    avgdl=self._settings.get("avgdl"),
                )
            fused = relative_score_fusion(dense, sparse, config.alpha)
            # With a reranker, it sees every fused candidate; without, only the final count is read.
            rerank = config.enable_reranking and self.reranker is not None
            results = self._fetch(connection, fused if rerank else fused[: config.final_top_k])
        return finish_search(query, config, results, self.reranker)

    def _dense(self, connection: Any, vector: list[float], limit: int, where: Any) -> dict[str, float]:
        sa, t = self.table.sa, self._columns()
        distance = t.c.embedding.cosine_distance(vector)
        statement = sa.select(t.c.node_id, (1 - distance).label("score")).limit(limit)
        if where is not None:
            statement = statement.where(where)
        if self.table.hnsw:
            # ORDER BY the distance alone, so the planner can walk the HNSW index.
            ef = max(int(self.table.hnsw.get("hnsw_ef_search", 40)), limit)
            connection.execute(sa.text(f"SET LOCAL hnsw.ef_search = {ef}"))
            statement = statement.order_by(distance)
        else:  # exact: ties in a stable order
            statement = statement.order_by(distance, t.c.node_id)
        return {str(node_id): float(score) for node_id, score in connection.execute(statement)}

    def _fetch(self, connection: Any, ranked: list[tuple[str, float]]) -> list[NodeWithScore]:
        if not ranked:
            return []
        sa, t = self.table.sa, self._columns()
        rows = connection.execute(
            sa.select(t.c.node_id, t.c.text, t.c.metadata_).where(t.c.node_id.in_([i for i, _ in ranked]))
        )
        nodes = {str(r.node_id): _node(r.text, r.metadata_, r.node_id) for r in rows}
        # A passage deleted by another client between the search and this read is left out.
        return [NodeWithScore(node=nodes[i], score=s) for i, s in ranked if i in nodes]

    def as_hybrid_retriever(self, config: HybridConfig, **kwargs: Any) -> BaseRetriever:
        """A LlamaIndex retriever with ``config`` (the factory's entry point).

        Example:
            >>> index = PostgresHybridIndex(postgres_url, "handbook")
            >>> _ = index.insert_nodes([TextNode(id_="hay", text="Llamas eat hay."), TextNode(text="Tax.")])
            >>> index.as_hybrid_retriever(HybridConfig(alpha=0.2, top_k=1)).retrieve("hay")[0].node.node_id
            'hay'
        """
        return HybridIndexRetriever(self, config, **kwargs)

    def as_retriever(self, preset: str | None = None, **overrides: Any) -> BaseRetriever:
        """A LlamaIndex retriever with a preset's settings, or :attr:`retrieval_config` when none is named.

        ``overrides`` (HybridConfig fields) always win; with neither a preset nor a
        ``retrieval_config``, ``balanced``.

        Example:
            >>> index = PostgresHybridIndex(postgres_url, "handbook")
            >>> _ = index.insert_nodes([TextNode(id_="hay", text="Llamas eat hay."), TextNode(text="Tax.")])
            >>> [hit.node.node_id for hit in index.as_retriever("keyword", top_k=1).retrieve("hay")]
            ['hay']
        """
        overrides = config_keywords(overrides, "PostgresHybridIndex.as_retriever")
        if preset is None and self.retrieval_config is not None:
            config = self.retrieval_config.with_overrides(**overrides)
        else:
            config = RetrievalPreset.from_name(preset or "balanced").config(**overrides)
        return self.as_hybrid_retriever(config)

    def close(self) -> None:
        """Release the connections.

        Example:
            >>> index = PostgresHybridIndex(postgres_url, "handbook")
            >>> index.close()
        """
        self.table.close()


def _node(text: str, metadata: dict[str, Any], node_id: str) -> BaseNode:
    """A node as PGVectorStore rebuilds it (the full node is in ``_node_content``)."""
    try:
        node = metadata_dict_to_node(metadata)
        node.set_content(str(text))
    except (ValueError, KeyError, TypeError):  # a row written by other code: no _node_content
        node = TextNode(id_=node_id, text=text, metadata=metadata)
    return node


@checked_keywords()
def open_postgres_index(
    url: str, *, table_name: str = "cloudkit", embed_model: BaseEmbedding | None = None
) -> PostgresHybridIndex:
    """Open (or prepare to create) a table on a PostgreSQL server from its URL.

    Raises:
        ConfigError: not a ``postgresql://`` URL, a server without pgvector, a refused login,
            or a table built with other settings. ServiceError: the server cannot be reached.

    Example:
        >>> index = open_postgres_index(postgres_url, table_name="handbook")
        >>> len(index), index.settings["k1"]
        (0, 1.5)
        >>> open_postgres_index("mysql://app@db.internal/app")
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: A PostgreSQL URL starts with postgresql://. ...
    """
    return PostgresHybridIndex(url, table_name, embed_model=embed_model)
