"""The local index never crashes on valid text: each case returns results or a typed error."""

from __future__ import annotations

import pytest
from llama_index.core import Document
from llama_index.core.schema import TextNode

from llama_index_cloudkit import ConfigError, LocalHybridIndex
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding

ALL = HybridConfig(enable_reranking=False, top_k=10)

NO_BM25_TERM = {
    "page numbers only": ["1", "2", "3 4 5"],
    "stop words only": ["the of and", "is it a", "to be or not to be"],
    "emoji only": ["🦙🦙", "📄 ✅", "🙂"],
    "punctuation only": ["...", "— – -", "!!! ???"],
}


@pytest.mark.parametrize("case", list(NO_BM25_TERM))
def test_pages_with_no_bm25_term_are_answered_by_the_dense_leg(case: str, embedder: MiniLMEmbedding) -> None:
    index = LocalHybridIndex.from_documents(
        [Document(text=text) for text in NO_BM25_TERM[case]], embed_model=embedder
    )
    hits = index.as_retriever(alpha=0.4).retrieve("what is on page 3")
    assert len(hits) == len(index)


def test_a_corpus_mixing_empty_and_normal_pages_keeps_both_legs(embedder: MiniLMEmbedding) -> None:
    texts = ["12", "the of", "Llamas eat grass hay every day.", "Shipping takes three days."]
    index = LocalHybridIndex(
        [TextNode(text=t, id_=f"p{i}") for i, t in enumerate(texts)], embed_model=embedder
    )
    sparse_only = index.search(
        "hay", HybridConfig(alpha=0.0, dense_similarity_top_k=0, enable_reranking=False)
    )
    assert [h.node.node_id for h in sparse_only] == ["p2"]
    assert index.search("hay", ALL)[0].node.node_id == "p2"


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_an_empty_query_is_a_config_error(index: LocalHybridIndex, query: str) -> None:
    with pytest.raises(ConfigError, match="query is empty"):
        index.search(query, ALL)


@pytest.mark.parametrize("query", ["?", "🦙", "the", "1"])
def test_a_query_with_no_bm25_term_gets_dense_results(index: LocalHybridIndex, query: str) -> None:
    assert len(index.search(query, ALL)) == 10


@pytest.mark.parametrize("query", ["?", "the", "zebra unicorn"])
def test_alpha_zero_means_bm25_only_even_when_bm25_finds_nothing(index: LocalHybridIndex, query: str) -> None:
    keyword_only = HybridConfig(alpha=0.0, dense_similarity_top_k=5, enable_reranking=False, top_k=5)
    assert index.search(query, keyword_only) == []  # the same meaning on LlamaCloud and Qdrant
    assert len(index.search(query, keyword_only.with_overrides(alpha=0.1))) == 5  # the dense leg answers


def test_a_single_document_index_answers(embedder: MiniLMEmbedding) -> None:
    index = LocalHybridIndex.from_documents([Document(text="Llamas hum.")], embed_model=embedder)
    for alpha in (0.0, 0.5, 1.0):
        hits = index.as_retriever(alpha=alpha).retrieve("do llamas hum")
        assert [h.node.get_content() for h in hits] == ["Llamas hum."]


def test_unicode_text_and_queries(embedder: MiniLMEmbedding) -> None:
    texts = {
        "ja": "ラマは毎日干し草を食べます。",
        "de": "Lamas fressen täglich Heu; Größe und Gewicht variieren.",
        "fr": "Les lamas mangent du foin chaque matin, été comme hiver.",
        "mixed": "Llama 🦙 care: naïve café owners feed hay.",
    }
    index = LocalHybridIndex([TextNode(text=t, id_=k) for k, t in texts.items()], embed_model=embedder)
    assert (
        index.search("Größe Gewicht", HybridConfig(alpha=0.0, enable_reranking=False))[0].node.node_id == "de"
    )
    assert index.search("ラマは毎日干し草を食べます。", HybridConfig(alpha=0.0, enable_reranking=False))
    assert len(index.search("🦙 café", ALL)) == 4


def test_very_long_documents(embedder: MiniLMEmbedding) -> None:
    long_text = " ".join(f"word{i % 5000} llama" for i in range(60_000))
    index = LocalHybridIndex(
        [TextNode(text=long_text, id_="long"), TextNode(text="Shipping takes three days.", id_="ship")],
        embed_model=embedder,
    )
    assert index.search("word4999", HybridConfig(alpha=0.0, enable_reranking=False))[0].node.node_id == "long"
    chunked = LocalHybridIndex.from_documents([Document(text=long_text[:200_000])], embed_model=embedder)
    assert len(chunked) > 10 and len(chunked.search("word42 llama", ALL)) == 10


def test_an_index_of_empty_documents_is_empty_not_broken(embedder: MiniLMEmbedding) -> None:
    index = LocalHybridIndex.from_documents([Document(text="   ")], embed_model=embedder)
    assert len(index) == 0
    assert index.search("anything", ALL) == []


def test_deleting_every_passage_with_a_term_leaves_a_working_index(embedder: MiniLMEmbedding) -> None:
    index = LocalHybridIndex(
        [TextNode(text="Llamas eat hay.", id_="hay"), TextNode(text="12", id_="page")], embed_model=embedder
    )
    index.delete_nodes(["hay"])
    assert [h.node.node_id for h in index.search("hay", ALL)] == ["page"]


def test_the_emulator_answers_over_pages_with_no_bm25_term(fake_llamacloud: object) -> None:
    from llama_index_cloudkit import CloudKitSettings, make_retriever
    from llama_index_cloudkit.retrieve.llamacloud.service import llamacloud_index_from_documents

    pages = [Document(text=text, id_=f"slide-{i}") for i, text in enumerate(["1", "2", "the of and"])]
    index = llamacloud_index_from_documents(pages, "slides", CloudKitSettings())
    hits = make_retriever(index, dense_similarity_top_k=3, sparse_similarity_top_k=3, top_k=3).retrieve(
        "page two"
    )
    assert hits
