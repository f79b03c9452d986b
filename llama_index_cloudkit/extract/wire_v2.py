"""What goes over the wire for Extract v2: configuration checks, saved configurations, metadata.

Plain data and pure functions, no HTTP: :mod:`.cloud_v2` sends them through the cloud core.

Citations and confidence come back under the same key as on v1: :func:`v1_shaped_metadata`
gives ``field_metadata`` keyed by field (v2's ``field_metadata.document_metadata``), plus
``page_metadata`` / ``row_metadata``, ``parse_job_id`` and ``parse_tier`` when reported, so
``_metadata.field_metadata.<field>.citation`` reads the same on both generations.

Example:
    >>> check_v2_config({"tier": "agentic", "cite_sources": True})
    {'tier': 'agentic', 'cite_sources': True}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llama_index_cloudkit.errors import ConfigError, ServiceError
from llama_index_cloudkit.settings import check_keywords

__all__ = [
    "V2_CONFIG_KEYS",
    "SavedConfiguration",
    "check_v2_config",
    "saved_configuration",
    "usage_of_v2",
    "v1_shaped_metadata",
]

V2_CONFIG_KEYS = (
    "tier",
    "version",
    "cite_sources",
    "confidence_scores",
    "advanced_citations",
    "system_prompt",
    "target_pages",
    "max_pages",
    "parse_tier",
    "parse_config_id",
    "extraction_target",
    "disable_cache",
    "spreadsheet_mode",
    "sheet_names",
    "configuration_id",
)
"""Extract v2 ``configuration`` keys (``data_schema`` is the schema), and ``configuration_id``."""

_CHOICES = {
    "tier": ("cost_effective", "agentic", "agentic_plus", "turbo"),
    "parse_tier": ("fast", "cost_effective", "agentic", "agentic_plus"),
    "extraction_target": ("per_doc", "per_page", "per_table_row"),
}
_V1_KEYS = {
    "extraction_mode": "tier (cost_effective, agentic, agentic_plus, turbo)",
    "page_range": "target_pages",
    "invalidate_cache": "disable_cache",
    "use_reasoning": "nothing (v2 has no reasoning output)",
    "citation_bbox": "advanced_citations",
    "chunk_mode": "nothing",
    "high_resolution_mode": "nothing",
    "extract_model": "tier",
    "parse_model": "parse_tier",
    "priority": "nothing",
}


def check_v2_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """An Extract v2 configuration dict, its keys and choices checked before anything is sent.

    Raises:
        ConfigError: a v1 key (the message names the v2 one), an unknown key, or a value
            outside the documented choices.

    Example:
        >>> check_v2_config({"extraction_mode": "FAST"})
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: extraction_mode is an Extract v1 setting. ...
    """
    for key in config:
        if key in _V1_KEYS:
            raise ConfigError(
                f"{key} is an Extract v1 setting",
                hint=f"On api_version='v2' use {_V1_KEYS[key]}; nothing was sent",
            )
    check_keywords(config, V2_CONFIG_KEYS, "Extract v2 configuration")
    checked = {str(k): getattr(v, "value", v) for k, v in config.items()}
    for key, choices in _CHOICES.items():
        value = checked.get(key)
        if value is not None:
            value = str(value).lower()
            if value not in choices:
                raise ConfigError(
                    f"{key}={checked[key]!r} is not an Extract v2 choice",
                    hint="Use one of: " + ", ".join(choices),
                )
            checked[key] = value
    if "configuration_id" in checked and len(checked) > 1:
        raise ConfigError(
            "configuration_id names a saved configuration; it takes no other setting",
            hint="Change the saved configuration, or pass an inline configuration without configuration_id",
        )
    return checked


def v1_shaped_metadata(job: Mapping[str, Any]) -> dict[str, Any]:
    """An ExtractV2Job's ``extract_metadata`` in v1's shape: ``field_metadata`` keyed by field.

    Example:
        >>> v1_shaped_metadata({"extract_metadata": {"field_metadata": {"document_metadata":
        ...     {"total": {"confidence": 0.9}}}, "parse_job_id": "pjb-1"}})
        {'field_metadata': {'total': {'confidence': 0.9}}, 'parse_job_id': 'pjb-1'}
    """
    raw = job.get("extract_metadata")
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, Any] = {}
    fields = raw.get("field_metadata")
    if isinstance(fields, Mapping):
        document = fields.get("document_metadata")
        out["field_metadata"] = dict(document) if isinstance(document, Mapping) else {}
        for key in ("page_metadata", "row_metadata"):
            if fields.get(key) is not None:
                out[key] = fields[key]
    for key in ("parse_job_id", "parse_tier"):
        if raw.get(key) is not None:
            out[key] = raw[key]
    return out


def usage_of_v2(job: Mapping[str, Any]) -> dict[str, Any] | None:
    """Usage and credits an Extract v2 job reported (``metadata.usage`` merged with ``usage``).

    Example:
        >>> usage_of_v2({"metadata": {"usage": {"pages": 2}}, "usage": {"credits": 3}})
        {'pages': 2, 'credits': 3}
    """
    found: dict[str, Any] = {}
    metadata = job.get("metadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("usage"), Mapping):
        found.update(metadata["usage"])
    if isinstance(job.get("usage"), Mapping):
        found.update(job["usage"])
    return found or None


@dataclass(frozen=True)
class SavedConfiguration:
    """A saved Extract v2 configuration: id, name and its parameters (``data_schema`` among them).

    Example:
        >>> SavedConfiguration("cfg-1", "invoice", {"data_schema": {"type": "object"}}).data_schema
        {'type': 'object'}
    """

    id: str
    name: str
    parameters: dict[str, Any]

    @property
    def data_schema(self) -> dict[str, Any]:
        """The saved JSON schema."""
        schema = self.parameters.get("data_schema")
        return dict(schema) if isinstance(schema, Mapping) else {}


def saved_configuration(body: Mapping[str, Any]) -> SavedConfiguration:
    """A :class:`SavedConfiguration` from the service's answer (ServiceError without an id).

    Example:
        >>> saved_configuration({"id": "cfg-1", "parameters": {}}).name
        'cfg-1'
    """
    config_id = body.get("id")
    if not isinstance(config_id, str) or not config_id:
        raise ServiceError("A saved configuration was answered without an id")
    parameters = body.get("parameters")
    return SavedConfiguration(
        config_id,
        str(body.get("name") or config_id),
        dict(parameters) if isinstance(parameters, Mapping) else {},
    )
