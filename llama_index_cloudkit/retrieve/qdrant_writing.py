"""Writing to the Qdrant index: passages in batches (embedded unless given), and deletes.

The first insert into a new collection creates it and fixes its BM25 ``avgdl``; node ids must be
unique (already indexed or repeated ids are refused before anything is uploaded); every insert
records the JSON kinds of the metadata keys so filters can be checked against them.

Example:
    >>> index.insert_nodes([TextNode(text="new passage")], show_progress=True)  # doctest: +SKIP
    >>> index.delete("policy")  # doctest: +SKIP
    3
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import BaseNode, Document, MetadataMode
from llama_index.core.vector_stores.utils import node_to_metadata_dict

from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.retrieve.qdrant_collection import QdrantCollection
from llama_index_cloudkit.retrieve.qdrant_connection import (
    DENSE,
    KEY_TYPES_KEY,
    NODE_ID_KEY,
    RESERVED,
    SPARSE,
    point_id,
    qdrant_errors,
)
from llama_index_cloudkit.retrieve.qdrant_filters import merge_key_types
from llama_index_cloudkit.retrieve.qdrant_sparse import BM25SparseEncoder

__all__ = ["QdrantWriting"]


class QdrantWriting(QdrantCollection):
    """Inserts and deletes of a Qdrant hybrid index (a base of ``QdrantHybridIndex``).

    Example:
        >>> index.insert_documents(docs, batch_size=128)  # doctest: +SKIP
        >>> index.delete_nodes(["hay"])  # doctest: +SKIP
        1
    """

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

        Example:
            >>> index.insert_nodes([TextNode(text="new passage")], show_progress=True)  # doctest: +SKIP
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
        progress = _progress(len(nodes), show_progress)
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
        """Split one document into passages and add them; returns their node ids.

        Example:
            >>> index.insert(Document(text="Refunds within 30 days.", doc_id="policy"))  # doctest: +SKIP
        """
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
        """Split documents into passages and add them in batches; returns their node ids.

        Example:
            >>> open_qdrant_index("./qdrant").insert_documents(docs, show_progress=True)  # doctest: +SKIP
        """
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
            with qdrant_errors("look points up", self._where()):
                for start in range(0, len(ids), 1000):
                    chunk = ids[start : start + 1000]
                    found = self.client.retrieve(
                        self.collection_name,
                        ids=[point_id(i) for i in chunk],
                        with_payload=[NODE_ID_KEY],
                        with_vectors=False,
                    )
                    known.extend(str((p.payload or {}).get(NODE_ID_KEY)) for p in found)
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
            payload[NODE_ID_KEY] = node.node_id
            points.append(
                models.PointStruct(
                    id=point_id(node.node_id),
                    vector={DENSE: vector, SPARSE: models.SparseVector(indices=indices, values=values)},
                    payload=payload,
                )
            )
        with qdrant_errors("upload points", self._where()):
            self.client.upsert(self.collection_name, points=points, wait=True)

    def _record_key_types(self, nodes: list[BaseNode]) -> None:
        self._read_settings()  # what other clients recorded since we opened
        merged = merge_key_types(
            self._key_types, ({k: v for k, v in n.metadata.items() if k not in RESERVED} for n in nodes)
        )
        if merged != self._key_types:
            self._key_types = merged
            with qdrant_errors("update the collection metadata", self._where()):
                self.client.update_collection(self.collection_name, metadata={KEY_TYPES_KEY: merged})

    # --- deleting ------------------------------------------------------------------------------

    def delete(self, ref_doc_id: str) -> int:
        """Remove every passage of the document ``ref_doc_id``; returns how many were removed.

        Example:
            >>> index.delete("policy")  # doctest: +SKIP
            3
        """
        if self._dimension is None and not self._open():
            return 0
        models = self._models
        selector = models.Filter(
            must=[models.FieldCondition(key="doc_id", match=models.MatchValue(value=ref_doc_id))]
        )
        with qdrant_errors("delete points", self._where()):
            removed = int(self.client.count(self.collection_name, count_filter=selector, exact=True).count)
            if removed:
                self.client.delete(self.collection_name, points_selector=selector, wait=True)
        return removed

    def delete_ref_doc(self, ref_doc_id: str) -> int:
        """The same as :meth:`delete` (LocalHybridIndex's name for it).

        Example:
            >>> index.delete_ref_doc("policy")  # doctest: +SKIP
            3
        """
        return self.delete(ref_doc_id)

    def delete_nodes(self, node_ids: Sequence[str]) -> int:
        """Remove passages by node id; returns how many were removed.

        Example:
            >>> index.delete_nodes(["hay", "water"])  # doctest: +SKIP
            2
        """
        if not node_ids or (self._dimension is None and not self._open()):
            return 0
        ids = [point_id(n) for n in node_ids]
        with qdrant_errors("delete points", self._where()):
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


class _NoProgress:
    def update(self, n: int) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""


def _progress(total: int, show: bool) -> Any:
    if not show:
        return _NoProgress()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Indexing passages", unit="passage")
