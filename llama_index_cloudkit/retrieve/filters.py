"""MetadataFilters evaluation with nesting (AND / OR / NOT at every level).

Leaf operators use LlamaIndex's own semantics (``build_metadata_filter_fn``); this module only
adds the nesting that LlamaIndex's in-memory stores refuse.

Example:
    >>> from llama_index.core.vector_stores import MetadataFilter, MetadataFilters
    >>> f = MetadataFilters(filters=[
    ...     MetadataFilter(key="year", value=2020, operator=">="),
    ...     MetadataFilters(filters=[MetadataFilter(key="kind", value="pdf"),
    ...                              MetadataFilter(key="kind", value="docx")], condition="or"),
    ... ])
    >>> matches({"year": 2021, "kind": "docx"}, f), matches({"year": 2019, "kind": "pdf"}, f)
    (True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llama_index.core.vector_stores.types import (
    FilterCondition,
    MetadataFilter,
    MetadataFilters,
)
from llama_index.core.vector_stores.utils import build_metadata_filter_fn

__all__ = ["matches"]


def _leaf(metadata: Mapping[str, Any], leaf: MetadataFilter) -> bool:
    try:
        return build_metadata_filter_fn(lambda _: metadata, MetadataFilters(filters=[leaf]))("")
    except TypeError:
        return False  # a value of another type (for example a number against a text match)


def matches(metadata: Mapping[str, Any], filters: MetadataFilters | None) -> bool:
    """Whether ``metadata`` passes ``filters`` (None or empty filters pass everything)."""
    if filters is None or not filters.filters:
        return True
    results = (
        matches(metadata, child) if isinstance(child, MetadataFilters) else _leaf(metadata, child)
        for child in filters.filters
    )
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.OR:
        return any(results)
    if condition == FilterCondition.NOT:
        return not any(results)
    return all(results)
