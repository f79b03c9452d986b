"""MetadataFilters evaluation with nesting (AND / OR / NOT at every level) and type checks.

Leaf operators use LlamaIndex's own semantics (``build_metadata_filter_fn``); this module adds
the nesting that LlamaIndex's in-memory stores refuse, and refuses a comparison between values
of different types (a year stored as ``2021`` filtered with ``"2021"``), which would otherwise
match nothing without a word.

Example:
    >>> from llama_index.core.vector_stores import MetadataFilter, MetadataFilters
    >>> f = MetadataFilters(filters=[
    ...     MetadataFilter(key="year", value=2020, operator=">="),
    ...     MetadataFilters(filters=[MetadataFilter(key="kind", value="pdf"),
    ...                              MetadataFilter(key="kind", value="docx")], condition="or"),
    ... ])
    >>> matches({"year": 2021, "kind": "docx"}, f), matches({"year": 2019, "kind": "pdf"}, f)
    (True, False)
    >>> matches({"year": 2021}, MetadataFilters(filters=[MetadataFilter(key="year", value="2021")]))
    Traceback (most recent call last):
    ...
    llama_index_cloudkit.errors.ConfigError: The metadata filter on 'year' compares ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)
from llama_index.core.vector_stores.utils import build_metadata_filter_fn

from llama_index_cloudkit.errors import ConfigError

__all__ = ["check_leaf", "kind_of", "matches", "merge_key_types"]

_SCALAR_OPERATORS = {
    FilterOperator.EQ,
    FilterOperator.NE,
    FilterOperator.GT,
    FilterOperator.GTE,
    FilterOperator.LT,
    FilterOperator.LTE,
}
_MEMBER_OPERATORS = {FilterOperator.IN, FilterOperator.NIN}
_LIST_OPERATORS = {FilterOperator.ANY, FilterOperator.ALL}
_TEXT_OPERATORS = {FilterOperator.TEXT_MATCH, FilterOperator.TEXT_MATCH_INSENSITIVE}


def _kind(value: Any) -> str:
    """A comparable kind: ``number`` (int and float alike), ``str``, ``bool`` or ``list``."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def _type_name(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        inner = sorted({type(v).__name__ for v in value})
        return f"list[{' | '.join(inner)}]" if inner else "list"
    return type(value).__name__


def _element_kinds(values: Any) -> set[str]:
    return {_kind(v) for v in values} if isinstance(values, (list, tuple)) else {_kind(values)}


def _compatible(leaf: MetadataFilter, stored: Any) -> bool:
    operator, value = leaf.operator, leaf.value
    if operator == FilterOperator.IS_EMPTY or value is None:
        return True
    if operator in _SCALAR_OPERATORS:
        return _kind(stored) == _kind(value)
    if operator in _MEMBER_OPERATORS:
        wanted = _element_kinds(value)
        return _kind(stored) != "list" and (not wanted or _kind(stored) in wanted)
    if operator in _LIST_OPERATORS:
        if _kind(stored) != "list":
            return False
        return not stored or not value or bool(_element_kinds(stored) & _element_kinds(value))
    if operator == FilterOperator.CONTAINS:
        if isinstance(stored, str):
            return isinstance(value, str)
        return _kind(stored) == "list" and (not stored or _kind(value) in _element_kinds(stored))
    if operator in _TEXT_OPERATORS:
        return isinstance(stored, str) and isinstance(value, str)
    return True


def _check_types(metadata: Mapping[str, Any], leaf: MetadataFilter) -> None:
    """Raise ConfigError when ``leaf`` compares ``metadata[leaf.key]`` with a value of another type.

    A missing key or a stored None is no mismatch (it simply does not match).

    Raises:
        ConfigError: names the key, the stored type, the filter's type and its operator.
    """
    stored = metadata.get(leaf.key)
    if stored is None or _compatible(leaf, stored):
        return
    operator = getattr(leaf.operator, "value", leaf.operator)
    raise ConfigError(
        f"The metadata filter on {leaf.key!r} compares {_type_name(leaf.value)} "
        f"{leaf.value!r} (operator {operator}) with stored {_type_name(stored)} values "
        f"such as {stored!r}",
        hint=f"Give the filter a value of the stored type ({_type_name(stored)}), "
        "or store the metadata with the type you filter by",
    )


def _leaf(metadata: Mapping[str, Any], leaf: MetadataFilter) -> bool:
    _check_types(metadata, leaf)
    try:
        return build_metadata_filter_fn(lambda _: metadata, MetadataFilters(filters=[leaf]))("")
    except TypeError as exc:  # a combination the type check lets through but Python cannot order
        raise ConfigError(
            f"The metadata filter on {leaf.key!r} cannot compare {_type_name(leaf.value)} with "
            f"stored {_type_name(metadata.get(leaf.key))}: {exc}",
            hint="Give the filter a value of the stored type",
        ) from exc


def matches(metadata: Mapping[str, Any], filters: MetadataFilters | None) -> bool:
    """Whether ``metadata`` passes ``filters`` (None or empty filters pass everything).

    Example:
        >>> matches({"kind": "pdf"}, MetadataFilters(filters=[MetadataFilter(key="kind", value="pdf")]))
        True

    Raises:
        ConfigError: a leaf compares values of different types (named in the message).
    """
    if filters is None or not filters.filters:
        return True
    condition = filters.condition or FilterCondition.AND
    results = [
        matches(metadata, child) if isinstance(child, MetadataFilters) else _leaf(metadata, child)
        for child in filters.filters
    ]
    if condition == FilterCondition.OR:
        return any(results)
    if condition == FilterCondition.NOT:
        return not any(results)
    return all(results)


def kind_of(value: Any) -> str:
    """The JSON kind of a metadata value: bool, number, string, list, object or null.

    Example:
        >>> kind_of(2020), kind_of("2020"), kind_of(None)
        ('number', 'string', 'null')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    return "object"


def merge_key_types(
    known: Mapping[str, Iterable[str]], metadatas: Iterable[Mapping[str, Any]]
) -> dict[str, list[str]]:
    """``known`` with the kinds of every key in ``metadatas`` added (sorted, for stable storage).

    Example:
        >>> merge_key_types({"year": ["number"]}, [{"year": "2020", "kind": "pdf"}])
        {'year': ['number', 'string'], 'kind': ['string']}
    """
    merged = {key: set(kinds) for key, kinds in known.items()}
    for metadata in metadatas:
        for key, value in metadata.items():
            merged.setdefault(key, set()).add(kind_of(value))
    return {key: sorted(kinds) for key, kinds in merged.items()}


def _leaf_values(leaf: MetadataFilter) -> list[Any]:
    value = leaf.value
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _mismatch(leaf: MetadataFilter, stored: set[str], given: str) -> ConfigError:
    return ConfigError(
        f"The filter on {leaf.key!r} ({leaf.operator.value}) compares a {given} with stored "
        f"{' / '.join(sorted(stored))} values, so it can never match",
        hint=f"Give {leaf.key!r} a value of the stored type, or another operator",
    )


def check_leaf(leaf: MetadataFilter, key_types: Mapping[str, Iterable[str]]) -> None:
    """Raise ConfigError when ``leaf``'s value can never match the kinds stored under its key.

    Example:
        >>> check_leaf(MetadataFilter(key="year", value=2021), {"year": ["number"]})
        >>> check_leaf(MetadataFilter(key="year", value="2021"), {"year": ["number"]})
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: The filter on 'year' (==) compares a string ...
    """
    stored = set(key_types.get(leaf.key, ())) - {"null"}
    op = leaf.operator
    if not stored or op == FilterOperator.IS_EMPTY:
        return  # an unknown key matches nothing; no type to compare with
    if op in (FilterOperator.ANY, FilterOperator.ALL):
        if "list" not in stored:
            raise _mismatch(leaf, stored, "list")
        return
    if op == FilterOperator.CONTAINS:
        if "list" in stored or ("string" in stored and isinstance(leaf.value, str)):
            return
        raise _mismatch(leaf, stored, kind_of(leaf.value))
    if op in (FilterOperator.TEXT_MATCH, FilterOperator.TEXT_MATCH_INSENSITIVE):
        if "string" not in stored or not isinstance(leaf.value, str):
            raise _mismatch(leaf, stored, kind_of(leaf.value))
        return
    for value in _leaf_values(leaf):
        given = kind_of(value)
        if given not in stored:
            if stored == {"list"}:
                raise ConfigError(
                    f"{leaf.key!r} holds lists, and {op.value!r} compares whole values",
                    hint="Use the 'contains', 'any' or 'all' operator on list fields",
                )
            raise _mismatch(leaf, stored, given)
