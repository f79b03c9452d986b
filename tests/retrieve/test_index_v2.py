"""Index v2 retrieval through make_retriever(api_version="v2"), against the emulator: wire and nodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from llama_index.core import Document
from llama_index.core.vector_stores import FilterCondition, MetadataFilter, MetadataFilters

from llama_index_cloudkit import CloudKitSettings, ConfigError, make_query_engine, make_retriever
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.llamacloud.filters_v2 import v2_custom_filters
from llama_index_cloudkit.retrieve.llamacloud.refs import LlamaCloudV2IndexRef
from llama_index_cloudkit.retrieve.llamacloud.service import (
    llamacloud_index_from_documents,
    llamacloud_retriever,
)
from llama_index_cloudkit.testing import FakeLlamaCloud

RETRIEVE = "/api/v1/retrieval/retrieve"

DOCS = [
    {"text": "Adult llamas eat grass hay every day.", "metadata": {"section": "care", "year": 2021}},
    {
        "text": "Llamas rarely spit at people; they spit over food.",
        "metadata": {"section": "faq", "year": 2020},
    },
    {
        "text": "Standard shipping of llama wool takes five days.",
        "metadata": {"section": "shop", "year": 2023},
    },
    {"text": "Shear the fleece of a llama once a year.", "metadata": {"section": "care", "year": 2019}},
]

# year >= 2020 AND (section == care OR section == faq): a nested OR group
NESTED_OR = MetadataFilters(
    filters=[
        MetadataFilter(key="year", value=2020, operator=">="),
        MetadataFilters(
            filters=[MetadataFilter(key="section", value="care"), MetadataFilter(key="section", value="faq")],
            condition=FilterCondition.OR,
        ),
    ],
    condition=FilterCondition.AND,
)


@pytest.fixture()
def index(fake_llamacloud: FakeLlamaCloud) -> dict[str, Any]:
    return fake_llamacloud.add_v2_index("handbook", DOCS)


@pytest.fixture()
def v2() -> CloudKitSettings:
    return CloudKitSettings(api_version="v2")


def _bodies(fake: FakeLlamaCloud) -> list[dict[str, Any]]:
    return [r.json for r in fake.requests if r.path == RETRIEVE]


def test_make_retriever_finds_a_v2_index_by_name(
    fake_llamacloud: FakeLlamaCloud, index: dict[str, Any], v2: CloudKitSettings
) -> None:
    hits = make_retriever("handbook", "balanced", settings=v2).retrieve("what do llamas eat")

    assert hits and "hay" in hits[0].node.text
    (body,) = _bodies(fake_llamacloud)
    assert body["index_id"] == index["id"]
    assert fake_llamacloud.count("GET", "/api/v1/indexes") == 1
    assert fake_llamacloud.count("POST", f"/api/v1/pipelines/{index['id']}/retrieve") == 0


def test_make_retriever_finds_a_v2_index_by_id(
    fake_llamacloud: FakeLlamaCloud, index: dict[str, Any], v2: CloudKitSettings
) -> None:
    hits = make_retriever(index["id"], settings=v2, top_k=2).retrieve("spit")

    assert len(hits) <= 2 and "spit" in hits[0].node.text
    assert _bodies(fake_llamacloud)[0]["index_id"] == index["id"]


def test_alpha_zero_no_rerank_and_a_nested_or_arrive_exactly_on_v2(
    fake_llamacloud: FakeLlamaCloud, index: dict[str, Any], v2: CloudKitSettings
) -> None:
    config = HybridConfig(alpha=0.0, enable_reranking=False, top_k=3, filters=NESTED_OR)
    hits = llamacloud_retriever("handbook", config, v2).retrieve("llamas")

    (body,) = _bodies(fake_llamacloud)
    assert body == {
        "index_id": index["id"],
        "query": "llamas",
        "top_k": 3,
        "vector_pipeline_weight": 0.0,
        "full_text_pipeline_weight": 1.0,
        "rerank": {"enabled": False},
        "custom_filters": {
            "year": {"operator": "gte", "value": 2020},
            "section": {"operator": "in", "value": ["care", "faq"]},
        },
    }
    assert hits and all(h.node.metadata["section"] in ("care", "faq") for h in hits)
    assert all(h.node.metadata["year"] >= 2020 for h in hits)


def test_alpha_zero_no_rerank_and_a_nested_or_arrive_exactly_on_v1(fake_llamacloud: FakeLlamaCloud) -> None:
    v1 = CloudKitSettings(api_version="v1")
    docs = [Document(text=d["text"], id_=f"d{i}", metadata=d["metadata"]) for i, d in enumerate(DOCS)]
    ref = llamacloud_index_from_documents(docs, "handbook-v1", v1)
    config = HybridConfig(alpha=0.0, enable_reranking=False, top_k=3, filters=NESTED_OR)
    hits = llamacloud_retriever(ref, config, v1).retrieve("llamas")

    (body,) = [r.json for r in fake_llamacloud.requests if r.path.endswith("/retrieve")]
    assert body["alpha"] == 0.0 and body["enable_reranking"] is False
    assert body["search_filters"] == {
        "filters": [
            {"key": "year", "value": 2020, "operator": ">="},
            {
                "filters": [
                    {"key": "section", "value": "care", "operator": "=="},
                    {"key": "section", "value": "faq", "operator": "=="},
                ],
                "condition": "or",
            },
        ],
        "condition": "and",
    }
    assert hits and all(h.node.metadata["section"] in ("care", "faq") for h in hits)


def test_reranking_sends_its_final_count_and_the_candidate_pool(
    fake_llamacloud: FakeLlamaCloud, index: dict[str, Any], v2: CloudKitSettings
) -> None:
    config = HybridConfig(dense_similarity_top_k=8, sparse_similarity_top_k=4, rerank_top_n=2, alpha=1.0)
    hits = llamacloud_retriever("handbook", config, v2).retrieve("llama")

    body = _bodies(fake_llamacloud)[0]
    assert (body["top_k"], body["rerank"]) == (8, {"enabled": True, "top_n": 2})
    assert (body["vector_pipeline_weight"], body["full_text_pipeline_weight"]) == (1.0, 0.0)
    assert len(hits) <= 2


def test_a_zero_score_threshold_is_sent(
    fake_llamacloud: FakeLlamaCloud, index: dict[str, Any], v2: CloudKitSettings
) -> None:
    llamacloud_retriever("handbook", HybridConfig(), v2, score_threshold=0.0).retrieve("hay")

    assert _bodies(fake_llamacloud)[0]["score_threshold"] == 0.0


def test_an_or_across_fields_is_refused_before_any_request(
    fake_llamacloud: FakeLlamaCloud, index: dict[str, Any], v2: CloudKitSettings
) -> None:
    either = MetadataFilters(
        filters=[MetadataFilter(key="section", value="care"), MetadataFilter(key="year", value=2023)],
        condition=FilterCondition.OR,
    )
    ref = LlamaCloudV2IndexRef("handbook", index["id"])
    with pytest.raises(ConfigError, match="OR across fields"):
        llamacloud_retriever(ref, HybridConfig(filters=either), v2)
    assert _bodies(fake_llamacloud) == []


def test_not_and_ranges_keep_their_meaning() -> None:
    filters = MetadataFilters(
        filters=[
            MetadataFilter(key="year", value=2019, operator=">"),
            MetadataFilter(key="year", value=2022, operator="<="),
            MetadataFilters(
                filters=[MetadataFilter(key="section", value="shop")], condition=FilterCondition.NOT
            ),
        ]
    )
    assert v2_custom_filters(filters) == {
        "year": [{"operator": "gt", "value": 2019}, {"operator": "lte", "value": 2022}],
        "section": {"operator": "ne", "value": "shop"},
    }


def test_results_carry_metadata_static_fields_and_stable_ids(
    fake_llamacloud: FakeLlamaCloud, index: dict[str, Any], v2: CloudKitSettings
) -> None:
    retriever = llamacloud_retriever("handbook", HybridConfig(top_k=2, enable_reranking=False), v2)
    first, second = retriever.retrieve("hay"), retriever.retrieve("hay")

    assert [h.node.node_id for h in first] == [h.node.node_id for h in second]
    assert "section" in first[0].node.metadata and "chunk_index" in first[0].node.metadata


def test_an_unknown_v2_index_names_the_known_ones(
    fake_llamacloud: FakeLlamaCloud, index: dict[str, Any], v2: CloudKitSettings
) -> None:
    with pytest.raises(ConfigError, match="handbok") as info:
        make_retriever("handbok", settings=v2)
    assert "handbook" in str(info.value)


def test_documents_cannot_be_ingested_into_index_v2(
    fake_llamacloud: FakeLlamaCloud, v2: CloudKitSettings
) -> None:
    with pytest.raises(ConfigError, match="directory"):
        llamacloud_index_from_documents([Document(text="hay")], "handbook", v2)
    assert fake_llamacloud.requests == []


def test_a_query_engine_answers_from_a_v2_index(
    fake_llamacloud: FakeLlamaCloud, index: dict[str, Any], v2: CloudKitSettings
) -> None:
    from llama_index.core.llms import MockLLM

    engine = make_query_engine("handbook", "fast", settings=v2, llm=MockLLM())
    response = engine.query("what do llamas eat")

    assert any("hay" in n.node.text for n in response.source_nodes)
    assert _bodies(fake_llamacloud)[0]["rerank"] == {"enabled": False}


def _user_code(settings: CloudKitSettings, files: list[Path], make_index: Any) -> tuple[Any, list[Any]]:
    """What a user writes: parse, extract with the tool, index, retrieve (only the settings differ)."""
    from pydantic import BaseModel

    from llama_index_cloudkit import CloudKitReader, extraction_tool

    class Summary(BaseModel):
        """What the document is about."""

        title: str | None

    documents = CloudKitReader(backend="cloud", settings=settings).load_data(files)
    tool = extraction_tool(
        schema=Summary, settings=settings, allowed_dirs=[files[0].parent], raise_errors=True
    )
    extracted = tool.call(file_path=str(files[0])).raw_output
    make_index(documents)
    hits = make_retriever("corpus", "balanced", settings=settings, top_k=3).retrieve("lorem ipsum table")
    return extracted, hits


@pytest.mark.corpus
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_same_user_code_parses_extracts_and_retrieves_on_v1_and_v2(
    fake_llamacloud: FakeLlamaCloud, corpus: Path, tmp_path: Path, version: str
) -> None:
    fake_llamacloud.on_extract(lambda schema, config, text: {"title": text.strip().splitlines()[0][:60]})
    settings = CloudKitSettings(api_version=version, cache_dir=tmp_path)
    files = [corpus / "multi_page.pdf", corpus / "word_sample.docx"]

    def make_index(documents: list[Document]) -> None:
        if version == "v1":
            llamacloud_index_from_documents(documents, "corpus", settings)
        else:  # Index v2 indexes are built from a LlamaCloud directory: the emulator's stand-in
            fake_llamacloud.add_v2_index(
                "corpus", [{"text": d.text, "metadata": d.metadata} for d in documents]
            )

    extracted, hits = _user_code(settings, files, make_index)

    assert extracted.title
    assert hits and {h.node.metadata["file_name"] for h in hits} <= {f.name for f in files}
    v2_routes = [r.path for r in fake_llamacloud.requests if "/v2/" in r.path or "/retrieval/" in r.path]
    assert bool(v2_routes) == (version == "v2")


def test_a_v2_retriever_works_from_one_event_loop_after_another(
    fake_llamacloud: FakeLlamaCloud, index: dict[str, Any], v2: CloudKitSettings
) -> None:
    import asyncio

    retriever = make_retriever("handbook", "fast", settings=v2, top_k=1)
    first = asyncio.run(retriever.aretrieve("hay"))
    second = asyncio.run(retriever.aretrieve("hay"))

    assert [h.node.node_id for h in first] == [h.node.node_id for h in second]
    assert "hay" in first[0].node.text
