"""The neutral models of an extraction: its result, a saved setup, and typed models from JSON schemas.

Both LlamaExtract adapters (:mod:`.llamacloud`) return an :class:`ExtractResult` and describe a
saved agent (v1) or saved configuration (v2) as a :class:`SavedExtraction`; nothing outside the
adapters sees a route, a body field or a status word.

Extraction results are typed on every path: a saved setup brings only its JSON schema;
:func:`model_from_schema` turns it (or any JSON-schema dict) into a pydantic model with
:func:`pydantic.create_model`:

| JSON schema | Python type |
|---|---|
| ``object`` with ``properties`` | a nested model (named from ``title``, else the field) |
| ``object`` without ``properties`` | ``dict[str, Any]`` |
| ``array`` | ``list[<items>]`` |
| ``string``, ``integer``, ``number``, ``boolean``, ``null`` | ``str``, ``int``, ``float``, ``bool``, None |
| ``enum`` | ``Literal[...]`` of the values |
| ``anyOf`` / ``oneOf`` / ``type`` as a list | a union; with ``null`` the field is optional |
| ``$ref`` to ``#/$defs/...`` or ``#/definitions/...`` | the definition, inlined (recursion: ``Any``) |

A field is required when it is listed in ``required`` and not nullable; a nullable or unlisted
field defaults to None. Names that are not Python identifiers (or that pydantic reserves) get a
safe attribute name and keep the original as their alias. Unknown keys in the data are kept
(``extra="allow"``), so nothing the service returned is lost.

Example:
    >>> Invoice = model_from_schema({
    ...     "title": "Invoice", "type": "object", "required": ["number", "total"],
    ...     "properties": {"number": {"type": "string"},
    ...                    "total": {"anyOf": [{"type": "number"}, {"type": "null"}]}}})
    >>> Invoice.model_validate({"number": "42", "total": 9.5})
    Invoice(number='42', total=9.5)
"""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from llama_index_cloudkit.errors import SchemaError

__all__ = ["ExtractResult", "SavedExtraction", "model_from_schema"]


@dataclass
class ExtractResult:
    """What an extraction produced: the data and what the service (or the LLM) said about it.

    Example:
        >>> ExtractResult({"a": 1}, job_id="j").data
        {'a': 1}
    """

    data: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    job_id: str | None = None
    run_id: str | None = None
    reattached: bool = False
    usage: dict[str, Any] | None = None


@dataclass(frozen=True)
class SavedExtraction:
    """A saved extraction setup: a LlamaExtract agent (v1) or a saved configuration (v2).

    ``config`` is the agent's ExtractConfig, or the saved configuration's parameters.

    Example:
        >>> SavedExtraction("agent-1", "terms", {"type": "object"}, {}).name
        'terms'
    """

    id: str
    name: str
    data_schema: dict[str, Any]
    config: dict[str, Any]


_PRIMITIVES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "null": type(None),
}
_CONFIG = ConfigDict(extra="allow", populate_by_name=True)


class _Builder:
    """Builds models for one root schema; keeps model names unique within it."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = {**root.get("definitions", {}), **root.get("$defs", {})}
        self.names: set[str] = set()
        self.built: dict[str, Any] = {}

    def model_name(self, hint: str) -> str:
        words = re.findall(r"[A-Za-z0-9]+", hint) or ["Extracted"]
        base = "".join(w[:1].upper() + w[1:] for w in words)
        if base[0].isdigit():
            base = f"M{base}"
        name, n = base, 2
        while name in self.names:
            name, n = f"{base}{n}", n + 1
        self.names.add(name)
        return name

    def resolve(self, node: dict[str, Any], seen: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node, seen
        name = ref.rsplit("/", 1)[-1]
        if name in seen or name not in self.defs:
            return {}, seen  # recursive or dangling: untyped
        merged = {**self.defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
        return self.resolve(merged, (*seen, name))

    def annotation(self, node: Any, hint: str, seen: tuple[str, ...]) -> Any:
        if not isinstance(node, dict):
            return Any
        ref = node.get("$ref")
        if isinstance(ref, str) and set(node) <= {"$ref", "description", "title"}:
            name = ref.rsplit("/", 1)[-1]  # one model per definition, however often it is used
            if name not in self.built:
                target, inner = self.resolve({"$ref": ref}, seen)
                if name in seen or not target:
                    return Any
                self.built[name] = self.annotation(target, str(target.get("title") or name), inner)
            return self.built[name]
        node, seen = self.resolve(node, seen)
        if "enum" in node and isinstance(node["enum"], list) and node["enum"]:
            values = tuple(v for v in node["enum"] if isinstance(v, (str, int, bool)) or v is None)
            if values:
                return Literal[values]
        options = node.get("anyOf") or node.get("oneOf")
        if isinstance(options, list) and options:
            kinds = [self.annotation(o, hint, seen) for o in options]
            return _union(kinds)
        kind = node.get("type")
        if isinstance(kind, list):
            return _union([self.annotation({**node, "type": k}, hint, seen) for k in kind])
        if kind == "object" or (kind is None and "properties" in node):
            if not node.get("properties"):
                return dict[str, Any]
            shape = json.dumps(node, sort_keys=True, default=str)  # inlined copies share a model
            if shape not in self.built:
                self.built[shape] = self.model(node, str(node.get("title") or hint), seen)
            return self.built[shape]
        if kind == "array":
            item = self.annotation(node.get("items", {}), f"{hint} item", seen)
            return list[item]  # type: ignore[valid-type]
        if isinstance(kind, str) and kind in _PRIMITIVES:
            return _PRIMITIVES[kind]
        return Any

    def model(self, node: dict[str, Any], hint: str, seen: tuple[str, ...]) -> type[BaseModel]:
        required = set(node.get("required", []))
        fields: dict[str, Any] = {}
        for index, (name, sub) in enumerate(node.get("properties", {}).items()):
            kind = self.annotation(sub, name, seen)
            description = sub.get("description") if isinstance(sub, dict) else None
            optional = name not in required or _accepts_none(kind)
            attribute = _attribute(str(name), index)
            alias = None if attribute == name else str(name)
            if optional:
                fields[attribute] = (
                    Optional[kind],  # noqa: UP045 - a runtime type expression
                    Field(default=None, alias=alias, description=description),
                )
            else:
                fields[attribute] = (kind, Field(alias=alias, description=description))
        model: type[BaseModel] = create_model(
            self.model_name(hint), __config__=_CONFIG, __doc__=node.get("description"), **fields
        )
        return model


def _union(kinds: list[Any]) -> Any:
    unique: list[Any] = []
    for kind in kinds:
        if kind not in unique:
            unique.append(kind)
    if Any in unique:
        return Any
    if len(unique) == 1:
        return unique[0]
    return Union[tuple(unique)]  # noqa: UP007 - a runtime type expression


def _accepts_none(kind: Any) -> bool:
    if kind is Any or kind is type(None):
        return True
    return type(None) in getattr(kind, "__args__", ())


def _attribute(name: str, index: int) -> str:
    safe = re.sub(r"\W+", "_", name).strip("_")
    if not safe or safe[0].isdigit():
        safe = f"field_{index}_{safe}".rstrip("_")
    while keyword.iskeyword(safe) or hasattr(BaseModel, safe) or safe.startswith(("_", "model_")):
        safe = f"{safe}_" if not safe.startswith(("_", "model_")) else f"field_{safe}"
    return safe


def model_from_schema(schema: dict[str, Any], name: str | None = None) -> type[BaseModel]:
    """A pydantic model class for a JSON schema whose root is an object.

    Args:
        schema: the JSON schema (for example an extraction agent's ``data_schema``).
        name: the model's class name (default: the schema's ``title``, else ``ExtractedData``).

    Raises:
        SchemaError: the root is not an object schema.

    Example:
        >>> Terms = model_from_schema({"type": "object", "properties": {
        ...     "days": {"type": "integer"},
        ...     "carrier": {"enum": ["UPS", "DHL"]},
        ...     "notes": {"type": "array", "items": {"type": "string"}}}}, name="Terms")
        >>> Terms.model_validate({"days": 3, "carrier": "UPS", "notes": ["fast"]}).carrier
        'UPS'
    """
    builder = _Builder(schema)
    root, seen = builder.resolve(schema, ())
    if not isinstance(root, dict) or not (root.get("type") == "object" or "properties" in root):
        raise SchemaError(["$: a typed result needs a root of type 'object'"])
    return builder.model(root, name or str(root.get("title") or "ExtractedData"), seen)
