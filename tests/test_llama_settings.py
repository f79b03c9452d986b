"""LlamaIndex's global Settings.llm / Settings.embed_model are honoured, and never resolved lazily."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core import Settings
from llama_index.core.base.llms.types import CompletionResponse, CompletionResponseGen, LLMMetadata
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import CustomLLM, MockLLM
from llama_index.core.schema import TextNode

from llama_index_cloudkit._llama_settings import SETTINGS_SLOTS, explicit_embed_model, explicit_llm
from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.extract.llm import default_llm as extraction_llm
from llama_index_cloudkit.retrieve.factory import make_chat_engine, make_query_engine
from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
from llama_index_cloudkit.retrieve.tuning.tune import tune_retrieval


class EchoLLM(CustomLLM):
    """An LLM the user might set globally; answers with a fixed marker."""

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata()

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text="FROM-SETTINGS-LLM: What do llamas eat?")

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        yield CompletionResponse(text="FROM-SETTINGS-LLM", delta="FROM-SETTINGS-LLM")


class CountingEmbedding(MockEmbedding):
    """A user's embedder (not the MockEmbedding LlamaIndex stores for ``= None``)."""

    @classmethod
    def class_name(cls) -> str:
        return "CountingEmbedding"


@pytest.fixture()
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Settings, "_llm", None)
    monkeypatch.setattr(Settings, "_embed_model", None)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    yield


def _index() -> LocalHybridIndex:
    return LocalHybridIndex(
        [TextNode(text="Llamas eat hay.", id_="hay"), TextNode(text="Rain falls.", id_="rain")]
    )


def test_the_private_slots_read_exist_upstream() -> None:
    # A rename in llama-index-core must fail here rather than silently build an OpenAI client.
    fields = type(Settings).__dataclass_fields__
    for slot in SETTINGS_SLOTS.values():
        assert slot in fields and hasattr(Settings, slot)


def test_query_engine_uses_settings_llm(clean_settings: None) -> None:
    Settings.llm = EchoLLM()
    response = make_query_engine(_index(), top_k=1).query("What do llamas eat?")
    assert "FROM-SETTINGS-LLM" in str(response)
    assert "No LLM is configured" not in str(response)


def test_chat_engine_uses_settings_llm(clean_settings: None) -> None:
    Settings.llm = EchoLLM()
    assert make_chat_engine(_index())._llm is Settings.llm


def test_chat_engine_without_any_llm_names_settings_llm(clean_settings: None) -> None:
    with pytest.raises(ConfigError, match=r"Settings\.llm"):
        make_chat_engine(_index())


def test_disabled_llm_keeps_the_offline_passages(clean_settings: None) -> None:
    Settings.llm = None  # LlamaIndex stores a MockLLM: "explicitly disabled"
    assert isinstance(Settings._llm, MockLLM)
    assert explicit_llm() is None
    assert "No LLM is configured" in str(make_query_engine(_index(), top_k=1).query("hay"))


def test_extraction_and_tuning_use_settings_llm(clean_settings: None) -> None:
    with pytest.raises(ConfigError, match=r"Settings\.llm"):
        extraction_llm()
    llm = EchoLLM()
    Settings.llm = llm
    assert extraction_llm() is llm
    index = _index()
    assert tune_retrieval(index, num_questions=2).rows


def test_hybrid_indexes_embed_with_an_explicit_settings_embed_model(clean_settings: None) -> None:
    assert explicit_embed_model() is None
    assert _index().embed_model.class_name() == "MiniLMEmbedding"
    embedder = CountingEmbedding(embed_dim=8)
    Settings.embed_model = embedder
    assert _index().embed_model is embedder
    pytest.importorskip("qdrant_client")
    from qdrant_client import QdrantClient

    from llama_index_cloudkit.retrieve.qdrant.index import QdrantHybridIndex

    assert QdrantHybridIndex(QdrantClient(location=":memory:"), "c").embed_model is embedder


def test_nothing_imports_the_openai_llm_when_settings_and_key_are_unset() -> None:
    code = (
        "import sys\n"
        "from llama_index.core.schema import TextNode\n"
        "from llama_index_cloudkit import ConfigError, LocalHybridIndex, make_query_engine\n"
        "from llama_index_cloudkit.extract.llm import default_llm\n"
        "index = LocalHybridIndex([TextNode(text='Llamas eat hay.', id_='hay')])\n"
        "print(make_query_engine(index).query('hay'))\n"
        "try:\n    default_llm()\nexcept ConfigError:\n    pass\n"
        "assert 'llama_index.llms.openai' not in sys.modules, 'openai LLM imported'\n"
        "assert 'llama_index.embeddings.openai' not in sys.modules, 'openai embedder imported'\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "IS_TESTING")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "No LLM is configured" in done.stdout
