"""HybridConfig validation, LlamaCloud mapping, and the presets."""

from __future__ import annotations

import pytest
from llama_index.core.vector_stores import MetadataFilter, MetadataFilters
from pydantic import ValidationError

from llama_index_cloudkit import ConfigError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.llamacloud.index_v1 import retrieve_body
from llama_index_cloudkit.retrieve.llamacloud.index_v2 import v2_retrieve_body
from llama_index_cloudkit.retrieve.presets import RetrievalPreset


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"alpha": 1.5}, "alpha"),
        ({"alpha": -0.1}, "alpha"),
        ({"dense_similarity_top_k": -1}, "dense_similarity_top_k"),
        ({"dense_similarity_top_k": 2, "sparse_similarity_top_k": 2, "rerank_top_n": 5}, "rerank_top_n"),
        ({"retrieval_mode": "everything"}, "retrieval_mode"),
        ({"dense_similarity_top_k": 0, "alpha": 0.5}, "dense_similarity_top_k"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_values_fail_naming_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        HybridConfig(**kwargs)


def test_llamacloud_mapping_sends_zero_and_false_explicitly() -> None:
    config = HybridConfig(alpha=0.0, dense_similarity_top_k=0, enable_reranking=False)
    kwargs = retrieve_body("hay", config)
    assert kwargs["alpha"] == 0.0
    assert kwargs["dense_similarity_top_k"] == 0
    assert kwargs["enable_reranking"] is False


def test_nested_filters_are_kept() -> None:
    nested = MetadataFilters(
        filters=[
            MetadataFilter(key="a", value=1),
            MetadataFilters(
                filters=[MetadataFilter(key="b", value=2), MetadataFilter(key="c", value=3)], condition="or"
            ),
        ]
    )
    sent = retrieve_body("hay", HybridConfig(filters=nested))["search_filters"]
    assert sent["filters"][1]["condition"] == "or" and len(sent["filters"][1]["filters"]) == 2


def test_every_preset_is_valid_and_balanced_is_the_tuned_one() -> None:
    configs = {p.value: p.config() for p in RetrievalPreset}
    assert set(configs) >= {"balanced", "semantic", "keyword", "fast", "deep"}
    assert configs["balanced"].alpha == 0.4
    assert configs["semantic"].alpha > configs["balanced"].alpha > configs["keyword"].alpha


def test_overrides_win_and_are_validated() -> None:
    assert RetrievalPreset.BALANCED.config(alpha=0.9).alpha == 0.9
    with pytest.raises(ValidationError):
        RetrievalPreset.BALANCED.config(alpha=9)
    with pytest.raises(ConfigError, match="balanced"):
        RetrievalPreset.from_name("best")


def test_one_count_given_alone_sets_both() -> None:
    assert HybridConfig(top_k=3).rerank_top_n == 3
    assert HybridConfig(rerank_top_n=4).top_k == 4
    both = HybridConfig(top_k=8, rerank_top_n=3)
    assert (both.final_top_k, both.with_overrides(enable_reranking=False).final_top_k) == (3, 8)


@pytest.mark.parametrize("preset", [p.value for p in RetrievalPreset])
def test_a_count_override_wins_on_every_preset_and_widens_small_legs(preset: str) -> None:
    for name in ("top_k", "rerank_top_n"):
        config = RetrievalPreset.from_name(preset).config(**{name: 60})
        assert config.final_top_k == 60
        assert min(config.dense_similarity_top_k, config.sparse_similarity_top_k) >= 60
    assert RetrievalPreset.from_name(preset).config(top_k=None) == RetrievalPreset.from_name(preset).config()


def test_every_preset_documents_its_final_count() -> None:
    counts = {p.value: p.config().final_top_k for p in RetrievalPreset}
    assert counts == {"balanced": 10, "semantic": 10, "keyword": 10, "fast": 10, "deep": 20}
    assert all(p.config().top_k == p.config().rerank_top_n for p in RetrievalPreset)


def test_llamacloud_v1_sends_the_final_count_as_rerank_top_n() -> None:
    fast = RetrievalPreset.FAST.config(top_k=3)
    assert retrieve_body("hay", fast)["rerank_top_n"] == 3
    assert retrieve_body("hay", fast)["enable_reranking"] is False


def test_llamacloud_v2_mapping_expresses_the_same_count() -> None:
    on = v2_retrieve_body("hay", "idx-1", RetrievalPreset.BALANCED.config())
    assert on["rerank"] == {"enabled": True, "top_n": 10} and on["top_k"] == 50
    assert (on["vector_pipeline_weight"], on["full_text_pipeline_weight"]) == (0.4, 0.6)
    off = v2_retrieve_body("hay", "idx-1", RetrievalPreset.FAST.config(top_k=7))
    assert off["rerank"] == {"enabled": False} and off["top_k"] == 7
    deep = RetrievalPreset.DEEP.config(top_k=900, rerank_top_n=900)
    assert v2_retrieve_body("hay", "idx-1", deep)["top_k"] == 500
