"""What an extraction tool extracts: the JSON schema, the typed model, its subject and names.

A tool is built from a schema (a pydantic model class or a JSON-schema dict, checked before any
request), or from a saved agent or configuration (its saved schema, typed by a model built from
it unless a ``schema`` is given). The tool's default name and description come from here.

Example:
    >>> target = schema_target({"title": "Invoice", "type": "object", "required": ["number"],
    ...                         "properties": {"number": {"type": "string"}}})
    >>> target.default_name, target.model.__name__
    ('extract_invoice', 'Invoice')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from llama_index_cloudkit.extract.model import model_from_schema
from llama_index_cloudkit.extract.schema import check_schema

__all__ = ["ExtractionTarget", "describe", "saved_target", "schema_target"]


@dataclass(frozen=True)
class ExtractionTarget:
    """What a tool extracts: the schema it describes, the model it types with, subject and name.

    Example:
        >>> schema_target({"title": "Terms", "type": "object", "properties": {}}).subject
        'Terms'
    """

    json_schema: dict[str, Any]
    model: type[BaseModel]
    subject: str
    default_name: str

    def description(self) -> str:
        """The default tool description: what to pass, and the fields with their descriptions."""
        return describe(self.json_schema, self.subject)


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "document"


def _camel(text: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", text)) or "ExtractedData"


def describe(schema: dict[str, Any], subject: str) -> str:
    """A tool description that lists the schema's fields and their descriptions.

    Example:
        >>> describe({"properties": {"total": {"description": "amount due"}}}, "an invoice")[-27:]
        'Fields: total (amount due).'
    """
    fields = []
    for name, sub in schema.get("properties", {}).items():
        note = sub.get("description") or sub.get("title") or ""
        fields.append(f"{name} ({note})" if note else name)
    return (
        f"Extract {subject} as structured JSON from a document. Pass file_path (a file) "
        f"or text (the document's text), exactly one. Fields: {', '.join(fields)}."
    )


def _model_of(schema: type[BaseModel] | dict[str, Any], json_schema: dict[str, Any]) -> type[BaseModel]:
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema
    return model_from_schema(json_schema)


def schema_target(schema: type[BaseModel] | dict[str, Any]) -> ExtractionTarget:
    """The target of a schema, checked against LlamaExtract's rules before any request.

    Raises:
        SchemaError: the schema breaks LlamaExtract's rules.

    Example:
        >>> schema_target({"type": "object", "properties": {}}).default_name
        'extract_data'
    """
    json_schema = check_schema(schema)
    return ExtractionTarget(
        json_schema,
        _model_of(schema, json_schema),
        json_schema.get("title") or "the requested data",
        f"extract_{_snake(str(json_schema.get('title', 'data')))}",
    )


def saved_target(
    saved_schema: dict[str, Any], saved_name: str, schema: type[BaseModel] | dict[str, Any] | None
) -> ExtractionTarget:
    """The target of a saved agent or configuration; a given ``schema`` types and describes it.

    Example:
        >>> saved_target({"type": "object", "properties": {}}, "refund terms", None).model.__name__
        'RefundTerms'
    """
    if schema is not None:
        json_schema = check_schema(schema)
        model = _model_of(schema, json_schema)
    else:
        json_schema = saved_schema
        model = model_from_schema(saved_schema, name=saved_schema.get("title") or _camel(saved_name))
    return ExtractionTarget(json_schema, model, saved_name, f"extract_{_snake(saved_name)}")
