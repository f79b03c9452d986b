"""LlamaCloud indexes: one service protocol, one adapter per API generation.

| module | holds |
|---|---|
| :mod:`.service` | the protocol, :func:`index_service` (the one choice of API generation), the retriever |
| :mod:`.refs` | index references, errors that name the index, the v1 project lookup |
| :mod:`.index_v1` | Index v1 (pipelines): lookup, retrieval, page images, answers to nodes |
| :mod:`.ingestion_v1` | Index v1 ingestion: upsert, sync, wait to one deadline |
| :mod:`.index_v2` | Index v2: lookup by name or id, retrieval, answers to nodes |
| :mod:`.filters_v2` | MetadataFilters as Index v2 ``custom_filters`` |

Example:
    >>> from llama_index_cloudkit.retrieve.llamacloud import LlamaCloudIndexRef
    >>> LlamaCloudIndexRef("handbook", "pipe-1", "proj-1").id
    'pipe-1'
"""

from llama_index_cloudkit.retrieve.llamacloud.refs import LlamaCloudIndexRef, LlamaCloudV2IndexRef
from llama_index_cloudkit.retrieve.llamacloud.service import (
    IndexService,
    LlamaCloudRetriever,
    allamacloud_index_from_documents,
    index_service,
    llamacloud_index_from_documents,
    llamacloud_retriever,
)

__all__ = [
    "IndexService",
    "LlamaCloudIndexRef",
    "LlamaCloudRetriever",
    "LlamaCloudV2IndexRef",
    "allamacloud_index_from_documents",
    "index_service",
    "llamacloud_index_from_documents",
    "llamacloud_retriever",
]
