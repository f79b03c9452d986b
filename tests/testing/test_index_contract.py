"""Contract: LlamaCloudIndex and LlamaCloudRetriever (unmodified SDK) against the emulator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from llama_cloud_services import LlamaCloudIndex, LlamaCloudRetriever
from llama_index.core import Document
from llama_index.core.llms import MockLLM
from llama_index.core.vector_stores import MetadataFilter, MetadataFilters

from llama_index_cloudkit.testing import FakeLlamaCloud

DOCS = [
    Document(
        text="Adult llamas eat two to three kilograms of grass hay every day.",
        id_="doc-hay",
        metadata={"section": "care"},
    ),
    Document(
        text="Unused items can be returned within thirty days for a refund.",
        id_="doc/refund with space",
        metadata={"section": "shop"},
    ),
    Document(
        text="Guided farm visits run every Saturday from April to October.",
        id_="doc-visit",
        metadata={"section": "faq"},
    ),
]


@pytest.fixture()
def index(fake_llamacloud: FakeLlamaCloud) -> LlamaCloudIndex:
    return LlamaCloudIndex.from_documents(DOCS, name="handbook", verbose=False)


def _retrieve_bodies(fake: FakeLlamaCloud) -> list[dict]:
    return [r.json for r in fake.requests if r.path.endswith("/retrieve")]


def test_from_documents_then_open_by_name(fake_llamacloud: FakeLlamaCloud, index: LlamaCloudIndex) -> None:
    again = LlamaCloudIndex("handbook", project_name="Default")
    assert again.id == index.id
    docs = fake_llamacloud.state.pipelines.get(index.id)["documents"]
    assert set(docs) == {"doc-hay", "doc/refund with space", "doc-visit"}


def test_retriever_returns_nodes_with_metadata(index: LlamaCloudIndex) -> None:
    hits = index.as_retriever(dense_similarity_top_k=3, sparse_similarity_top_k=3).retrieve(
        "how much hay do llamas eat"
    )
    assert hits[0].node.ref_doc_id == "doc-hay"
    assert hits[0].node.metadata["section"] == "care"


def test_query_engine_with_mock_llm(index: LlamaCloudIndex) -> None:
    response = index.as_query_engine(llm=MockLLM(max_tokens=5)).query("refund window")
    assert response.source_nodes


def test_standalone_retriever_sync_and_async(fake_llamacloud: FakeLlamaCloud, index: LlamaCloudIndex) -> None:
    retriever = LlamaCloudRetriever(
        name="handbook",
        project_name="Default",
        dense_similarity_top_k=2,
        sparse_similarity_top_k=2,
        enable_reranking=True,
        rerank_top_n=1,
        alpha=0.3,
    )
    assert len(retriever.retrieve("refund")) == 1
    assert len(asyncio.run(retriever.aretrieve("refund"))) == 1
    body = _retrieve_bodies(fake_llamacloud)[-1]
    assert body["alpha"] == 0.3 and body["rerank_top_n"] == 1


def test_every_parameter_has_an_observable_effect(index: LlamaCloudIndex) -> None:
    query = "llamas eat hay on Saturday"
    both = index.as_retriever(
        dense_similarity_top_k=3, sparse_similarity_top_k=3, enable_reranking=False
    ).retrieve(query)
    one = index.as_retriever(
        dense_similarity_top_k=1, sparse_similarity_top_k=1, enable_reranking=False
    ).retrieve(query)
    assert len(one) < len(both)
    cut = index.as_retriever(enable_reranking=True, rerank_top_n=1).retrieve(query)
    assert len(cut) == 1
    sparse_only = index.as_retriever(alpha=0.0, enable_reranking=False).retrieve("refund")
    assert [h.node.ref_doc_id for h in sparse_only] == ["doc/refund with space"]
    shop = MetadataFilters(filters=[MetadataFilter(key="section", value="shop")])
    filtered = index.as_retriever(filters=shop, enable_reranking=False).retrieve(query)
    assert {h.node.metadata["section"] for h in filtered} == {"shop"}


def test_insert_delete_and_ref_doc_info(index: LlamaCloudIndex) -> None:
    index.insert(Document(text="Shear llamas once a year.", id_="doc-shear"))
    index.delete_ref_doc("doc/refund with space")
    assert set(index.ref_doc_info) == {"doc-hay", "doc-visit", "doc-shear"}


def test_upload_file_is_parsed_and_indexed(index: LlamaCloudIndex, examples_dir: Path) -> None:
    index.upload_file(str(examples_dir / "shipping-policy.docx"), verbose=False)
    hits = index.as_retriever(alpha=0.0, enable_reranking=False).retrieve("express shipping")
    assert hits[0].node.metadata["file_name"] == "shipping-policy.docx"


def test_invalid_parameters_get_fastapi_shaped_422(index: LlamaCloudIndex) -> None:
    from llama_cloud.core.api_error import ApiError

    with pytest.raises(ApiError) as info:
        index.as_retriever(dense_similarity_top_k=1, sparse_similarity_top_k=1, rerank_top_n=50).retrieve("x")
    assert info.value.status_code == 422
