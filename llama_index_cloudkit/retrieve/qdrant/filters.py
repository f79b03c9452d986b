"""LlamaIndex MetadataFilters -> a Qdrant Filter, nesting and AND / OR / NOT kept, types checked.

Each group becomes a ``Filter``: AND -> ``must``, OR -> ``should``, NOT -> ``must_not``; a nested
group is a nested ``Filter``. Leaves keep LlamaIndex's meaning (``build_metadata_filter_fn``), so
a Qdrant index and LocalHybridIndex select the same passages:

| operator | Qdrant condition |
|---|---|
| ``==`` / ``!=`` | match (numbers: a one-point range, so 3 matches 3.0); ``!=`` is ``must_not`` |
| ``>`` ``>=`` ``<`` ``<=`` | range (numbers), datetime range (ISO 8601 text) |
| ``in`` / ``nin`` | match any / ``must_not`` match any |
| ``contains`` | on a list: one element matches; on text: substring (``MatchText``) |
| ``any`` / ``all`` | list holds one of / every one of the values |
| ``text_match`` | substring (``MatchText``; keep string fields free of full-text indexes) |
| ``is_empty`` | missing, null, ``[]`` or ``""`` |

A missing key fails every leaf except ``!=`` and ``nin``, as in LlamaIndex. ``key_types`` (the
JSON kinds seen per key at insert time) turns a filter whose value can never match the stored
type into a :class:`ConfigError` instead of an empty result.

Example:
    >>> from llama_index.core.vector_stores import MetadataFilter, MetadataFilters
    >>> f = MetadataFilters(filters=[MetadataFilter(key="year", value=2020, operator=">=")])
    >>> to_qdrant_filter(f, {"year": ["number"]}).must[0].range.gte
    2020.0
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.retrieve.filters import check_leaf

__all__ = ["to_qdrant_filter"]

_RANGE = {
    FilterOperator.GT: "gt",
    FilterOperator.GTE: "gte",
    FilterOperator.LT: "lt",
    FilterOperator.LTE: "lte",
}


def _models() -> Any:
    from qdrant_client import models

    return models


def _values(leaf: MetadataFilter) -> list[Any]:
    value = leaf.value
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _point(key: str, value: Any) -> Any:
    models = _models()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return models.FieldCondition(key=key, range=models.Range(gte=value, lte=value))
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))


def _any_of(key: str, values: list[Any]) -> Any:
    models = _models()
    if all(isinstance(v, str) for v in values) or all(isinstance(v, int) for v in values):
        return models.FieldCondition(key=key, match=models.MatchAny(any=values))
    return models.Filter(should=[_point(key, v) for v in values])


def _is_iso_date(text: str) -> bool:
    """Whether ``text`` is an ISO 8601 date or date-time (Qdrant's DatetimeRange takes those)."""
    try:
        datetime.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _range(leaf: MetadataFilter) -> Any:
    models = _models()
    bound = {_RANGE[leaf.operator]: leaf.value}
    if isinstance(leaf.value, (int, float)):
        return models.FieldCondition(key=leaf.key, range=models.Range(**bound))
    if isinstance(leaf.value, str) and _is_iso_date(leaf.value):
        return models.FieldCondition(key=leaf.key, range=models.DatetimeRange(**bound))
    raise ConfigError(
        f"Qdrant compares {leaf.operator.value!r} on numbers and ISO 8601 dates only, "
        f"not on {leaf.value!r} (key {leaf.key!r})",
        hint="Store the field as a number or an ISO 8601 date, or filter with '==' / 'in'",
    )


def _leaf(leaf: MetadataFilter, stored: set[str]) -> Any:
    models = _models()
    op, key = leaf.operator, leaf.key
    if op == FilterOperator.EQ:
        return _point(key, leaf.value)
    if op == FilterOperator.NE:
        return models.Filter(must_not=[_point(key, leaf.value)])
    if op in _RANGE:
        return _range(leaf)
    if op == FilterOperator.IN:
        return _any_of(key, _values(leaf))
    if op == FilterOperator.NIN:
        return models.Filter(must_not=[_any_of(key, _values(leaf))])
    if op == FilterOperator.ANY:
        return _any_of(key, _values(leaf))
    if op == FilterOperator.ALL:
        return models.Filter(must=[_point(key, v) for v in _values(leaf)])
    if op == FilterOperator.CONTAINS:
        # On a list, "one element equals"; on a string, "substring".
        element = _point(key, leaf.value)
        if not isinstance(leaf.value, str) or (stored and "string" not in stored):
            return element
        text = models.FieldCondition(key=key, match=models.MatchText(text=leaf.value))
        return text if stored == {"string"} else models.Filter(should=[element, text])
    if op == FilterOperator.TEXT_MATCH:
        return models.FieldCondition(key=key, match=models.MatchText(text=leaf.value))
    if op == FilterOperator.IS_EMPTY:
        return models.Filter(
            should=[
                models.IsEmptyCondition(is_empty=models.PayloadField(key=key)),
                models.FieldCondition(key=key, match=models.MatchValue(value="")),
            ]
        )
    raise ConfigError(
        f"The filter operator {op.value!r} has no Qdrant equivalent (key {key!r})",
        hint="Use 'text_match' (case-sensitive) or store a lower-cased copy of the field",
    )


def to_qdrant_filter(
    filters: MetadataFilters | None, key_types: Mapping[str, Iterable[str]] | None = None
) -> Any:
    """A ``qdrant_client.models.Filter`` with the meaning of ``filters`` (None for no filter).

    Args:
        filters: LlamaIndex metadata filters, nested at any depth.
        key_types: the stored kinds per metadata key; a leaf whose value cannot match them
            raises ConfigError.

    Raises:
        ConfigError: a type mismatch, or an operator Qdrant cannot express.

    Example:
        >>> from llama_index.core.vector_stores import MetadataFilter, MetadataFilters
        >>> f = MetadataFilters(filters=[MetadataFilter(key="kind", value="pdf"),
        ...                              MetadataFilter(key="kind", value="docx")], condition="or")
        >>> len(to_qdrant_filter(f).should)
        2
    """
    if filters is None or not filters.filters:
        return None
    return _group(filters, key_types or {})


def _group(filters: MetadataFilters, key_types: Mapping[str, Iterable[str]]) -> Any:
    models = _models()
    conditions: list[Any] = []
    for child in filters.filters:
        if isinstance(child, MetadataFilters):
            conditions.append(_group(child, key_types) if child.filters else models.Filter())
        else:
            check_leaf(child, key_types)
            conditions.append(_leaf(child, set(key_types.get(child.key, ())) - {"null"}))
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.OR:
        return models.Filter(should=conditions)
    if condition == FilterCondition.NOT:
        return models.Filter(must_not=conditions)
    return models.Filter(must=conditions)
