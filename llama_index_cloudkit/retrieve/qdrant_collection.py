"""The Qdrant index's collection: its stored scoring settings, created once, checked on open.

A collection made by :class:`~llama_index_cloudkit.retrieve.qdrant.QdrantHybridIndex` keeps in
its metadata every setting that changes scoring (k1, b, language, the fixed BM25 ``avgdl``, the
embedder and its dimension) and the JSON kinds of each metadata key; opening it adopts them, and
refuses a collection made by something else, in another format or with another embedder.

Example:
    >>> index = QdrantHybridIndex(QdrantClient(path="./qdrant"), "handbook")  # doctest: +SKIP
    >>> index.settings["k1"], len(index)  # read from the collection  # doctest: +SKIP
    (1.5, 120)
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding

from llama_index_cloudkit._version import __version__
from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.retrieve.qdrant_connection import (
    DENSE,
    FORMAT_VERSION,
    KEY_TYPES_KEY,
    SETTINGS_KEY,
    SPARSE,
    qdrant_errors,
)
from llama_index_cloudkit.retrieve.qdrant_sparse import BM25SparseEncoder

__all__ = ["QdrantCollection"]


class QdrantCollection:
    """The collection side of a Qdrant hybrid index (a base of ``QdrantHybridIndex``).

    It expects ``client``, ``collection_name``, ``embed_model``, ``encoder`` and the private
    state below to be set by the index's ``__init__``.

    Example:
        >>> index = QdrantHybridIndex(client, "handbook")  # doctest: +SKIP
        >>> index.settings["avgdl"]  # doctest: +SKIP
        87.4
    """

    client: Any
    collection_name: str
    embed_model: BaseEmbedding
    encoder: BM25SparseEncoder
    _models: Any
    _key_types: dict[str, list[str]]
    _dimension: int | None
    _requested: dict[str, Any]

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
        with qdrant_errors("look the collection up", self._where()):
            return bool(self.client.collection_exists(self.collection_name))

    def _read_settings(self) -> dict[str, Any] | None:
        if not self._exists():
            return None
        with qdrant_errors("read the collection", self._where()):
            info = self.client.get_collection(self.collection_name)
        metadata = info.config.metadata or {}
        settings = metadata.get(SETTINGS_KEY)
        if not isinstance(settings, dict):
            raise ConfigError(
                f"The Qdrant {self._where()} was not made by QdrantHybridIndex "
                f"(no '{SETTINGS_KEY}' metadata)",
                hint="Open it with llama-index-vector-stores-qdrant, or choose another collection_name",
            )
        if settings.get("format_version") != FORMAT_VERSION:
            raise ConfigError(
                f"The {self._where()} has format {settings.get('format_version')}, not {FORMAT_VERSION}",
                hint="Rebuild it with this version of llama-index-cloudkit",
            )
        if settings.get("embed_model") != self.embed_model.model_name:
            raise ConfigError(
                f"The {self._where()} was built with {settings.get('embed_model')!r}, "
                f"not {self.embed_model.model_name!r}",
                hint="Pass the same embed_model used to build it",
            )
        self._key_types = dict(metadata.get(KEY_TYPES_KEY) or {})
        return settings

    def _create(self, dimension: int, avgdl: float) -> None:
        models = self._models
        self.encoder.avgdl = avgdl
        self._dimension = dimension
        settings = {
            "format_version": FORMAT_VERSION,
            "package_version": __version__,
            "k1": self.encoder.k1,
            "b": self.encoder.b,
            "language": self.encoder.language,
            "avgdl": avgdl,
            "embed_model": self.embed_model.model_name,
            "embed_class": self.embed_model.class_name(),
            "dimension": dimension,
        }
        with qdrant_errors("create the collection", self._where()):
            self.client.create_collection(
                self.collection_name,
                vectors_config={DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE)},
                sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                metadata={SETTINGS_KEY: settings, KEY_TYPES_KEY: {}},
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
        with qdrant_errors("count points", self._where()):
            return int(self.client.count(self.collection_name, exact=True).count)

    @property
    def settings(self) -> dict[str, Any]:
        """The scoring settings: k1, b, language, the BM25 avgdl, the embedder and its dimension.

        Example:
            >>> index.settings["avgdl"]  # doctest: +SKIP
            87.4
        """
        return {
            "k1": self.encoder.k1,
            "b": self.encoder.b,
            "language": self.encoder.language,
            "avgdl": self.encoder.avgdl,
            "embed_model": self.embed_model.model_name,
            "dimension": self._dimension,
        }

    def close(self) -> None:
        """Close the client (releases the folder lock of the embedded engine on disk).

        Example:
            >>> index = open_qdrant_index("./qdrant-data")  # doctest: +SKIP
            >>> index.close()  # doctest: +SKIP
        """
        self.client.close()
