"""QdrantHybridIndex on Qdrant's embedded engine (memory and a folder): no server, no download."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from llama_index.core.schema import Document, MetadataMode, TextNode
from llama_index.core.vector_stores import FilterCondition, MetadataFilter, MetadataFilters

from llama_index_cloudkit.errors import ConfigError, ServiceError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.factory import make_query_engine, make_retriever
from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
from llama_index_cloudkit.retrieve.presets import RetrievalPreset

pytest.importorskip("qdrant_client")

from qdrant_client import QdrantClient

from llama_index_cloudkit.retrieve.qdrant.index import QdrantHybridIndex, open_qdrant_index

FILLER = [
    f"Farm diary, week {week}: the {animal} were moved to the {place} field and the fences were checked."
    for week, (animal, place) in enumerate(
        [
            (a, p)
            for a in ("llamas", "alpacas", "sheep", "goats")
            for p in ("north", "south", "east", "river", "hill")
        ],
        start=1,
    )
]


def _ids(hits: list[Any]) -> list[str]:
    return [h.node.node_id for h in hits]


@pytest.fixture()
def big_nodes(nodes: list[TextNode]) -> list[TextNode]:
    """The ten care/shop/news passages plus twenty diary entries: enough for every preset's count."""
    extra = [
        TextNode(text=text, id_=f"diary-{i}", metadata={"section": "diary", "year": 2000 + i})
        for i, text in enumerate(FILLER)
    ]
    return [*nodes, *extra]


_VECTORS: dict[str, list[float]] = {}


@pytest.fixture()
def vectors(big_nodes: list[TextNode], embedder: MiniLMEmbedding) -> dict[str, list[float]]:
    """Passage vectors computed once for the module (keyed by text), so each index builds fast."""
    missing = [n.text for n in big_nodes if n.text not in _VECTORS]
    for text, row in zip(missing, embedder.embed(missing), strict=True):
        _VECTORS[text] = row.tolist()
    return _VECTORS


def _embedded(nodes: list[TextNode], vectors: dict[str, list[float]]) -> list[TextNode]:
    for node in nodes:
        node.embedding = vectors[node.text]
    return nodes


@pytest.fixture()
def qdrant(
    big_nodes: list[TextNode], vectors: dict[str, list[float]], embedder: MiniLMEmbedding
) -> QdrantHybridIndex:
    return QdrantHybridIndex.from_nodes(
        _embedded(big_nodes, vectors), location=":memory:", embed_model=embedder
    )


@pytest.fixture()
def local(
    big_nodes: list[TextNode], vectors: dict[str, list[float]], embedder: MiniLMEmbedding
) -> LocalHybridIndex:
    matrix = np.asarray([vectors[n.text] for n in big_nodes], dtype=np.float32)
    return LocalHybridIndex(big_nodes, embed_model=embedder, _embeddings=matrix)


@pytest.mark.parametrize("preset", [p.value for p in RetrievalPreset])
def test_each_preset_returns_the_count_of_the_preset_table(qdrant: QdrantHybridIndex, preset: str) -> None:
    hits = qdrant.as_retriever(preset).retrieve("how should llamas be cared for")
    assert len(hits) == RetrievalPreset.from_name(preset).config().final_top_k


@pytest.mark.parametrize(
    ("preset", "overrides", "count"),
    [
        ("balanced", {}, 10),
        ("deep", {}, 20),
        ("fast", {"top_k": 1}, 1),
        ("balanced", {"top_k": 4}, 4),
        ("deep", {"rerank_top_n": 3}, 3),
    ],
)
def test_the_factory_gives_the_preset_counts_with_overrides(
    qdrant: QdrantHybridIndex, preset: str, overrides: dict[str, int], count: int
) -> None:
    retriever = make_retriever(qdrant, preset, **overrides)
    assert len(retriever.retrieve("how should llamas be cared for")) == count


def test_the_offline_query_engine_answers_with_cited_passages(qdrant: QdrantHybridIndex) -> None:
    answer = make_query_engine(qdrant, "balanced", top_k=2).query("what do llamas eat")
    assert [n.node.node_id for n in answer.source_nodes][:1] == ["hay"]
    assert len(answer.source_nodes) == 2
    assert "[1] (care.md, page 1)" in str(answer)


@pytest.mark.parametrize("preset", ["balanced", "deep"])
def test_an_override_of_rerank_top_n_wins_over_the_preset(qdrant: QdrantHybridIndex, preset: str) -> None:
    assert len(qdrant.as_retriever(preset, rerank_top_n=3).retrieve("llamas")) == 3


def test_the_factory_entry_point_keeps_the_config(qdrant: QdrantHybridIndex) -> None:
    retriever = qdrant.as_hybrid_retriever(HybridConfig(alpha=0.0, rerank_top_n=2))
    assert _ids(retriever.retrieve("refund")) == ["refund"]


def test_keyword_and_semantic_rank_differently(qdrant: QdrantHybridIndex) -> None:
    keyword = _ids(qdrant.as_retriever("keyword").retrieve("stock of hay"))
    semantic = _ids(qdrant.as_retriever("semantic").retrieve("stock of hay"))
    assert keyword[0] == "stocks"  # the exact (stemmed) word
    assert semantic[0] == "hay"  # the meaning
    assert keyword != semantic


@pytest.mark.parametrize("alpha", [0.0, 0.2, 0.4, 0.8, 1.0])
@pytest.mark.parametrize("query", ["what do llamas eat", "stock of hay", "the", "fences in the river field"])
def test_results_and_scores_equal_the_local_index(
    qdrant: QdrantHybridIndex, local: LocalHybridIndex, alpha: float, query: str
) -> None:
    config = HybridConfig(alpha=alpha, dense_similarity_top_k=8, sparse_similarity_top_k=8, rerank_top_n=6)
    ours = [(h.node.node_id, round(float(h.score or 0), 4)) for h in qdrant.search(query, config)]
    theirs = [(h.node.node_id, round(float(h.score or 0), 4)) for h in local.search(query, config)]
    assert [score for _, score in ours] == [score for _, score in theirs]
    # Passages tied on the last score may be cut in another order; every other one must agree.
    last = ours[-1][1] if ours else 0.0
    assert [pair for pair in ours if pair[1] > last] == [pair for pair in theirs if pair[1] > last]


def test_a_query_of_stopwords_falls_back_to_the_dense_leg(qdrant: QdrantHybridIndex) -> None:
    assert len(qdrant.search("the of and", HybridConfig(alpha=0.4, rerank_top_n=3))) == 3


def _filters(*children: Any, condition: str = "and") -> MetadataFilters:
    return MetadataFilters(filters=list(children), condition=FilterCondition(condition))


NESTED = [
    _filters(MetadataFilter(key="year", value=2021, operator=">=")),
    _filters(
        MetadataFilter(key="year", value=2020, operator=">="),
        _filters(
            MetadataFilter(key="section", value="care"),
            MetadataFilter(key="section", value="shop"),
            condition="or",
        ),
    ),
    _filters(_filters(MetadataFilter(key="section", value="diary"), condition="or"), condition="not"),
    _filters(
        MetadataFilter(key="section", value=["faq", "news"], operator="in"),
        _filters(MetadataFilter(key="year", value=2020), condition="not"),
    ),
    _filters(MetadataFilter(key="section", value="care", operator="!=")),
    _filters(MetadataFilter(key="section", value=["care", "diary"], operator="nin")),
    _filters(MetadataFilter(key="file_name", value="care", operator="text_match")),
]


@pytest.mark.parametrize("filters", NESTED, ids=[f"filters-{i}" for i in range(len(NESTED))])
def test_metadata_filters_select_the_passages_the_local_index_selects(
    qdrant: QdrantHybridIndex, local: LocalHybridIndex, filters: MetadataFilters
) -> None:
    config = HybridConfig(
        filters=filters, rerank_top_n=30, dense_similarity_top_k=30, sparse_similarity_top_k=30
    )
    ours = set(_ids(qdrant.search("llamas farm", config)))
    assert ours
    assert ours == set(_ids(local.search("llamas farm", config)))


def test_a_filter_of_the_wrong_type_is_a_config_error_naming_the_key(qdrant: QdrantHybridIndex) -> None:
    filters = _filters(MetadataFilter(key="year", value="2021"))
    with pytest.raises(ConfigError, match=r"'year'.*string.*number"):
        qdrant.as_retriever("balanced", filters=filters).retrieve("llamas")


def test_a_filter_qdrant_cannot_express_is_a_config_error(qdrant: QdrantHybridIndex) -> None:
    filters = _filters(MetadataFilter(key="section", value="CARE", operator="text_match_insensitive"))
    with pytest.raises(ConfigError, match="text_match_insensitive"):
        qdrant.search("llamas", HybridConfig(filters=filters))


def test_inserted_passages_are_found_and_move_the_idf(
    qdrant: QdrantHybridIndex, embedder: MiniLMEmbedding
) -> None:
    config = HybridConfig(alpha=0.0, rerank_top_n=1)
    before = qdrant.search("alpaca wool", config)[0]
    qdrant.insert(Document(text="Alpaca wool is softer than sheep wool and holds no lanolin.", doc_id="wool"))
    after = qdrant.search("alpaca wool", config)[0]
    assert after.node.ref_doc_id == "wool"
    assert before.node.node_id != after.node.node_id
    assert len(qdrant) == 31


def test_inserting_a_known_node_id_is_a_config_error(qdrant: QdrantHybridIndex) -> None:
    with pytest.raises(ConfigError, match="hay"):
        qdrant.insert_nodes([TextNode(text="Llamas also like alfalfa.", id_="hay")])


def test_results_are_the_nodes_as_given_with_their_own_ids_and_metadata(qdrant: QdrantHybridIndex) -> None:
    hit = qdrant.search("what do llamas eat", HybridConfig(rerank_top_n=1))[0]
    assert hit.node.node_id == "hay"
    assert hit.node.metadata == {"section": "care", "year": 2021, "file_name": "care.md", "page_number": 1}
    assert hit.node.excluded_llm_metadata_keys == []
    assert "_node_id" not in hit.node.get_content(metadata_mode=MetadataMode.ALL)
    assert {n.node_id for n in qdrant.nodes} >= {"hay", "refund", "diary-0"}


def test_delete_removes_every_passage_of_a_document(embedder: MiniLMEmbedding) -> None:
    docs = [
        Document(text="Refunds are paid within thirty days of the return.", doc_id="policy"),
        Document(text="Llamas eat grass hay and drink fresh water.", doc_id="care"),
    ]
    index = QdrantHybridIndex.from_documents(docs, location=":memory:", embed_model=embedder)
    assert index.delete("policy") == 1
    assert index.delete("policy") == 0
    hits = index.search("refund", HybridConfig(rerank_top_n=1))
    assert [h.node.ref_doc_id for h in hits] == ["care"]
    assert len(index) == 1


def test_delete_nodes_removes_passages_by_node_id(qdrant: QdrantHybridIndex) -> None:
    assert qdrant.delete_nodes(["refund", "no-such-node"]) == 1
    assert "refund" not in _ids(qdrant.search("refund", HybridConfig(alpha=0.0, rerank_top_n=1)))


def test_a_collection_reopens_from_its_folder_with_its_settings(
    tmp_path: Path, big_nodes: list[TextNode], vectors: dict[str, list[float]], embedder: MiniLMEmbedding
) -> None:
    folder = tmp_path / "qdrant"
    built = QdrantHybridIndex.from_nodes(
        _embedded(big_nodes, vectors),
        path=folder,
        collection_name="handbook",
        embed_model=embedder,
        k1=1.2,
        b=0.5,
    )
    config = HybridConfig(alpha=0.4, rerank_top_n=5)
    expected = [(h.node.node_id, h.score) for h in built.search("what do llamas eat", config)]
    settings = built.settings
    built.close()

    reopened = open_qdrant_index(str(folder), collection="handbook", embed_model=embedder)
    assert reopened.settings == settings
    assert (settings["k1"], settings["b"]) == (1.2, 0.5)
    assert len(reopened) == 30
    again = reopened.search("what do llamas eat", config)
    assert [h.node.node_id for h in again] == [node_id for node_id, _ in expected]
    assert [h.score for h in again] == pytest.approx([score for _, score in expected], abs=1e-5)
    assert reopened.search("what do llamas eat", config)[0].node.metadata["section"] == "care"
    reopened.close()


def test_a_collection_reopens_by_name_on_the_same_client(
    qdrant: QdrantHybridIndex, embedder: MiniLMEmbedding
) -> None:
    again = QdrantHybridIndex(qdrant.client, qdrant.collection_name, embed_model=embedder)
    assert len(again) == 30
    with pytest.raises(ConfigError, match="'year'"):  # the key types come back with it
        again.search("llamas", HybridConfig(filters=_filters(MetadataFilter(key="year", value="x"))))


def test_reopening_with_another_embedder_or_bm25_setting_is_a_config_error(qdrant: QdrantHybridIndex) -> None:
    other = MiniLMEmbedding(model_name="another-model")
    with pytest.raises(ConfigError, match="another-model"):
        QdrantHybridIndex(qdrant.client, qdrant.collection_name, embed_model=other)
    with pytest.raises(ConfigError, match="k1"):
        QdrantHybridIndex(qdrant.client, qdrant.collection_name, embed_model=qdrant.embed_model, k1=0.9)


def test_a_collection_not_made_by_this_class_is_a_config_error(embedder: MiniLMEmbedding) -> None:
    from qdrant_client import models

    client = QdrantClient(location=":memory:")
    client.create_collection(
        "theirs", vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE)
    )
    with pytest.raises(ConfigError, match="not made by QdrantHybridIndex"):
        QdrantHybridIndex(client, "theirs", embed_model=embedder)


def test_a_new_store_is_empty_until_the_first_insert(embedder: MiniLMEmbedding) -> None:
    index = open_qdrant_index(":memory:", embed_model=embedder)
    assert len(index) == 0
    assert index.as_retriever().retrieve("llamas") == []
    index.insert_documents([Document(text="Llamas are herd animals.")])
    assert len(index.as_retriever().retrieve("llamas")) == 1


def test_an_empty_store_spec_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="qdrant:"):
        open_qdrant_index("  ")


def test_building_shows_a_progress_bar_when_asked(
    embedder: MiniLMEmbedding, capsys: pytest.CaptureFixture[str]
) -> None:
    QdrantHybridIndex.from_documents(
        [Document(text="Llamas eat hay."), Document(text="Stocks fell.")],
        location=":memory:",
        embed_model=embedder,
        batch_size=1,
        show_progress=True,
    )
    assert "Indexing passages" in capsys.readouterr().err


def test_async_retrieval_gives_the_sync_results(qdrant: QdrantHybridIndex) -> None:
    retriever = qdrant.as_retriever("balanced", rerank_top_n=3)
    assert _ids(asyncio.run(retriever.aretrieve("what do llamas eat"))) == _ids(
        retriever.retrieve("what do llamas eat")
    )


def test_an_unreachable_server_is_a_service_error_saying_what_to_check(embedder: MiniLMEmbedding) -> None:
    client = QdrantClient(url="http://127.0.0.1:9", check_compatibility=False)
    with pytest.raises(ServiceError, match=r"Could not reach Qdrant.*server is running"):
        QdrantHybridIndex(client, "handbook", embed_model=embedder)


def test_an_index_opened_before_its_collection_existed_sees_what_another_client_built(
    embedder: MiniLMEmbedding,
) -> None:
    client = QdrantClient(location=":memory:")
    early = QdrantHybridIndex(client, "shared", embed_model=embedder)
    assert early.search("llamas") == []
    QdrantHybridIndex.from_documents(
        [Document(text="Llamas eat hay.", metadata={"year": 2021})],
        client=client,
        collection_name="shared",
        embed_model=embedder,
    )
    assert [h.node.text for h in early.search("llamas", HybridConfig(rerank_top_n=1))] == ["Llamas eat hay."]
    early.insert(Document(text="Alpacas eat hay too.", metadata={"kind": "faq"}))
    later = QdrantHybridIndex(client, "shared", embed_model=embedder)
    assert len(later) == 2
    with pytest.raises(ConfigError, match="'year'"):  # the first client's key types were kept
        later.search("hay", HybridConfig(filters=_filters(MetadataFilter(key="year", value="2021"))))


def test_a_folder_open_in_another_client_is_a_config_error_saying_how_to_share(tmp_path: Path) -> None:
    first = open_qdrant_index(str(tmp_path / "qdrant"))
    with pytest.raises(ConfigError, match=r"open in another client.*Qdrant server"):
        open_qdrant_index(str(tmp_path / "qdrant"))
    first.close()
    open_qdrant_index(str(tmp_path / "qdrant")).close()
