"""as_query_engine / as_chat_engine on the hybrid indexes, with LlamaIndex's names, offline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llama_index.core import Settings
from llama_index.core.chat_engine import (
    CondensePlusContextChatEngine,
    CondenseQuestionChatEngine,
    ContextChatEngine,
)
from llama_index.core.llms import MockLLM
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters

from llama_index_cloudkit import ConfigError, LocalHybridIndex
from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.qdrant.index import QdrantHybridIndex

QUESTION = "How much hay does an adult llama eat?"


class EchoLLM(MockLLM):
    """A MockLLM of the user's own (a plain MockLLM on Settings means "no LLM")."""


@pytest.fixture()
def no_settings_llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setattr(Settings, "_llm", None)
    yield


@pytest.fixture()
def settings_llm(monkeypatch: pytest.MonkeyPatch) -> EchoLLM:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    llm = EchoLLM(max_tokens=8)
    monkeypatch.setattr(Settings, "_llm", llm)
    return llm


@pytest.fixture()
def qdrant(nodes: list[TextNode], embedder: MiniLMEmbedding) -> Iterator[QdrantHybridIndex]:
    index = QdrantHybridIndex.from_nodes(nodes, location=":memory:", embed_model=embedder)
    yield index
    index.close()


@pytest.fixture(params=["local", "qdrant"])
def hybrid(request: pytest.FixtureRequest, index: LocalHybridIndex) -> object:
    return index if request.param == "local" else request.getfixturevalue("qdrant")


def test_as_query_engine_takes_llamaindex_names(hybrid: LocalHybridIndex) -> None:
    engine = hybrid.as_query_engine(llm=MockLLM(max_tokens=5), similarity_top_k=2, response_mode="compact")
    response = engine.query(QUESTION)
    assert response.source_nodes[0].node.node_id == "hay"
    assert len(response.source_nodes) == 2
    assert "No LLM is configured" not in str(response)


def test_as_query_engine_filters_like_llamaindex(hybrid: LocalHybridIndex) -> None:
    shop = MetadataFilters(filters=[MetadataFilter(key="section", value="shop")])
    engine = hybrid.as_query_engine(llm=MockLLM(max_tokens=5), filters=shop, similarity_top_k=5)
    sources = engine.query(QUESTION).source_nodes
    assert sources and {n.node.metadata["section"] for n in sources} == {"shop"}


def test_as_query_engine_uses_the_named_preset(hybrid: LocalHybridIndex) -> None:
    engine = hybrid.as_query_engine("keyword", llm=MockLLM(max_tokens=5))
    assert engine.retriever.config.alpha == 0.2  # type: ignore[attr-defined]
    assert len(engine.query(QUESTION).source_nodes) == 10


def test_as_query_engine_uses_settings_llm(hybrid: LocalHybridIndex, settings_llm: EchoLLM) -> None:
    engine = hybrid.as_query_engine(similarity_top_k=1)
    assert engine._response_synthesizer._llm is settings_llm  # type: ignore[attr-defined]
    assert "No LLM is configured" not in str(engine.query(QUESTION))


def test_without_any_llm_the_query_engine_cites_passages_and_names_settings_llm(
    hybrid: LocalHybridIndex, no_settings_llm: None
) -> None:
    text = str(hybrid.as_query_engine(similarity_top_k=1).query(QUESTION))
    assert "No LLM is configured" in text and "Settings.llm" in text


def test_an_answer_keyword_without_an_llm_is_a_config_error(
    hybrid: LocalHybridIndex, no_settings_llm: None
) -> None:
    with pytest.raises(ConfigError, match="response_mode needs an LLM") as caught:
        hybrid.as_query_engine(response_mode="tree_summarize")
    assert "Settings.llm" in str(caught.value)


@pytest.mark.parametrize(
    ("chat_mode", "expected"),
    [
        (None, CondensePlusContextChatEngine),
        ("best", CondensePlusContextChatEngine),
        ("context", ContextChatEngine),
        ("condense_question", CondenseQuestionChatEngine),
    ],
)
def test_as_chat_engine_modes(hybrid: LocalHybridIndex, chat_mode: str | None, expected: type) -> None:
    kwargs = {} if chat_mode is None else {"chat_mode": chat_mode}
    engine = hybrid.as_chat_engine(llm=MockLLM(max_tokens=5), similarity_top_k=2, **kwargs)
    assert type(engine) is expected
    response = engine.chat(QUESTION)
    assert response.source_nodes[0].node.node_id == "hay"


def test_as_chat_engine_takes_the_chat_engine_keywords(hybrid: LocalHybridIndex) -> None:
    engine = hybrid.as_chat_engine(
        chat_mode="context", llm=MockLLM(max_tokens=5), system_prompt="You answer about llamas."
    )
    assert "You answer about llamas." in str(engine._prefix_messages)  # type: ignore[attr-defined]


def test_as_chat_engine_uses_settings_llm(hybrid: LocalHybridIndex, settings_llm: EchoLLM) -> None:
    engine = hybrid.as_chat_engine(chat_mode="context")
    assert engine._llm is settings_llm  # type: ignore[attr-defined]


def test_as_chat_engine_without_any_llm_names_settings_llm(
    hybrid: LocalHybridIndex, no_settings_llm: None
) -> None:
    with pytest.raises(ConfigError, match="needs an LLM") as caught:
        hybrid.as_chat_engine()
    assert "Settings.llm" in str(caught.value)


@pytest.mark.parametrize(
    ("method", "keyword", "closest"),
    [
        ("as_query_engine", "simlarity_top_k", "similarity_top_k"),
        ("as_query_engine", "respons_mode", "response_mode"),
        ("as_query_engine", "filter", "filters"),
        ("as_chat_engine", "sytem_prompt", "system_prompt"),
        ("as_chat_engine", "similarity_topk", "similarity_top_k"),
    ],
)
def test_an_unknown_keyword_names_the_closest(
    hybrid: LocalHybridIndex, method: str, keyword: str, closest: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        getattr(hybrid, method)(llm=MockLLM(), **{keyword: 1})
    message = str(caught.value)
    assert f"{type(hybrid).__name__}.{method}" in message and f"Did you mean {closest}?" in message


def test_an_unknown_chat_mode_names_the_closest(hybrid: LocalHybridIndex) -> None:
    with pytest.raises(ConfigError, match="Did you mean context"):
        hybrid.as_chat_engine(chat_mode="contxt", llm=MockLLM())
    with pytest.raises(ConfigError, match="FunctionAgent"):
        hybrid.as_chat_engine(chat_mode="react", llm=MockLLM())
