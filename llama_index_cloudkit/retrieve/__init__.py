"""Retrieval: hybrid presets on LlamaCloud, a local embedded index, Qdrant or any vector store.

| module or folder | holds |
|---|---|
| :mod:`.factory` | ``make_retriever`` and friends, and the target table (one row per kind of target) |
| :mod:`.presets` | :class:`~.presets.RetrievalPreset`: one row per preset |
| :mod:`.config` | :class:`~.config.HybridConfig`: one validated configuration for every target |
| :mod:`.filters`, :mod:`.fusion`, :mod:`.hybrid` | shared: filters, fusion, hybrid retriever and engines |
| :mod:`.vector_store` | a ``VectorStoreIndex`` target: a preset's alpha on any vector store |
| :mod:`.passages` | the offline answer (passages with citations) when no LLM is configured |
| ``llamacloud/`` | LlamaCloud indexes: one service protocol, one adapter per API generation |
| ``local/`` | LocalHybridIndex, BM25 scoring and the bundled MiniLM embedder |
| ``qdrant/`` | QdrantHybridIndex |
| ``tuning/`` | ``tune_retrieval`` on judged questions |

The package's public names are exported by :mod:`llama_index_cloudkit`; import anything else from
the module that defines it.
"""

__all__: list[str] = []
