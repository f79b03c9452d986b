"""model_from_schema: an extraction agent's JSON schema becomes a pydantic model."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from llama_index_cloudkit import SchemaError, check_schema
from llama_index_cloudkit.extract.model import model_from_schema


class Address(BaseModel):
    """Where."""

    city: str
    zip_code: str | None = None


class Person(BaseModel):
    """A person."""

    name: str = Field(description="Full name")
    age: int | None
    addresses: list[Address]
    home: Address | None
    tags: list[str]


def test_a_model_from_a_pydantic_schema_validates_the_same_data() -> None:
    data: dict[str, Any] = {
        "name": "Ada",
        "age": None,
        "addresses": [{"city": "London", "zip_code": None}],
        "home": {"city": "London", "zip_code": "NW1"},
        "tags": ["math"],
    }
    for schema in (Person.model_json_schema(), check_schema(Person)):
        built = model_from_schema(schema)
        person = built.model_validate(data)
        assert built.__name__ == "Person" and person.model_dump() == Person.model_validate(data).model_dump()
        assert person.addresses[0].city == "London" and type(person.home).__name__ == "Address"
        assert built.model_fields["name"].description == "Full name"


def test_required_fields_are_required_and_nullable_ones_may_be_missing() -> None:
    built = model_from_schema(
        {
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
            "required": ["a", "b"],
        }
    )
    assert built.model_validate({"a": "x"}).b is None
    with pytest.raises(ValidationError):
        built.model_validate({"b": 1})


def test_enums_become_literals() -> None:
    built = model_from_schema(
        {"type": "object", "properties": {"c": {"enum": ["UPS", "DHL"]}}, "required": ["c"]}
    )
    assert built.model_validate({"c": "UPS"}).c == "UPS"
    with pytest.raises(ValidationError):
        built.model_validate({"c": "FedEx"})


def test_awkward_names_keep_their_alias_and_extra_keys_are_kept() -> None:
    built = model_from_schema(
        {"type": "object", "properties": {"json": {"type": "string"}, "total amount": {"type": "number"}}}
    )
    item = built.model_validate({"json": "x", "total amount": 9.5, "note": "kept"})
    assert item.model_dump(by_alias=True) == {"json": "x", "total amount": 9.5, "note": "kept"}


def test_a_type_list_and_objects_without_properties() -> None:
    built = model_from_schema(
        {"type": "object", "properties": {"n": {"type": ["integer", "null"]}, "meta": {"type": "object"}}}
    )
    assert built.model_validate({"n": None, "meta": {"k": 1}}).meta == {"k": 1}


def test_recursive_references_are_untyped_not_infinite() -> None:
    schema = {
        "type": "object",
        "properties": {"child": {"$ref": "#/$defs/Node"}},
        "$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}},
    }
    built = model_from_schema(schema)
    assert built.model_validate({"child": {"child": {"child": None}}}).child.child == {"child": None}


def test_a_root_that_is_not_an_object_is_a_schema_error() -> None:
    with pytest.raises(SchemaError):
        model_from_schema({"type": "array", "items": {"type": "string"}})
