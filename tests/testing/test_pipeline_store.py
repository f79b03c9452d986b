"""The emulator's pipeline store without HTTP: retrieval that never fails on odd corpora."""

from __future__ import annotations

from typing import Any

import pytest

from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
from llama_index_cloudkit.testing.v1.pipelines import PipelineStore

DOCS = {"d1": ("1 2 3", {"k": "a"}), "d2": ("4 5", {"k": "b"}), "d3": ("3 9", {"k": "b"})}


@pytest.fixture()
def store() -> PipelineStore:
    return PipelineStore()


def _pipeline(store: PipelineStore, texts: dict[str, tuple[str, dict[str, Any]]]) -> str:
    pipe = store.upsert_pipeline("p", "proj")
    store.upsert_documents(pipe["id"], [{"id": k, "text": t, "metadata": m} for k, (t, m) in texts.items()])
    return str(pipe["id"])


def _ref(hit: dict[str, Any]) -> str:
    return str(hit["node"]["relationships"]["1"]["node_id"])


def test_digits_only_corpus_answers(store: PipelineStore) -> None:
    pipe = _pipeline(store, {"a": ("1", {}), "b": ("2", {}), "c": ("0.5 1,2", {})})
    hits = store.retrieve(pipe, {"query": "1"})["retrieval_nodes"]
    assert {_ref(h) for h in hits} <= {"a", "b", "c"}


@pytest.fixture()
def broken_local_index(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: Any, **kwargs: Any) -> LocalHybridIndex:
        raise ValueError("max() arg is an empty sequence")  # what bm25s raised on digits

    monkeypatch.setattr(LocalHybridIndex, "from_documents", crash)


@pytest.mark.usefixtures("broken_local_index")
def test_a_local_index_crash_falls_back_to_overlap_ranking(
    store: PipelineStore, caplog: pytest.LogCaptureFixture
) -> None:
    pipe = _pipeline(store, DOCS)
    body = {"query": "3", "dense_similarity_top_k": 2, "sparse_similarity_top_k": 2, "rerank_top_n": 2}
    hits = store.retrieve(pipe, body)["retrieval_nodes"]
    assert [_ref(h) for h in hits] == ["d1", "d3"]
    assert "ranking by query-word overlap" in caplog.text


@pytest.mark.usefixtures("broken_local_index")
def test_overlap_fallback_honours_filters_and_rerank_cut(store: PipelineStore) -> None:
    pipe = _pipeline(store, DOCS)
    body = {
        "query": "3",
        "search_filters": {"filters": [{"key": "k", "value": "b", "operator": "=="}]},
        "enable_reranking": True,
        "rerank_top_n": 1,
    }
    hits = store.retrieve(pipe, body)["retrieval_nodes"]
    assert [(_ref(h), h["node"]["extra_info"]["k"]) for h in hits] == [("d3", "b")]
