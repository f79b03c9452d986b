"""check_schema: LlamaExtract's rules, every problem listed with its path, nothing sent."""

from __future__ import annotations

from typing import Optional

import pytest
from pydantic import BaseModel, Field

from llama_index_cloudkit import SchemaError
from llama_index_cloudkit.extract.schema import MAX_PROPERTIES, check_schema
from llama_index_cloudkit.testing import FakeLlamaCloud


class Line(BaseModel):
    """An invoice line."""

    item: str = Field(description="What was sold")
    quantity: int = 1


class Invoice(BaseModel):
    """An invoice."""

    number: str
    total: Optional[float] = None  # noqa: UP045 - the point is Optional
    lines: list[Line]


def _nested(depth: int) -> dict:
    node: dict = {"type": "string"}
    for _ in range(depth):
        node = {"type": "object", "properties": {"x": node}, "required": ["x"]}
    return node


def test_pydantic_models_convert_to_the_accepted_subset() -> None:
    schema = check_schema(Invoice)
    assert schema["required"] == ["number", "total", "lines"]
    assert {"type": "null"} in schema["properties"]["total"]["anyOf"]
    line = schema["properties"]["lines"]["items"]
    assert "$ref" not in str(schema) and line["required"] == ["item", "quantity"]
    assert "default" not in str(schema) and "Default: 1" in line["properties"]["quantity"]["description"]


@pytest.mark.parametrize(
    "schema, problem",
    [
        ({"type": "array", "items": {"type": "string"}}, "$: the root must be of type 'object'"),
        (_nested(6), "nested 6 levels deep"),
        (
            {"type": "object", "properties": {"a": {"type": "string", "default": "x"}}, "required": ["a"]},
            "$.properties.a.default",
        ),
        (
            {"type": "object", "properties": {"d": {"type": "string", "format": "date"}}, "required": ["d"]},
            "$.properties.d.format",
        ),
        ({"type": "object", "properties": {"o": {"type": "string"}}}, "optional field without null"),
        (
            {"type": "object", "properties": {"n": {"type": ["string", "null"]}}, "required": ["n"]},
            "'type' as a list",
        ),
    ],
)
def test_each_bad_schema_names_its_problem(schema: dict, problem: str) -> None:
    with pytest.raises(SchemaError) as info:
        check_schema(schema)
    assert any(problem in p for p in info.value.problems), info.value.problems


def test_every_problem_is_listed_at_once() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "minimum": 0, "maximum": 9},
            "b": {"type": "string", "pattern": "^x"},
        },
        "required": ["a"],
    }
    with pytest.raises(SchemaError) as info:
        check_schema(schema)
    paths = "\n".join(info.value.problems)
    for needle in (
        "$.properties.a.minimum",
        "$.properties.a.maximum",
        "$.properties.b.pattern",
        "$.properties.b: optional field without null",
    ):
        assert needle in paths


def test_limits_on_size() -> None:
    wide = {"type": "object", "properties": {f"f{i}": {"type": "string"} for i in range(MAX_PROPERTIES + 1)}}
    wide["required"] = list(wide["properties"])
    with pytest.raises(SchemaError, match="properties; LlamaExtract allows 5000"):
        check_schema(wide)
    long = {
        "type": "object",
        "properties": {"a": {"type": "string", "description": "x" * 130_000}},
        "required": ["a"],
    }
    with pytest.raises(SchemaError, match="characters"):
        check_schema(long)


def test_non_strict_moves_keywords_into_descriptions_with_a_warning() -> None:
    schema = {"type": "object", "properties": {"age": {"type": "integer", "minimum": 0}}, "required": ["age"]}
    with pytest.warns(UserWarning, match="minimum"):
        fixed = check_schema(schema, strict=False)
    assert fixed["properties"]["age"] == {"type": "integer", "description": "(minimum: 0)"}


def test_recursive_refs_are_refused() -> None:
    schema = {
        "type": "object",
        "properties": {"node": {"$ref": "#/$defs/Node"}},
        "required": ["node"],
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"child": {"$ref": "#/$defs/Node"}},
                "required": ["child"],
            }
        },
    }
    with pytest.raises(SchemaError, match="recursive"):
        check_schema(schema)


def test_a_bad_schema_sends_no_request(fake_llamacloud: FakeLlamaCloud) -> None:
    from llama_index_cloudkit.extract.tool import extraction_tool

    with pytest.raises(SchemaError):
        extraction_tool(schema={"type": "array"}, backend="cloud")
    assert fake_llamacloud.requests == []
