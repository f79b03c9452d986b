"""LlamaIndex MetadataFilters -> one SQL condition on PGVectorStore's ``metadata_`` (JSONB) column.

Nesting and AND / OR / NOT are kept at every depth (``PGVectorStore`` itself refuses NOT and
writes values into the SQL text); every value is a bound parameter. Leaves keep LlamaIndex's
meaning (``build_metadata_filter_fn``), so a PostgreSQL index and LocalHybridIndex select the
same passages:

| operator | SQL on ``m = metadata_ -> key`` |
|---|---|
| ``==`` / ``!=`` | JSONB equality (numbers by value: 3 matches 3.0); ``!=`` also passes a missing key |
| ``>`` ``>=`` ``<`` ``<=`` | numbers as numeric, text in code-point order (``COLLATE "C"``) |
| ``in`` / ``nin`` | one of the values / none of them (``nin`` passes a missing key) |
| ``contains`` | on a list: one element equals; on text: substring |
| ``any`` / ``all`` | the list holds one of / every one of the values |
| ``text_match`` / ``text_match_insensitive`` | substring / substring ignoring case |
| ``is_empty`` | missing, null, ``[]`` or ``""`` |

``key_types`` (the JSON kinds seen per key at insert time, kept with the table) turns a filter
whose value can never match the stored type into a :class:`ConfigError` instead of an empty
result, as on the Qdrant index.

Example:
    >>> from llama_index.core.vector_stores import MetadataFilter, MetadataFilters
    >>> from sqlalchemy import column
    >>> from sqlalchemy.dialects.postgresql import JSONB
    >>> f = MetadataFilters(filters=[MetadataFilter(key="year", value=2020, operator=">=")])
    >>> "AS NUMERIC" in str(to_sql_filter(f, column("metadata_", JSONB), {"year": ["number"]}))
    True
"""

from __future__ import annotations

import json
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

__all__ = ["to_sql_filter"]

_ORDER = {
    FilterOperator.GT: "__gt__",
    FilterOperator.GTE: "__ge__",
    FilterOperator.LT: "__lt__",
    FilterOperator.LTE: "__le__",
}


def _sa() -> Any:
    import sqlalchemy

    return sqlalchemy


def _values(leaf: MetadataFilter) -> list[Any]:
    value = leaf.value
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _json(value: Any) -> Any:
    sa = _sa()
    from sqlalchemy.dialects.postgresql import JSONB

    return sa.cast(sa.literal(json.dumps(value), sa.Text), JSONB)


def _typed(field: Any, kind: str) -> Any:
    return _sa().func.jsonb_typeof(field) == kind


def _holds(field: Any, element: Any) -> Any:
    """A JSON list that has ``element`` as one of its elements."""
    return _sa().and_(_typed(field, "array"), field.op("@>")(_json([element])))


def _substring(text: Any, value: str, *, fold: bool = False) -> Any:
    sa = _sa()
    if fold:
        text, value = sa.func.lower(text), value.lower()
    return sa.func.strpos(text, sa.literal(value, sa.Text)) > 0


def _order(field: Any, text: Any, leaf: MetadataFilter) -> Any:
    sa = _sa()
    method = _ORDER[leaf.operator]
    value = leaf.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = sa.cast(text, sa.Numeric)
        return sa.and_(_typed(field, "number"), getattr(number, method)(sa.literal(value, sa.Numeric)))
    if isinstance(value, str):
        ordered = text.collate("C")
        return sa.and_(_typed(field, "string"), getattr(ordered, method)(sa.literal(value, sa.Text)))
    raise ConfigError(
        f"PostgreSQL compares {leaf.operator.value!r} on numbers and text only, not on {value!r} "
        f"(key {leaf.key!r})",
        hint="Store the field as a number or text, or filter with '==' / 'in'",
    )


def _leaf(column: Any, leaf: MetadataFilter) -> Any:
    sa = _sa()
    op, key = leaf.operator, leaf.key
    field = column.op("->")(sa.literal(key, sa.Text))
    text = column.op("->>")(sa.literal(key, sa.Text))
    present = sa.and_(field.isnot(None), _sa().func.jsonb_typeof(field) != "null")
    if op == FilterOperator.EQ:
        return field == _json(leaf.value)
    if op == FilterOperator.NE:
        return sa.not_(sa.func.coalesce(field == _json(leaf.value), False))
    if op in _ORDER:
        return _order(field, text, leaf)
    if op == FilterOperator.IN:
        return sa.or_(sa.false(), *(field == _json(v) for v in _values(leaf)))
    if op == FilterOperator.NIN:
        return sa.not_(
            sa.func.coalesce(sa.or_(sa.false(), *(field == _json(v) for v in _values(leaf))), False)
        )
    if op == FilterOperator.ANY:
        return sa.or_(sa.false(), *(_holds(field, v) for v in _values(leaf)))
    if op == FilterOperator.ALL:
        return sa.and_(present, *(_holds(field, v) for v in _values(leaf)))
    if op == FilterOperator.CONTAINS:
        element = _holds(field, leaf.value)
        if not isinstance(leaf.value, str):
            return element
        return sa.or_(element, sa.and_(_typed(field, "string"), _substring(text, leaf.value)))
    if op in (FilterOperator.TEXT_MATCH, FilterOperator.TEXT_MATCH_INSENSITIVE):
        if not isinstance(leaf.value, str):
            raise ConfigError(f"{op.value!r} needs a text value (key {key!r})")
        fold = op == FilterOperator.TEXT_MATCH_INSENSITIVE
        return sa.and_(_typed(field, "string"), _substring(text, leaf.value, fold=fold))
    if op == FilterOperator.IS_EMPTY:
        return sa.or_(field.is_(None), field.in_([_json(None), _json([]), _json("")]))
    raise ConfigError(f"The filter operator {op.value!r} has no PostgreSQL mapping (key {key!r})")


def to_sql_filter(
    filters: MetadataFilters | None, column: Any, key_types: Mapping[str, Iterable[str]] | None = None
) -> Any:
    """A SQLAlchemy condition on ``column`` (JSONB) with the meaning of ``filters`` (None: no filter).

    Args:
        filters: LlamaIndex metadata filters, nested at any depth.
        column: the JSONB metadata column (PGVectorStore's ``metadata_``).
        key_types: the stored kinds per metadata key; a leaf whose value cannot match them
            raises ConfigError.

    Raises:
        ConfigError: a type mismatch, or an operator with no mapping.

    Example:
        >>> from sqlalchemy import column
        >>> from sqlalchemy.dialects.postgresql import JSONB
        >>> to_sql_filter(None, column("metadata_", JSONB)) is None
        True
    """
    if filters is None or not filters.filters:
        return None
    return _group(filters, column, key_types or {})


def _group(filters: MetadataFilters, column: Any, key_types: Mapping[str, Iterable[str]]) -> Any:
    sa = _sa()
    conditions: list[Any] = []
    for child in filters.filters:
        if isinstance(child, MetadataFilters):
            conditions.append(_group(child, column, key_types) if child.filters else sa.true())
        else:
            check_leaf(child, key_types)
            conditions.append(_leaf(column, child))
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.OR:
        return sa.or_(sa.false(), *conditions)
    if condition == FilterCondition.NOT:
        return sa.not_(sa.or_(sa.false(), *conditions))
    return sa.and_(sa.true(), *conditions)
