"""MetadataFilters as Index v2 ``custom_filters``, with the same meaning or not at all.

Index v2 filters are one condition per field, all of which must hold (``{field: {operator,
value}}``, or a list of range bounds). :func:`v2_custom_filters` keeps the meaning of AND / OR
groups and their nesting where v2 can say it exactly: an AND group merges its fields, an OR group
over one field (``==`` / ``in``) becomes ``in`` with every value, NOT of one condition flips it
(``==`` to ``!=``, ``in`` to ``nin``), and bounds on one field become a range. Anything else (an
OR across fields, text match, ``contains``) would change the answer, so it is refused with a
ConfigError before any request, never flattened.

Example:
    >>> v2_custom_filters(MetadataFilters(filters=[MetadataFilter(key="year", value=2020)]))
    {'year': {'operator': 'eq', 'value': 2020}}
"""

from __future__ import annotations

from typing import Any

from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from llama_index_cloudkit.errors import ConfigError

__all__ = ["v2_custom_filters"]

_OPERATORS = {
    FilterOperator.EQ: "eq",
    FilterOperator.NE: "ne",
    FilterOperator.GT: "gt",
    FilterOperator.GTE: "gte",
    FilterOperator.LT: "lt",
    FilterOperator.LTE: "lte",
    FilterOperator.IN: "in",
    FilterOperator.NIN: "nin",
}
_RANGE = {"gt", "gte", "lt", "lte"}
_NEGATED = {"eq": "ne", "ne": "eq", "in": "nin", "nin": "in"}


def _refuse(what: str) -> ConfigError:
    return ConfigError(
        f"Index v2 filters cannot express {what}",
        hint="Index v2 takes one condition per field, all of which must hold (an OR over one "
        "field's values works); use the v1 API for this filter (CLOUDKIT_API_VERSION=v1), or split the query",
    )


_Constraint = dict[str, Any]


def _leaf(leaf: MetadataFilter, negate: bool) -> tuple[str, _Constraint]:
    operator = _OPERATORS.get(FilterOperator(leaf.operator))
    if operator is None:
        raise _refuse(f"the operator {FilterOperator(leaf.operator).value!r} (on {leaf.key!r})")
    if negate:
        if operator not in _NEGATED:
            raise _refuse(f"NOT of a range ({leaf.key!r} {operator})")
        operator = _NEGATED[operator]
    value = list(leaf.value) if isinstance(leaf.value, (list, tuple)) else leaf.value
    return leaf.key, {"operator": operator, "value": value}


def _merge(into: dict[str, list[_Constraint]], key: str, constraint: _Constraint) -> None:
    into.setdefault(key, []).append(constraint)


def _any_of(group: MetadataFilters) -> tuple[str, _Constraint]:
    """An OR group over one field's values: ``in`` with all of them."""
    keys: set[str] = set()
    values: list[Any] = []
    for child in group.filters:
        if isinstance(child, MetadataFilters):
            if child.condition == FilterCondition.OR or len(child.filters) == 1:
                key, constraint = _any_of(child) if child.condition == FilterCondition.OR else _one(child)
            else:
                raise _refuse("an AND group inside an OR group")
        else:
            key, constraint = _leaf(child, negate=False)
        if constraint["operator"] not in ("eq", "in"):
            raise _refuse(f"an OR of {constraint['operator']!r} conditions (on {key!r})")
        keys.add(key)
        new = constraint["value"] if constraint["operator"] == "in" else [constraint["value"]]
        values.extend(v for v in new if v not in values)
    if len(keys) != 1:
        raise _refuse(f"an OR across fields ({', '.join(sorted(keys))})")
    return keys.pop(), {"operator": "in", "value": values}


def _one(group: MetadataFilters) -> tuple[str, _Constraint]:
    collected = _all_of(group)
    if len(collected) != 1 or len(next(iter(collected.values()))) != 1:
        raise _refuse("this nested group")
    key, constraints = next(iter(collected.items()))
    return key, constraints[0]


def _all_of(group: MetadataFilters) -> dict[str, list[_Constraint]]:
    """Every field's conditions, for a group whose children must all hold (AND, or NOT of one)."""
    collected: dict[str, list[_Constraint]] = {}
    condition = group.condition or FilterCondition.AND
    if condition == FilterCondition.OR:
        key, constraint = _any_of(group)
        return {key: [constraint]}
    negate = condition == FilterCondition.NOT
    if negate and len(group.filters) != 1:
        raise _refuse("NOT of several conditions")
    for child in group.filters:
        if isinstance(child, MetadataFilters):
            if negate:
                key, constraint = _one(child)
                if constraint["operator"] not in _NEGATED:
                    raise _refuse(f"NOT of a range (on {key!r})")
                _merge(collected, key, {**constraint, "operator": _NEGATED[constraint["operator"]]})
                continue
            for key, constraints in _all_of(child).items():
                for constraint in constraints:
                    _merge(collected, key, constraint)
        else:
            key, constraint = _leaf(child, negate)
            _merge(collected, key, constraint)
    return collected


def v2_custom_filters(filters: MetadataFilters) -> dict[str, Any]:
    """MetadataFilters as Index v2 ``custom_filters``, with the same meaning (see the module).

    Raises:
        ConfigError: a filter whose meaning v2 cannot express (nothing is sent).

    Example:
        >>> f = MetadataFilters(filters=[
        ...     MetadataFilter(key="year", value=2020, operator=">="),
        ...     MetadataFilters(filters=[MetadataFilter(key="section", value="care"),
        ...                              MetadataFilter(key="section", value="faq")], condition="or"),
        ... ])
        >>> v2_custom_filters(f)
        {'year': {'operator': 'gte', 'value': 2020}, 'section': {'operator': 'in', 'value': ['care', 'faq']}}
    """
    out: dict[str, Any] = {}
    for key, constraints in _all_of(filters).items():
        if len(constraints) == 1:
            out[key] = constraints[0]
        elif all(c["operator"] in _RANGE for c in constraints):
            out[key] = constraints
        else:
            raise _refuse(
                f"several conditions on {key!r} ("
                + ", ".join(str(c["operator"]) for c in constraints)
                + ") other than range bounds"
            )
    return out
