"""Retrieval from a LlamaCloud index, against the keep-alive emulator: the wire and the nodes."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from llama_cloud_services import LlamaCloudIndex
from llama_index.core import Document
from llama_index.core.schema import ImageNode
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

from llama_index_cloudkit import CloudKitSettings, ConfigError, make_query_engine, make_retriever
from llama_index_cloudkit.errors import ServiceError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.llamacloud.index_v1 import retrieve_body
from llama_index_cloudkit.retrieve.llamacloud.refs import LlamaCloudIndexRef, is_llamacloud_index
from llama_index_cloudkit.retrieve.llamacloud.service import (
    llamacloud_index_from_documents,
    llamacloud_retriever,
)
from llama_index_cloudkit.retrieve.presets import RetrievalPreset
from llama_index_cloudkit.testing import FakeLlamaCloud

DOCS = [
    Document(
        text="Adult llamas eat grass hay every day.",
        id_="hay",
        metadata={"file_name": "care.pdf", "page_number": 2, "year": 2021},
    ),
    Document(
        text="Shear the fleece of a llama once a year in spring.",
        id_="shear",
        metadata={"file_name": "care.pdf", "page_number": 3, "year": 2019},
    ),
    Document(
        text="Llamas drink eight to twelve litres of water every day.",
        id_="water",
        metadata={"file_name": "care.pdf", "page_number": 4, "year": 2021},
    ),
]


@pytest.fixture()
def settings(fake_llamacloud: FakeLlamaCloud) -> CloudKitSettings:
    return CloudKitSettings()


@pytest.fixture()
def cloud_index(settings: CloudKitSettings) -> LlamaCloudIndexRef:
    return llamacloud_index_from_documents(DOCS, "handbook", settings)


def _retrieve_bodies(fake: FakeLlamaCloud) -> list[dict]:
    return [r.json for r in fake.requests if r.path.endswith("/retrieve")]


@pytest.mark.parametrize("preset", [p.value for p in RetrievalPreset])
def test_a_preset_sends_exactly_its_kwargs(
    fake_llamacloud: FakeLlamaCloud, cloud_index: LlamaCloudIndexRef, preset: str
) -> None:
    make_retriever("handbook", preset=preset).retrieve("hay")
    expected = retrieve_body("hay", RetrievalPreset.from_name(preset).config())
    body = _retrieve_bodies(fake_llamacloud)[-1]
    assert {k: body[k] for k in expected} == expected
    assert set(body) == {"query", *expected}


def test_zero_and_false_are_sent_when_asked(
    fake_llamacloud: FakeLlamaCloud, cloud_index: LlamaCloudIndexRef
) -> None:
    make_retriever("handbook", alpha=0.0, enable_reranking=False).retrieve("hay")
    body = _retrieve_bodies(fake_llamacloud)[-1]
    assert body["alpha"] == 0.0 and body["enable_reranking"] is False


def test_filters_go_to_the_service_as_search_filters(
    fake_llamacloud: FakeLlamaCloud, cloud_index: LlamaCloudIndexRef, settings: CloudKitSettings
) -> None:
    filters = MetadataFilters(filters=[MetadataFilter(key="year", value=2021, operator=FilterOperator.GTE)])
    hits = llamacloud_retriever(cloud_index, HybridConfig(filters=filters), settings).retrieve("llama")
    assert _retrieve_bodies(fake_llamacloud)[-1]["search_filters"] == filters.model_dump(mode="json")
    assert hits and all(hit.node.metadata["year"] == 2021 for hit in hits)


def test_a_hit_carries_text_metadata_score_and_its_source_document(
    cloud_index: LlamaCloudIndexRef, settings: CloudKitSettings
) -> None:
    hit = llamacloud_retriever(cloud_index, HybridConfig(), settings).retrieve("what do llamas eat")[0]
    assert hit.node.get_content() == "Adult llamas eat grass hay every day."
    assert hit.node.metadata["file_name"] == "care.pdf" and hit.node.metadata["page_number"] == 2
    assert hit.node.ref_doc_id == "hay"
    assert isinstance(hit.score, float)


def test_with_reranking_off_top_k_passages_come_back(
    cloud_index: LlamaCloudIndexRef, settings: CloudKitSettings
) -> None:
    config = HybridConfig(enable_reranking=False, top_k=1)
    assert len(llamacloud_retriever(cloud_index, config, settings).retrieve("llama")) == 1


def test_the_index_from_documents_is_a_target_without_any_lookup(
    fake_llamacloud: FakeLlamaCloud, cloud_index: LlamaCloudIndexRef, settings: CloudKitSettings
) -> None:
    before = len(fake_llamacloud.requests)
    retriever = llamacloud_retriever(cloud_index, HybridConfig(), settings)
    assert len(fake_llamacloud.requests) == before
    assert is_llamacloud_index(cloud_index)
    assert retriever.retrieve("hay")[0].node.ref_doc_id == "hay"


def test_an_sdk_llamacloud_index_is_a_target_read_without_sdk_calls(
    fake_llamacloud: FakeLlamaCloud, cloud_index: LlamaCloudIndexRef
) -> None:
    sdk_index = LlamaCloudIndex(name="handbook")
    before = len(fake_llamacloud.requests)
    hits = make_retriever(sdk_index, preset="fast").retrieve("hay")
    assert hits[0].node.metadata["file_name"] == "care.pdf"
    after = [r.path for r in fake_llamacloud.requests[before:]]
    assert after == [f"/api/v1/pipelines/{cloud_index.pipeline_id}/retrieve"]
    assert _retrieve_bodies(fake_llamacloud)[-1]["dense_similarity_top_k"] == 20


def test_offline_query_engine_on_a_cloud_index_cites_pages(cloud_index: LlamaCloudIndexRef) -> None:
    response = make_query_engine("handbook").query("what do llamas eat")
    assert "(care.pdf, page 2)" in str(response)


def test_cloud_target_without_key_says_how_to_set_one(
    cloud_index: LlamaCloudIndexRef, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LLAMA_CLOUD_API_KEY")
    with pytest.raises(ConfigError, match="LLAMA_CLOUD_API_KEY"):
        make_retriever("handbook", settings=CloudKitSettings())


def test_an_unknown_index_name_is_a_config_error_that_names_it(
    cloud_index: LlamaCloudIndexRef, settings: CloudKitSettings
) -> None:
    with pytest.raises(ConfigError, match="'handbok'"):
        llamacloud_retriever("handbok", HybridConfig(), settings)


def test_an_unknown_project_is_a_config_error_that_names_it(fake_llamacloud: FakeLlamaCloud) -> None:
    settings = CloudKitSettings(project_name="Nowhere")
    with pytest.raises(ConfigError, match="'Nowhere'"):
        llamacloud_retriever("handbook", HybridConfig(), settings)


def test_a_project_id_skips_the_project_lookup(
    fake_llamacloud: FakeLlamaCloud, cloud_index: LlamaCloudIndexRef
) -> None:
    settings = CloudKitSettings(project_id=cloud_index.project_id)
    before = fake_llamacloud.count("GET", "/api/v1/projects")
    llamacloud_retriever("handbook", HybridConfig(), settings).retrieve("hay")
    assert fake_llamacloud.count("GET", "/api/v1/projects") == before


def test_image_nodes_returned_unasked_come_back_without_fetching_their_bytes(
    fake_llamacloud: FakeLlamaCloud, cloud_index: LlamaCloudIndexRef, settings: CloudKitSettings
) -> None:
    fake_llamacloud.serve_fixture(
        {
            "pipeline_id": cloud_index.pipeline_id,
            "retrieval_nodes": [{"node": {"id_": "n1", "text": "hay", "extra_info": {}}, "score": 0.9}],
            "image_nodes": [{"node": {"file_id": "file-1", "page_index": 0, "image_size": 9}, "score": 0.5}],
            "page_figure_nodes": [],
            "metadata": {"retrieval_mode": "chunks"},
        },
        kind="retrieve",
        count=1,
    )
    hits = llamacloud_retriever(cloud_index, HybridConfig(), settings).retrieve("hay")
    image = hits[-1].node
    assert isinstance(image, ImageNode) and image.image is None
    assert image.metadata["file_id"] == "file-1" and image.metadata["page_index"] == 0
    assert fake_llamacloud.count("GET", r"/api/v1/files/.*", regex=True) == 0


def test_page_screenshots_are_fetched_when_asked(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings, examples_dir: Path
) -> None:
    pdf = examples_dir / "llama-care-guide.pdf"
    stored = fake_llamacloud.state.add_file(pdf.name, pdf.read_bytes(), None)
    page = Document(
        text="Adult llamas eat grass hay every day.",
        id_="p1",
        metadata={"file_id": stored.id, "file_name": pdf.name, "page_number": 1},
    )
    index = llamacloud_index_from_documents([page], "pictures", settings)
    retriever = llamacloud_retriever(index, HybridConfig(), settings, retrieve_page_screenshot_nodes=True)
    hits = retriever.retrieve("hay")
    images = [hit.node for hit in hits if isinstance(hit.node, ImageNode)]
    assert len(images) == 1 and images[0].image
    assert base64.b64decode(images[0].image)[:2] == b"\xff\xd8"  # a JPEG, as the service sends
    assert _retrieve_bodies(fake_llamacloud)[-1]["retrieve_page_screenshot_nodes"] is True
    assert fake_llamacloud.count("GET", f"/api/v1/files/{stored.id}/page_screenshots/0") == 1


def test_an_answer_of_another_shape_is_a_service_error_naming_the_index(
    fake_llamacloud: FakeLlamaCloud, cloud_index: LlamaCloudIndexRef, settings: CloudKitSettings
) -> None:
    fake_llamacloud.serve_fixture(
        {"pipeline_id": cloud_index.pipeline_id, "retrieval_nodes": [{"node": {"text": 42}}]},
        kind="retrieve",
        count=1,
    )
    with pytest.raises(ServiceError, match="'handbook'"):
        llamacloud_retriever(cloud_index, HybridConfig(), settings).retrieve("hay")
