"""The hybrid presets on Qdrant: embedded for tests, a server or a cluster past one machine.

| module | holds |
|---|---|
| :mod:`.index` | :class:`QdrantHybridIndex` and :func:`open_qdrant_index` |
| :mod:`.sparse` | the BM25 leg as sparse vectors, IDF from Qdrant |
| :mod:`.filters` | LlamaIndex MetadataFilters as one Qdrant filter |

Example:
    >>> from llama_index_cloudkit.retrieve.qdrant import open_qdrant_index
    >>> len(open_qdrant_index(":memory:"))
    0
"""

from llama_index_cloudkit.retrieve.qdrant.index import QdrantHybridIndex, open_qdrant_index

__all__ = ["QdrantHybridIndex", "open_qdrant_index"]
