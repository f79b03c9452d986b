"""Index v2 retrieval (LlamaCloud's current API) as plain HTTP over the cloud core.

One ``POST /api/v1/retrieval/retrieve`` per query, with exactly the HybridConfig's parameters
(reference/llamacloud-api-v2.md, section 4):

| HybridConfig | Index v2 body |
|---|---|
| ``alpha`` | ``vector_pipeline_weight = alpha``, ``full_text_pipeline_weight = 1 - alpha`` |
| ``enable_reranking``, ``rerank_top_n`` | ``rerank: {enabled, top_n}`` (``{enabled: false}`` off) |
| final count | ``top_k``: the candidate pool with reranking on, the final count with it off |
| ``score_threshold`` (retriever argument) | ``score_threshold`` |
| ``filters`` | ``custom_filters`` (see :func:`v2_custom_filters`) |

0, 0.0 and False are sent as given, never dropped (the current SDK's retriever drops them).

Index v2 filters are one condition per field, all of which must hold (``{field: {operator,
value}}``, or a list of range bounds). :func:`v2_custom_filters` keeps the meaning of AND / OR
groups and their nesting where v2 can say it exactly: an AND group merges its fields, an OR group
over one field (``==`` / ``in``) becomes ``in`` with every value, NOT of one condition flips it
(``==`` to ``!=``, ``in`` to ``nin``), and bounds on one field become a range. Anything else (an
OR across fields, text match, ``contains``) would change the answer, so it is refused with a
ConfigError before any request, never flattened.

An index is named by its name or its id: ``GET /api/v1/indexes`` (cursor pages) is read until
one matches. Results have no node id in v2; it is derived from ``parsed_directory_file_id`` and
``chunk_index`` (or the text), so the same passage has the same id across calls.

Example:
    >>> from llama_index_cloudkit.retrieve.config import HybridConfig
    >>> body = v2_retrieve_body("hay", "idx-1", HybridConfig(alpha=0.0, enable_reranking=False, top_k=3))
    >>> body["vector_pipeline_weight"], body["full_text_pipeline_weight"], body["rerank"], body["top_k"]
    (0.0, 1.0, {'enabled': False}, 3)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession, run_in_session
from llama_index_cloudkit.errors import ConfigError, ServiceError
from llama_index_cloudkit.retrieve.cloud_index import about_index
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = [
    "LlamaCloudV2IndexRef",
    "LlamaCloudV2Retriever",
    "aresolve_v2_index",
    "resolve_v2_index",
    "v2_custom_filters",
    "v2_nodes",
    "v2_retrieve_body",
]

RETRIEVE = "/api/v1/retrieval/retrieve"
INDEXES = "/api/v1/indexes"
_MAX_PAGES = 100  # cursor pages read when looking an index up

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


@dataclass(frozen=True)
class LlamaCloudV2IndexRef:
    """An Index v2 index by name and id: no client, no key, safe to keep.

    Example:
        >>> ref = LlamaCloudV2IndexRef("handbook", "idx-1", "proj-1")
        >>> ref.id, str(ref)
        ('idx-1', "LlamaCloud index 'handbook' (index idx-1)")
    """

    name: str
    index_id: str
    project_id: str | None = None

    @property
    def id(self) -> str:
        """The index id."""
        return self.index_id

    def __str__(self) -> str:
        return f"LlamaCloud index {self.name!r} (index {self.index_id})"


def _refuse(what: str) -> ConfigError:
    return ConfigError(
        f"Index v2 filters cannot express {what}",
        hint="Index v2 takes one condition per field, all of which must hold (an OR over one "
        "field's values works); use api_version='v1' for this filter, or split the query",
    )


Constraint = dict[str, Any]


def _leaf(leaf: MetadataFilter, negate: bool) -> tuple[str, Constraint]:
    operator = _OPERATORS.get(FilterOperator(leaf.operator))
    if operator is None:
        raise _refuse(f"the operator {FilterOperator(leaf.operator).value!r} (on {leaf.key!r})")
    if negate:
        if operator not in _NEGATED:
            raise _refuse(f"NOT of a range ({leaf.key!r} {operator})")
        operator = _NEGATED[operator]
    value = list(leaf.value) if isinstance(leaf.value, (list, tuple)) else leaf.value
    return leaf.key, {"operator": operator, "value": value}


def _merge(into: dict[str, list[Constraint]], key: str, constraint: Constraint) -> None:
    into.setdefault(key, []).append(constraint)


def _any_of(group: MetadataFilters) -> tuple[str, Constraint]:
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


def _one(group: MetadataFilters) -> tuple[str, Constraint]:
    collected = _all_of(group)
    if len(collected) != 1 or len(next(iter(collected.values()))) != 1:
        raise _refuse("this nested group")
    key, constraints = next(iter(collected.items()))
    return key, constraints[0]


def _all_of(group: MetadataFilters) -> dict[str, list[Constraint]]:
    """Every field's conditions, for a group whose children must all hold (AND, or NOT of one)."""
    collected: dict[str, list[Constraint]] = {}
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


def v2_retrieve_body(
    query: str, index_id: str, config: HybridConfig, *, score_threshold: float | None = None
) -> dict[str, Any]:
    """The ``POST /api/v1/retrieval/retrieve`` body: 0, 0.0 and False are kept.

    Example:
        >>> body = v2_retrieve_body("hay", "idx-1", HybridConfig(rerank_top_n=5), score_threshold=0.0)
        >>> body["rerank"], body["score_threshold"]
        ({'enabled': True, 'top_n': 5}, 0.0)
    """
    body: dict[str, Any] = {"index_id": index_id, "query": query, **config.to_llamacloud_v2_kwargs()}
    if score_threshold is not None:
        body["score_threshold"] = float(score_threshold)
    if config.filters is not None and config.filters.filters:
        body["custom_filters"] = v2_custom_filters(config.filters)
    return body


def _node_id(result: Mapping[str, Any], text: str) -> str:
    static = result.get("static_fields")
    if isinstance(static, Mapping):
        file_id, chunk = static.get("parsed_directory_file_id"), static.get("chunk_index")
        if isinstance(file_id, str) and file_id and isinstance(chunk, int) and not isinstance(chunk, bool):
            return f"{file_id}-chunk-{chunk}"
    return "llamacloud-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _number(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ServiceError(f"The retrieval answer has a {what} of {value!r}")
    return float(value)


def v2_nodes(answer: Mapping[str, Any]) -> list[NodeWithScore]:
    """An Index v2 answer's ``results`` as nodes: text from ``content``, metadata from
    ``metadata`` and ``static_fields``, score ``rerank_score`` when reranked, else ``score``.

    Raises:
        ServiceError: an answer of another shape.

    Example:
        >>> hit = v2_nodes({"results": [{"content": "hay", "score": 0.4, "rerank_score": 0.9,
        ...     "metadata": {"section": "care"}, "static_fields": {"chunk_index": 0,
        ...     "parsed_directory_file_id": "f1"}}]})[0]
        >>> hit.node.node_id, hit.score, hit.node.metadata["section"]
        ('f1-chunk-0', 0.9, 'care')
    """
    results = answer.get("results")
    if not isinstance(results, list):
        raise ServiceError(
            "The retrieval answer has no list of 'results'",
            hint="LlamaCloud answered an unexpected shape; try again later",
        )
    hits = []
    for raw in results:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("content"), str):
            raise ServiceError("The retrieval answer has a result without text 'content'")
        text = raw["content"]
        metadata: dict[str, Any] = {}
        for key in ("metadata", "static_fields"):
            part = raw.get(key)
            if isinstance(part, Mapping):
                metadata.update(part)
        rerank = _number(raw.get("rerank_score"), "rerank_score")
        score = rerank if rerank is not None else _number(raw.get("score"), "score")
        node = TextNode(id_=_node_id(raw, text), text=text, metadata=metadata)
        hits.append(NodeWithScore(node=node, score=score))
    return hits


async def aresolve_v2_index(session: CloudSession, name_or_id: str) -> LlamaCloudV2IndexRef:
    """The Index v2 index with this id, or else this name (``GET /api/v1/indexes``, every page).

    Raises:
        ConfigError: no such index, or several with that name.

    Example:
        >>> ref = await aresolve_v2_index(session, "handbook")  # doctest: +SKIP
    """
    with about_index(name_or_id):
        what = f"looking up LlamaCloud index {name_or_id!r}"
        found: list[Mapping[str, Any]] = []
        params: dict[str, Any] = session.project_params()
        for _ in range(_MAX_PAGES):
            page = await session.json("GET", INDEXES, what=what, params=params)
            items = page.get("items")
            if not isinstance(items, list):
                raise ServiceError(f"{what}: the answer is not a page of 'items'")
            found.extend(i for i in items if isinstance(i, Mapping))
            token = page.get("next_page_token")
            if not token:
                break
            params = {**params, "page_token": token}
        by_id = [i for i in found if i.get("id") == name_or_id]
        named = by_id or [i for i in found if i.get("name") == name_or_id]
        if not named:
            known = sorted(str(i.get("name")) for i in found if i.get("name"))
            raise ConfigError(
                f"Unknown LlamaCloud index {name_or_id!r} (Index v2)",
                hint=("Known indexes: " + ", ".join(known[:20])) if known else "The project has no indexes",
            )
        if len(named) > 1:
            raise ConfigError(
                f"{len(named)} LlamaCloud indexes are named {name_or_id!r}",
                hint="Pass the index id instead of its name",
            )
        index = named[0]
        project = index.get("project_id")
        return LlamaCloudV2IndexRef(
            str(index.get("name") or index["id"]),
            str(index["id"]),
            project if isinstance(project, str) else None,
        )


def resolve_v2_index(
    name_or_id: str, settings: CloudKitSettings, *, policy: CloudPolicy | None = None
) -> LlamaCloudV2IndexRef:
    """:func:`aresolve_v2_index` from sync code (safe inside a running loop).

    Example:
        >>> resolve_v2_index("handbook", CloudKitSettings(api_version="v2")).id  # doctest: +SKIP
        'idx-...'
    """
    return run_in_session(settings, policy, lambda session: aresolve_v2_index(session, name_or_id))


class LlamaCloudV2Retriever(BaseRetriever):
    """A LlamaIndex retriever on an Index v2 index, safe across event loops and threads.

    Filters are translated when the retriever is built, so a filter v2 cannot express fails
    here (ConfigError), before any request.

    Args:
        index: the index (see :func:`~llama_index_cloudkit.retrieve.cloud.llamacloud_retriever`
            to start from a name or id).
        config: the retrieval settings; at most ``config.final_top_k`` passages come back.
        settings: key and endpoint.
        policy: retries and timeouts of the cloud core.
        score_threshold: drop results scored below it (sent as given, 0.0 included).
        callback_manager: LlamaIndex callbacks.

    Example:
        >>> ref = LlamaCloudV2IndexRef("handbook", "idx-1")
        >>> LlamaCloudV2Retriever(ref, HybridConfig(), CloudKitSettings()).index.id
        'idx-1'
    """

    def __init__(
        self,
        index: LlamaCloudV2IndexRef,
        config: HybridConfig,
        settings: CloudKitSettings,
        *,
        policy: CloudPolicy | None = None,
        score_threshold: float | None = None,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        self.index = index
        self.config = config
        self.settings = settings
        self.policy = policy or CloudPolicy()
        self.score_threshold = score_threshold
        v2_retrieve_body("", index.index_id, config, score_threshold=score_threshold)  # fail early
        super().__init__(callback_manager=callback_manager)

    def __repr__(self) -> str:
        return f"LlamaCloudV2Retriever({self.index}, final_top_k={self.config.final_top_k})"

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return run_in_session(self.settings, self.policy, lambda session: self.asearch(session, query_bundle))

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        async with CloudSession(self.settings, self.policy) as session:
            return await self.asearch(session, query_bundle)

    async def asearch(self, session: CloudSession, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """One retrieval on an open session.

        Example:
            >>> hits = await retriever.asearch(session, QueryBundle("hay"))  # doctest: +SKIP
        """
        index = self.index
        with about_index(index.name, index.index_id):
            body = v2_retrieve_body(
                query_bundle.query_str, index.index_id, self.config, score_threshold=self.score_threshold
            )
            answer = await session.json(
                "POST",
                RETRIEVE,
                what=f"retrieving from LlamaCloud index {index.name!r}",
                idempotent=True,  # a search: repeating it charges and creates nothing
                json=body,
                params=session.project_params(),
            )
            return v2_nodes(answer)[: self.config.final_top_k]
