"""make_retriever / make_query_engine / chat and tool forms, offline."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.schema import TextNode
from llama_index.core.tools import QueryEngineTool, RetrieverTool

from llama_index_cloudkit import (
    ConfigError,
    LocalHybridIndex,
    make_chat_engine,
    make_query_engine,
    make_query_engine_tool,
    make_retriever,
    make_retriever_tool,
)
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.hybrid import HybridIndexRetriever
from llama_index_cloudkit.testing import FakeLlamaCloud

QUESTION = "How much hay does an adult llama eat?"


def test_local_retriever_uses_the_preset_and_overrides(index: LocalHybridIndex) -> None:
    retriever = make_retriever(index, preset="keyword", rerank_top_n=2)
    assert isinstance(retriever, HybridIndexRetriever)
    assert retriever.config.alpha == 0.2 and retriever.config.rerank_top_n == 2
    hits = retriever.retrieve(QUESTION)
    assert len(hits) == 2 and hits[0].node.node_id == "hay"


def test_async_retrieve_matches_sync(index: LocalHybridIndex) -> None:
    retriever = make_retriever(index)
    sync = [h.node.node_id for h in retriever.retrieve(QUESTION)]
    async_ = [h.node.node_id for h in asyncio.run(retriever.aretrieve(QUESTION))]
    assert sync == async_


def test_offline_query_engine_answers_with_cited_passages(index: LocalHybridIndex) -> None:
    response = make_query_engine(index, rerank_top_n=3).query(QUESTION)
    text = str(response)
    assert "No LLM is configured" in text
    assert "(care.md, page 1)" in text
    assert len(response.source_nodes) == 3
    assert response.metadata["citations"][0] == "care.md, page 1"


def test_query_engine_with_an_llm_uses_it(index: LocalHybridIndex) -> None:
    response = make_query_engine(index, llm=MockLLM(max_tokens=5)).query(QUESTION)
    assert "No LLM is configured" not in str(response)
    assert response.source_nodes
    cited = make_query_engine(index, llm=MockLLM(max_tokens=5), citations=True).query(QUESTION)
    assert cited.source_nodes


def test_chat_engine_needs_an_llm(index: LocalHybridIndex) -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        make_chat_engine(index)
    chat = make_chat_engine(index, llm=MockLLM(max_tokens=5))
    assert chat.chat(QUESTION).source_nodes


def test_tools_for_agents(index: LocalHybridIndex) -> None:
    tool = make_query_engine_tool(index, name="llama_care", description="Llama care answers")
    assert isinstance(tool, QueryEngineTool) and tool.metadata.name == "llama_care"
    assert "care.md" in str(tool(QUESTION))
    search = make_retriever_tool(index, name="search", description="Search")
    assert isinstance(search, RetrieverTool)
    assert "hay" in str(search(QUESTION)).lower()


def test_any_vector_store_index_is_a_target() -> None:
    nodes = [TextNode(text="llamas eat hay"), TextNode(text="markets fell")]
    vector_index = VectorStoreIndex(nodes, embed_model=MockEmbedding(embed_dim=8))
    retriever = make_retriever(vector_index, preset="fast")
    assert len(retriever.retrieve("hay")) == 2  # the index holds only two


def test_unknown_target_says_what_is_accepted() -> None:
    with pytest.raises(ConfigError, match="LocalHybridIndex"):
        make_retriever(42)


def test_an_unknown_keyword_says_did_you_mean(index: LocalHybridIndex) -> None:
    with pytest.raises(ConfigError, match="Did you mean alpha"):
        make_retriever(index, alpah=0.3)
    with pytest.raises(ConfigError, match="Did you mean citations"):
        make_query_engine(index, citation=True)


def test_connection_keywords_are_accepted_and_the_key_never_shows(index: LocalHybridIndex) -> None:
    retriever = make_retriever(index, api_key="llx-secret-1", project_name="Default", top_k=2)
    assert len(retriever.retrieve(QUESTION)) == 2
    with pytest.raises(ConfigError) as info:
        make_retriever(index, api_key="llx-secret-1", rerank_topn=2)
    assert "llx-secret-1" not in str(info.value)


def test_any_index_with_as_hybrid_retriever_is_a_target(index: LocalHybridIndex) -> None:
    class OtherHybridIndex:
        """A stand-in for another backend (Qdrant, ...) that builds its own retriever."""

        def __init__(self) -> None:
            self.seen: list[HybridConfig] = []

        def as_hybrid_retriever(self, config: HybridConfig, **kwargs: object) -> HybridIndexRetriever:
            self.seen.append(config)
            return HybridIndexRetriever(index, config)

    other = OtherHybridIndex()
    hits = make_retriever(other, "deep", top_k=4).retrieve(QUESTION)
    assert len(hits) == 4 and other.seen[0].alpha == 0.4 and other.seen[0].final_top_k == 4


def test_a_hybrid_config_can_stand_for_the_preset(index: LocalHybridIndex) -> None:
    config = HybridConfig(alpha=0.0, dense_similarity_top_k=0, sparse_similarity_top_k=5, top_k=2)
    retriever = make_retriever(index, config)
    assert isinstance(retriever, HybridIndexRetriever) and retriever.config == config


def test_connection_keywords_reach_a_llamacloud_target(
    fake_llamacloud: FakeLlamaCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llama_index.core import Document

    from llama_index_cloudkit import CloudKitSettings
    from llama_index_cloudkit.retrieve.llamacloud.service import llamacloud_index_from_documents

    llamacloud_index_from_documents([Document(text="Adult llamas eat hay.")], "handbook", CloudKitSettings())
    monkeypatch.delenv("LLAMA_CLOUD_API_KEY")
    monkeypatch.delenv("LLAMA_CLOUD_BASE_URL")
    retriever = make_retriever(
        "handbook", "fast", api_key=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url
    )
    assert "hay" in retriever.retrieve("what do llamas eat")[0].node.get_content()


def test_similarity_top_k_is_the_result_count(index: LocalHybridIndex) -> None:
    assert len(make_retriever(index, similarity_top_k=2).retrieve(QUESTION)) == 2
    assert len(make_query_engine(index, similarity_top_k=1).query(QUESTION).source_nodes) == 1
    with pytest.raises(ConfigError, match="both similarity_top_k and top_k"):
        make_retriever(index, similarity_top_k=2, top_k=3)


def test_as_retriever_takes_similarity_top_k_and_refuses_typos(index: LocalHybridIndex) -> None:
    assert len(index.as_retriever(similarity_top_k=2).retrieve(QUESTION)) == 2
    with pytest.raises(ConfigError, match="Did you mean alpha"):
        index.as_retriever(alpah=0.5)
