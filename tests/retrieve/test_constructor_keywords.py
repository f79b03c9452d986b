"""Every retrieval index constructor refuses an unknown keyword with ConfigError and the closest name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core import Document

from llama_index_cloudkit import ConfigError, LocalHybridIndex
from llama_index_cloudkit.retrieve.postgres.index import PostgresHybridIndex, open_postgres_index
from llama_index_cloudkit.retrieve.qdrant.index import QdrantHybridIndex, open_qdrant_index

DOCS = [Document(text="Llamas eat hay.")]
URL = "postgresql://app:secret@db.invalid/app"  # never reached: the keyword check comes first

CASES: list[tuple[str, Callable[..., Any], str, str]] = [
    ("LocalHybridIndex", lambda **kw: LocalHybridIndex(**kw), "embed_modle", "embed_model"),
    (
        "LocalHybridIndex.from_documents",
        lambda **kw: LocalHybridIndex.from_documents(DOCS, **kw),
        "chunk_sise",
        "chunk_size",
    ),
    (
        "LocalHybridIndex.from_documents",
        lambda **kw: LocalHybridIndex.from_documents(DOCS, **kw),
        "rerankr",
        "reranker",
    ),
    (
        "LocalHybridIndex.load",
        lambda **kw: LocalHybridIndex.load("nowhere", **kw),
        "embed_mode",
        "embed_model",
    ),
    ("QdrantHybridIndex", lambda **kw: QdrantHybridIndex(None, **kw), "colection_name", "collection_name"),
    (
        "QdrantHybridIndex.from_documents",
        lambda **kw: QdrantHybridIndex.from_documents(DOCS, **kw),
        "colection_name",
        "collection_name",
    ),
    (
        "QdrantHybridIndex.from_documents",
        lambda **kw: QdrantHybridIndex.from_documents(DOCS, **kw),
        "langauge",
        "language",
    ),
    (
        "QdrantHybridIndex.from_nodes",
        lambda **kw: QdrantHybridIndex.from_nodes([], **kw),
        "batchsize",
        "batch_size",
    ),
    ("open_qdrant_index", lambda **kw: open_qdrant_index(":memory:", **kw), "collection_name", "collection"),
    ("PostgresHybridIndex", lambda **kw: PostgresHybridIndex(URL, **kw), "tablename", "table_name"),
    (
        "PostgresHybridIndex.from_documents",
        lambda **kw: PostgresHybridIndex.from_documents(DOCS, URL, **kw),
        "schema",
        "schema_name",
    ),
    (
        "PostgresHybridIndex.from_nodes",
        lambda **kw: PostgresHybridIndex.from_nodes([], URL, **kw),
        "k_1",
        "k1",
    ),
    (
        "PostgresHybridIndex.open",
        lambda **kw: PostgresHybridIndex.open(URL, **kw),
        "text_search",
        "text_search_config",
    ),
    ("open_postgres_index", lambda **kw: open_postgres_index(URL, **kw), "table", "table_name"),
]


@pytest.mark.parametrize(("where", "build", "typo", "closest"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_an_unknown_constructor_keyword_is_a_config_error_naming_the_closest(
    where: str, build: Callable[..., Any], typo: str, closest: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        build(**{typo: 1})
    message = str(caught.value)
    assert f"{where} got an unknown keyword argument {typo!r}" in message
    assert f"Did you mean {closest}?" in message


def test_the_forwarded_keywords_still_work() -> None:
    index = QdrantHybridIndex.from_documents(DOCS, location=":memory:", language="english", k1=1.2)
    try:
        assert index.settings["k1"] == 1.2
    finally:
        index.close()
    assert len(LocalHybridIndex.from_documents(DOCS, chunk_size=256, k1=1.2)) == 1
