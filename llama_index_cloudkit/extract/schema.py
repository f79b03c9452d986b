"""Check extraction schemas against what LlamaExtract accepts, before a credit is spent.

The subset: a root ``object``; ``type``, ``properties``, ``required``, ``items``, ``enum``,
``anyOf``, ``description`` and ``title``; nullable fields only as ``anyOf`` with
``{"type": "null"}``; every property listed in ``required`` (optional means nullable); nesting
at most 5 levels; at most 5,000 properties and 120,000 characters. ``$ref`` / ``$defs`` are
inlined first (recursive schemas are refused).

Pydantic models are converted the way LlamaExtract expects: ``Optional[X]`` becomes
``anyOf [X, null]``, every field is required, and pydantic's ``default`` values move into the
field's description.

Example:
    >>> from pydantic import BaseModel
    >>> class Invoice(BaseModel):
    ...     number: str
    ...     total: float | None = None
    >>> schema = check_schema(Invoice)
    >>> schema["required"], schema["properties"]["total"]["anyOf"][1]
    (['number', 'total'], {'type': 'null'})
"""

from __future__ import annotations

import copy
import json
import warnings
from typing import Any

from pydantic import BaseModel

from llama_index_cloudkit.errors import SchemaError

__all__ = ["MAX_DEPTH", "MAX_PROPERTIES", "MAX_SCHEMA_CHARS", "check_schema", "schema_of"]

MAX_DEPTH = 5
MAX_PROPERTIES = 5000
MAX_SCHEMA_CHARS = 120_000

SUPPORTED = {"type", "properties", "required", "items", "enum", "anyOf", "description", "title"}
TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}


def _inline_refs(
    node: Any, defs: dict[str, Any], path: str, problems: list[str], seen: tuple[str, ...] = ()
) -> Any:
    if isinstance(node, list):
        return [_inline_refs(item, defs, f"{path}[{i}]", problems, seen) for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = str(node["$ref"])
        name = ref.rsplit("/", 1)[-1]
        if not ref.startswith("#/$defs/") and not ref.startswith("#/definitions/"):
            problems.append(f"{path}: only local references (#/$defs/...) can be inlined, got {ref!r}")
            return {}
        if name in seen:
            problems.append(f"{path}: recursive schema through {name!r} is not supported")
            return {}
        if name not in defs:
            problems.append(f"{path}: reference {ref!r} has no definition")
            return {}
        target = copy.deepcopy(defs[name])
        extra = {k: v for k, v in node.items() if k != "$ref"}
        merged = {**target, **extra}
        return _inline_refs(merged, defs, path, problems, (*seen, name))
    return {
        key: _inline_refs(value, defs, f"{path}.{key}", problems, seen)
        for key, value in node.items()
        if key not in ("$defs", "definitions")
    }


def _from_pydantic(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    _normalise_pydantic(schema)
    return schema


def _normalise_pydantic(node: Any) -> None:
    """Pydantic's own additions, made LlamaExtract-shaped: all required, defaults described."""
    if isinstance(node, list):
        for item in node:
            _normalise_pydantic(item)
        return
    if not isinstance(node, dict):
        return
    for sub in list(node.get("properties", {}).values()):
        if "default" in sub:
            default = sub.pop("default")
            if default is not None:
                note = f"Default: {json.dumps(default)}."
                sub["description"] = f"{sub.get('description', '')} {note}".strip()
    if "properties" in node:
        node["required"] = list(node["properties"])
    for key, value in node.items():
        if key != "properties":
            _normalise_pydantic(value)
        else:
            for sub in value.values():
                _normalise_pydantic(sub)


def schema_of(schema: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of a pydantic model class, or a deep copy of a dict schema.

    Example:
        >>> schema_of({"type": "object", "properties": {}})["type"]
        'object'
    """
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return _from_pydantic(schema)
    if isinstance(schema, dict):
        return copy.deepcopy(schema)
    raise SchemaError(
        [f"$: expected a pydantic model class or a JSON-schema dict, got {type(schema).__name__}"]
    )


def _is_nullable(node: dict[str, Any]) -> bool:
    return node.get("type") == "null" or any(
        isinstance(o, dict) and o.get("type") == "null" for o in node.get("anyOf", [])
    )


def _walk(
    node: Any, path: str, depth: int, problems: list[str], moved: list[str], strict: bool, counter: list[int]
) -> None:
    if not isinstance(node, dict):
        problems.append(f"{path}: a schema must be an object, got {type(node).__name__}")
        return
    for key in list(node):
        if key in SUPPORTED:
            continue
        if strict:
            problems.append(f"{path}.{key}: '{key}' is not supported by LlamaExtract")
        else:
            value = node.pop(key)
            note = f"{key}: {json.dumps(value)}"
            node["description"] = f"{node.get('description', '')} ({note})".strip()
            moved.append(f"{path}.{key}")
    kind = node.get("type")
    if isinstance(kind, list):
        problems.append(
            f"{path}: 'type' as a list ({kind}) is not supported; "
            "use anyOf with {'type': 'null'} for nullable fields"
        )
    elif kind is not None and kind not in TYPES:
        problems.append(f"{path}: unknown type {kind!r}")
    if kind == "object" or "properties" in node:
        if depth > MAX_DEPTH:
            problems.append(f"{path}: nested {depth} levels deep; LlamaExtract allows {MAX_DEPTH}")
            return
        properties = node.get("properties", {})
        required = set(node.get("required", []))
        counter[0] += len(properties)
        for name, sub in properties.items():
            sub_path = f"{path}.properties.{name}"
            if name not in required and isinstance(sub, dict) and not _is_nullable(sub):
                problems.append(
                    f"{sub_path}: optional field without null; list it in "
                    "'required' and make it nullable with anyOf [..., "
                    "{'type': 'null'}]"
                )
            _walk(sub, sub_path, depth + 1, problems, moved, strict, counter)
    if "items" in node:
        _walk(node["items"], f"{path}.items", depth + (kind == "array"), problems, moved, strict, counter)
    for i, option in enumerate(node.get("anyOf", [])):
        _walk(option, f"{path}.anyOf[{i}]", depth, problems, moved, strict, counter)


def check_schema(schema: type[BaseModel] | dict[str, Any], strict: bool = True) -> dict[str, Any]:
    """Return the LlamaExtract-ready JSON schema, or raise SchemaError listing every problem.

    Args:
        schema: a pydantic model class or a JSON-schema dict.
        strict: report unsupported keywords (``default``, ``format``, ``pattern``,
            ``minimum``, ...); with False they move into the field's description, with a
            warning.

    Raises:
        SchemaError: every problem, each with its JSON path. No request is ever sent.

    Example:
        >>> check_schema({"type": "array"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.SchemaError: 1 schema problem(s):
          - $: the root must be of type 'object', got 'array'. Fix the schema; nothing was sent...
    """
    resolved = schema_of(schema)
    problems: list[str] = []
    defs = {**resolved.get("definitions", {}), **resolved.get("$defs", {})}
    resolved = _inline_refs(resolved, defs, "$", problems)
    if resolved.get("type") != "object":
        problems.append(f"$: the root must be of type 'object', got {resolved.get('type')!r}")
    moved: list[str] = []
    counter = [0]
    _walk(resolved, "$", 1, problems, moved, strict, counter)
    if counter[0] > MAX_PROPERTIES:
        problems.append(f"$: {counter[0]} properties; LlamaExtract allows {MAX_PROPERTIES}")
    size = len(json.dumps(resolved))
    if size > MAX_SCHEMA_CHARS:
        problems.append(f"$: the schema is {size} characters; LlamaExtract allows {MAX_SCHEMA_CHARS}")
    if problems:
        raise SchemaError(problems, hint="Fix the schema; nothing was sent to LlamaExtract")
    if moved:
        warnings.warn(
            "Unsupported keywords moved into descriptions: " + ", ".join(moved), UserWarning, stacklevel=2
        )
    return dict(resolved)
