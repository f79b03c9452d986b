"""A preset's alpha on a plain VectorStoreIndex: BM25 over the docstore, or one warning per store."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters

from llama_index_cloudkit import make_query_engine, make_retriever

LOGGER = "llama_index_cloudkit.retrieve.vector_store"
QUESTION = "money back"


class TopicEmbedding(BaseEmbedding):
    """Places "refund" texts and the question together, the "song" text apart: the dense leg
    prefers the refund policy, while BM25 prefers the song (it shares the question's words)."""

    def _vector(self, text: str) -> list[float]:
        text = text.lower()
        if "song" in text:
            return [0.0, 1.0, 0.0]
        if "refund" in text or "money" in text:
            return [1.0, 0.0, 0.0]
        return [0.0, 0.0, 1.0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)


NODES = [
    ("policy", "Refunds are paid within thirty days of purchase.", "shop"),
    ("song", "Money back, money back: the chorus of an old song.", "music"),
    ("weather", "Heavy rain is expected this weekend.", "news"),
]


def _nodes() -> list[TextNode]:
    """UUID node ids (Qdrant wants them); the name is in the metadata."""
    return [
        TextNode(
            text=text, id_=str(uuid.uuid5(uuid.NAMESPACE_URL, name)), metadata={"section": s, "name": name}
        )
        for name, text, s in NODES
    ]


@pytest.fixture()
def in_memory() -> VectorStoreIndex:
    return VectorStoreIndex(_nodes(), embed_model=TopicEmbedding())


def _ids(target: Any, preset: str, **kw: Any) -> list[str]:
    hits = make_retriever(target, preset=preset, top_k=2, **kw).retrieve(QUESTION)
    return [hit.node.metadata["name"] for hit in hits]


def test_keyword_and_semantic_presets_rank_differently_on_an_in_memory_index(
    in_memory: VectorStoreIndex, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    assert _ids(in_memory, "semantic")[0] == "policy"
    assert _ids(in_memory, "keyword")[0] == "song"
    assert not caplog.records  # the nodes are at hand: no warning


def test_alpha_zero_is_bm25_only_and_one_is_dense_only(in_memory: VectorStoreIndex) -> None:
    assert _ids(in_memory, "fast", alpha=0.0) == ["song"]  # the only passage sharing a word
    assert _ids(in_memory, "fast", alpha=1.0)[0] == "policy"


def test_the_bm25_leg_honours_filters(in_memory: VectorStoreIndex) -> None:
    shop = MetadataFilters(filters=[MetadataFilter(key="section", value="shop")])
    assert _ids(in_memory, "keyword", filters=shop) == ["policy"]


def test_a_query_engine_on_the_in_memory_index_follows_the_preset(in_memory: VectorStoreIndex) -> None:
    keyword = make_query_engine(in_memory, "keyword", top_k=1).query(QUESTION)
    semantic = make_query_engine(in_memory, "semantic", top_k=1).query(QUESTION)
    assert keyword.source_nodes[0].node.metadata["name"] == "song"
    assert semantic.source_nodes[0].node.metadata["name"] == "policy"


@pytest.fixture()
def text_store_index() -> Any:
    """A vector store that keeps the text itself (Qdrant without sparse vectors): no docstore nodes."""
    from llama_index.core import StorageContext
    from llama_index.vector_stores.qdrant import QdrantVectorStore
    from qdrant_client import QdrantClient

    client = QdrantClient(location=":memory:")
    store = QdrantVectorStore(client=client, collection_name="plain")
    index = VectorStoreIndex(
        _nodes(),
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=TopicEmbedding(),
    )
    yield index
    client.close()


def test_a_store_without_sparse_search_or_nodes_warns_once(
    text_store_index: VectorStoreIndex, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    for _ in range(3):
        assert _ids(text_store_index, "keyword")[0] == "policy"  # dense only, as the warning says
    make_query_engine(text_store_index, "balanced").query(QUESTION)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "QdrantVectorStore" in message
    assert (
        "QdrantHybridIndex" in message and "LocalHybridIndex" in message and "enable_hybrid=True" in message
    )


def test_dense_only_asks_for_no_warning(
    text_store_index: VectorStoreIndex, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    make_retriever(text_store_index, preset="semantic", alpha=1.0).retrieve(QUESTION)
    assert not caplog.records


def test_each_store_gets_its_own_warning(
    caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    from llama_index.core import StorageContext
    from llama_index.vector_stores.qdrant import QdrantVectorStore
    from qdrant_client import QdrantClient

    caplog.set_level(logging.WARNING, logger=LOGGER)
    clients = [QdrantClient(location=":memory:") for _ in range(2)]
    request.addfinalizer(lambda: [c.close() for c in clients])
    indexes = [
        VectorStoreIndex(
            _nodes(),
            storage_context=StorageContext.from_defaults(
                vector_store=QdrantVectorStore(client=c, collection_name="x")
            ),
            embed_model=TopicEmbedding(),
        )
        for c in clients
    ]
    for index in indexes * 2:
        make_retriever(index, preset="keyword")
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2
