"""The offline retrieval backend: an embedded hybrid index and the bundled embedder.

| module | holds |
|---|---|
| :mod:`.index` | :class:`LocalHybridIndex`: bm25s + exact dense search + relative-score fusion |
| :mod:`.embedding` | :class:`MiniLMEmbedding`: int8 all-MiniLM-L6-v2 on onnxruntime (no PyTorch) |
| :mod:`._files` | the index on disk (``.npy`` without pickle, JSON) |

Example:
    >>> from llama_index_cloudkit.retrieve.local import MiniLMEmbedding
    >>> MiniLMEmbedding().model_name
    'all-MiniLM-L6-v2-int8-onnx'
"""

from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex

__all__ = ["LocalHybridIndex", "MiniLMEmbedding"]
