"""HybridConfig validation, LlamaCloud mapping, and the presets."""

from __future__ import annotations

import pytest
from llama_index.core.vector_stores import MetadataFilter, MetadataFilters
from pydantic import ValidationError

from llama_index_cloudkit import ConfigError
from llama_index_cloudkit.presets import RetrievalPreset
from llama_index_cloudkit.retrieve.config import HybridConfig


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
    kwargs = config.to_llamacloud_kwargs()
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
    sent = HybridConfig(filters=nested).to_llamacloud_kwargs()["filters"]
    assert isinstance(sent.filters[1], MetadataFilters) and sent.filters[1].condition == "or"


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
