"""make_retriever on LlamaCloud targets, against the emulator: exactly the preset's kwargs."""

from __future__ import annotations

import pytest
from llama_cloud_services import LlamaCloudIndex
from llama_index.core import Document

from llama_index_cloudkit import CloudKitSettings, ConfigError, make_query_engine, make_retriever
from llama_index_cloudkit.presets import RetrievalPreset
from llama_index_cloudkit.testing import FakeLlamaCloud

pytestmark = pytest.mark.fake_llamacloud(connection_close=True)


@pytest.fixture()
def cloud_index(fake_llamacloud: FakeLlamaCloud) -> LlamaCloudIndex:
    return LlamaCloudIndex.from_documents(
        [
            Document(
                text="Adult llamas eat grass hay every day.",
                id_="hay",
                metadata={"file_name": "care.pdf", "page_number": 2},
            )
        ],
        name="handbook",
        verbose=False,
    )


def _last_retrieve(fake: FakeLlamaCloud) -> dict:
    return [r.json for r in fake.requests if r.path.endswith("/retrieve")][-1]


@pytest.mark.parametrize("preset", [p.value for p in RetrievalPreset])
def test_a_preset_sends_exactly_its_kwargs(
    fake_llamacloud: FakeLlamaCloud, cloud_index: LlamaCloudIndex, preset: str
) -> None:
    make_retriever("handbook", preset=preset).retrieve("hay")
    expected = RetrievalPreset.from_name(preset).config().to_llamacloud_kwargs()
    body = _last_retrieve(fake_llamacloud)
    assert {k: body[k] for k in expected} == expected
    assert set(body) == {"query", *expected}


def test_zero_and_false_are_sent_when_asked(
    fake_llamacloud: FakeLlamaCloud, cloud_index: LlamaCloudIndex
) -> None:
    make_retriever("handbook", alpha=0.0, enable_reranking=False).retrieve("hay")
    body = _last_retrieve(fake_llamacloud)
    assert body["alpha"] == 0.0 and body["enable_reranking"] is False


def test_llamacloud_index_object_is_a_target(
    fake_llamacloud: FakeLlamaCloud, cloud_index: LlamaCloudIndex
) -> None:
    hits = make_retriever(cloud_index, preset="fast").retrieve("hay")
    assert hits[0].node.metadata["file_name"] == "care.pdf"
    assert _last_retrieve(fake_llamacloud)["dense_similarity_top_k"] == 20


def test_offline_query_engine_on_a_cloud_index_cites_pages(cloud_index: LlamaCloudIndex) -> None:
    response = make_query_engine("handbook").query("what do llamas eat")
    assert "(care.pdf, page 2)" in str(response)


def test_cloud_target_without_key_says_how_to_set_one(
    cloud_index: LlamaCloudIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LLAMA_CLOUD_API_KEY")
    with pytest.raises(ConfigError, match="LLAMA_CLOUD_API_KEY"):
        make_retriever("handbook", settings=CloudKitSettings())
