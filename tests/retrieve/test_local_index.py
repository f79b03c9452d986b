"""LocalHybridIndex: each leg against its oracle, fusion, filters, persistence, updates."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest
import Stemmer
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

from llama_index_cloudkit import ConfigError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.fusion import relative_score_fusion
from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex

QUERY = "how much hay and water does a llama need every day"


def _ids(hits: list) -> list[str]:
    return [h.node.node_id for h in hits]


def test_alpha_one_gives_the_dense_order(index: LocalHybridIndex, embedder: MiniLMEmbedding) -> None:
    vectors = embedder.embed([n.get_content(metadata_mode="embed") for n in index.nodes])
    query = embedder.embed([QUERY])[0]
    expected = [index.nodes[i].node_id for i in np.argsort(-(vectors @ query), kind="stable")]
    hits = index.search(
        QUERY,
        HybridConfig(
            alpha=1.0, dense_similarity_top_k=10, sparse_similarity_top_k=0, enable_reranking=False, top_k=10
        ),
    )
    assert _ids(hits) == expected


def test_alpha_zero_gives_the_bm25_order_of_bm25s_itself(index: LocalHybridIndex) -> None:
    stemmer = Stemmer.Stemmer("english")
    corpus = [n.get_content() for n in index.nodes]
    oracle = bm25s.BM25(k1=1.5, b=0.75)
    oracle.index(
        bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False
    )
    tokens = bm25s.tokenize([QUERY], stopwords="en", stemmer=stemmer, show_progress=False)
    docs, scores = oracle.retrieve(tokens, k=len(corpus), show_progress=False)
    expected = [index.nodes[i].node_id for i, s in zip(docs[0], scores[0], strict=True) if s > 0]
    hits = index.search(
        QUERY,
        HybridConfig(
            alpha=0.0, dense_similarity_top_k=0, sparse_similarity_top_k=10, enable_reranking=False, top_k=10
        ),
    )
    assert _ids(hits) == expected
    assert set(_ids(hits)) >= {"hay", "water"}


def test_fusion_ranks_what_both_legs_agree_on_first(index: LocalHybridIndex) -> None:
    hits = index.search(QUERY, HybridConfig(alpha=0.5, enable_reranking=False))
    assert _ids(hits)[0] in {"hay", "water"}
    assert hits[0].score == pytest.approx(max(h.score for h in hits))


def test_rerank_top_n_cuts_the_list(index: LocalHybridIndex) -> None:
    hits = index.search(QUERY, HybridConfig(enable_reranking=True, rerank_top_n=3))
    assert len(hits) == 3


def test_fusion_is_pure_and_deduplicates() -> None:
    dense = {"a": 0.9, "b": 0.8, "x": 0.1}
    sparse = {"b": 7.0, "c": 1.0}
    snapshot = (dict(dense), dict(sparse))
    fused = relative_score_fusion(dense, sparse, alpha=0.5)
    assert (dense, sparse) == snapshot
    assert sorted(node_id for node_id, _ in fused) == ["a", "b", "c", "x"]
    assert fused[0][0] == "b"


def test_filters_exclude_and_nest(index: LocalHybridIndex) -> None:
    only_faq = MetadataFilters(filters=[MetadataFilter(key="section", value="faq")])
    hits = index.search(QUERY, HybridConfig(filters=only_faq, enable_reranking=False))
    assert hits and {h.node.metadata["section"] for h in hits} == {"faq"}
    nested = MetadataFilters(
        filters=[
            MetadataFilter(key="year", value=2021, operator=FilterOperator.GTE),
            MetadataFilters(
                filters=[
                    MetadataFilter(key="section", value="care"),
                    MetadataFilter(key="section", value="shop"),
                ],
                condition="or",
            ),
        ]
    )
    hits = index.search(QUERY, HybridConfig(filters=nested, enable_reranking=False))
    assert set(_ids(hits)) <= {"hay", "water", "refund", "ship"}
    assert "shear" not in _ids(hits) and "stocks" not in _ids(hits)


def test_persist_then_load_gives_identical_results(
    tmp_path: Path, nodes: list[TextNode], embedder: MiniLMEmbedding
) -> None:
    index = LocalHybridIndex(nodes, embed_model=embedder, k1=1.2, b=0.5)
    config = HybridConfig(alpha=0.3, enable_reranking=False)
    before = [(h.node.node_id, h.score) for h in index.search(QUERY, config)]
    index.persist(tmp_path / "idx")
    loaded = LocalHybridIndex.load(tmp_path / "idx", embed_model=embedder)
    assert (loaded.k1, loaded.b) == (1.2, 0.5)
    after = [(h.node.node_id, h.score) for h in loaded.search(QUERY, config)]
    assert after == before
    assert loaded.nodes[0].metadata == nodes[0].metadata
    np.load(tmp_path / "idx" / "embeddings.npy", allow_pickle=False)  # plain array, no pickle


def test_load_refuses_a_different_embedder(tmp_path: Path, index: LocalHybridIndex) -> None:
    from llama_index.core.embeddings import MockEmbedding

    index.persist(tmp_path / "idx")
    with pytest.raises(ConfigError, match="built with"):
        LocalHybridIndex.load(tmp_path / "idx", embed_model=MockEmbedding(embed_dim=384))
    with pytest.raises(ConfigError, match=r"params\.json"):
        LocalHybridIndex.load(tmp_path / "nothing-here")


def test_insert_and_delete(index: LocalHybridIndex) -> None:
    index.insert_nodes([TextNode(text="Llamas hum to their young.", id_="hum")])
    hits = index.search(
        "humming llama", HybridConfig(alpha=0.0, dense_similarity_top_k=0, enable_reranking=False)
    )
    assert _ids(hits)[0] == "hum"
    assert index.delete_nodes(["hum"]) == 1
    hits = index.search("humming llama", HybridConfig(enable_reranking=False))
    assert "hum" not in _ids(hits)
    with pytest.raises(ConfigError, match="unique"):
        index.insert_nodes([TextNode(text="again", id_="hay")])


def test_any_llamaindex_embedding_can_replace_the_default(nodes: list[TextNode]) -> None:
    from llama_index.core.embeddings import MockEmbedding

    index = LocalHybridIndex(nodes, embed_model=MockEmbedding(embed_dim=8))
    assert len(index.search(QUERY, HybridConfig(enable_reranking=False))) >= 1


@pytest.mark.parametrize("query", ["a", "the of and", "zebra unicorn"])
def test_queries_with_no_known_terms_still_get_dense_results(index: LocalHybridIndex, query: str) -> None:
    hits = index.search(query, HybridConfig(enable_reranking=False, top_k=10))
    assert len(hits) == 10  # the dense leg answers; the sparse leg contributes nothing
