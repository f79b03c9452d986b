"""Metadata filters: a value of another type than the stored one is a ConfigError, not silence."""

from __future__ import annotations

import pytest
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

from llama_index_cloudkit import ConfigError, LocalHybridIndex
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.filters import matches

QUERY = "llama care"


def _only(key: str, value: object, operator: str = "==") -> HybridConfig:
    return HybridConfig(
        filters=MetadataFilters(filters=[MetadataFilter(key=key, value=value, operator=operator)]),
        enable_reranking=False,
        top_k=10,
    )


def test_a_year_filtered_as_text_names_the_key_and_both_types(index: LocalHybridIndex) -> None:
    with pytest.raises(ConfigError) as info:
        index.search(QUERY, _only("year", "2021"))
    message = str(info.value)
    assert "'year'" in message and "str" in message and "int" in message


def test_a_section_filtered_as_a_number_is_refused(index: LocalHybridIndex) -> None:
    with pytest.raises(ConfigError, match=r"'section'.*int.*str"):
        index.search(QUERY, _only("section", 3))


def test_in_with_values_of_another_type_is_refused(index: LocalHybridIndex) -> None:
    with pytest.raises(ConfigError, match="'year'"):
        index.search(QUERY, _only("year", ["2021", "2022"], "in"))


def test_a_mismatch_inside_a_nested_or_group_is_found(index: LocalHybridIndex) -> None:
    nested = MetadataFilters(
        filters=[
            MetadataFilter(key="section", value="care"),
            MetadataFilters(
                filters=[
                    MetadataFilter(key="year", value="2021"),
                    MetadataFilter(key="section", value="faq"),
                ],
                condition="or",
            ),
        ]
    )
    with pytest.raises(ConfigError, match="'year'"):
        index.search(QUERY, HybridConfig(filters=nested, enable_reranking=False))


def test_matching_types_filter_as_before(index: LocalHybridIndex) -> None:
    hits = index.search(QUERY, _only("year", 2020.0, ">="))  # int and float compare
    assert hits and all(h.node.metadata["year"] >= 2020 for h in hits)
    assert {h.node.metadata["section"] for h in index.search(QUERY, _only("section", ["faq"], "in"))} == {
        "faq"
    }


def test_a_key_missing_from_some_passages_is_no_mismatch() -> None:
    filters = MetadataFilters(filters=[MetadataFilter(key="lang", value="en")])
    assert matches({"lang": "en"}, filters)
    assert not matches({"other": 1}, filters)


def test_list_metadata_with_contains_and_any() -> None:
    tags = {"tags": ["care", "food"]}
    contains = MetadataFilters(
        filters=[MetadataFilter(key="tags", value="food", operator=FilterOperator.CONTAINS)]
    )
    any_of = MetadataFilters(
        filters=[MetadataFilter(key="tags", value=["x", "care"], operator=FilterOperator.ANY)]
    )
    assert matches(tags, contains) and matches(tags, any_of)
    with pytest.raises(ConfigError, match="'tags'"):
        matches(
            tags,
            MetadataFilters(filters=[MetadataFilter(key="tags", value=3, operator=FilterOperator.CONTAINS)]),
        )
    with pytest.raises(ConfigError, match="'section'"):
        matches(
            {"section": "care"},
            MetadataFilters(
                filters=[MetadataFilter(key="section", value=["care"], operator=FilterOperator.ANY)]
            ),
        )
