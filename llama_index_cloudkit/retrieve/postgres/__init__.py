"""PostgreSQL as a retrieval target: the hybrid presets on pgvector + PostgreSQL full-text search.

``pip install 'llama-index-cloudkit[postgres]'``. The rows are LlamaIndex's ``PGVectorStore``
table; :class:`~llama_index_cloudkit.retrieve.postgres.index.PostgresHybridIndex` adds what the
presets need (BM25 on the full-text leg, relative-score fusion by ``alpha``, per-leg top-k,
nested metadata filters, reranking, one result count) and database ingestion (batched,
idempotent, typed errors). Modules: ``index`` (the index), ``table`` (the table and its
settings), ``fulltext`` (the BM25 leg), ``filters`` (MetadataFilters as SQL), ``connection``
(URL, engines, errors).

Example (``postgres_url`` is a server's ``postgresql://user:password@host:5432/database``):
    >>> from llama_index.core import Document
    >>> from llama_index_cloudkit.retrieve.postgres import open_postgres_index
    >>> index = open_postgres_index(postgres_url, table_name="handbook")
    >>> _ = index.insert(Document(text="Refunds are accepted within 30 days."))
    >>> index.as_retriever("balanced").retrieve("how long for a refund?")[0].node.text
    'Refunds are accepted within 30 days.'
"""

from llama_index_cloudkit.retrieve.postgres.index import (
    PostgresHybridIndex,
    open_postgres_index,
)

__all__ = ["PostgresHybridIndex", "open_postgres_index"]
