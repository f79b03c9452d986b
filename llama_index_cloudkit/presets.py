"""Named presets: the three LlamaParse presets of the project's seed.

Each preset is exactly the set of LlamaParse arguments the seed uses; ``project_id`` and
``organization_id`` come from the settings.

| preset | parse_mode | model | credits per page |
|---|---|---|---|
| ``cost_effective`` | parse_page_with_llm | (service default) | 3 |
| ``agentic`` (default) | parse_page_with_agent | openai-gpt-4-1-mini | 10 |
| ``agentic_plus`` | parse_page_with_agent | anthropic-sonnet-4.0 | 45 |

Example:
    >>> ParsePreset.from_name("agentic").llamaparse_kwargs()["model"]
    'openai-gpt-4-1-mini'
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from llama_index_cloudkit.errors import ConfigError

__all__ = ["ParsePreset"]

_COMMON: dict[str, Any] = {
    "high_res_ocr": True,
    "adaptive_long_table": True,
    "outlined_table_extraction": True,
    "output_tables_as_HTML": True,
    "result_type": "markdown",
}


class ParsePreset(str, Enum):
    """The three named LlamaParse presets.

    Example:
        >>> ParsePreset.COST_EFFECTIVE.credits_per_page
        3
    """

    COST_EFFECTIVE = "cost_effective"
    AGENTIC = "agentic"
    AGENTIC_PLUS = "agentic_plus"

    @classmethod
    def from_name(cls, name: str | ParsePreset) -> ParsePreset:
        """Look a preset up by name (``-`` and ``_`` are interchangeable).

        Raises:
            ConfigError: an unknown name; the message lists the valid ones.

        Example:
            >>> ParsePreset.from_name("agentic-plus").value
            'agentic_plus'
        """
        if isinstance(name, ParsePreset):
            return name
        try:
            return cls(str(name).strip().lower().replace("-", "_"))
        except ValueError:
            valid = ", ".join(p.value for p in cls)
            raise ConfigError(f"Unknown parse preset {name!r}", hint=f"Use one of: {valid}") from None

    @property
    def credits_per_page(self) -> int:
        """LlamaCloud's published credits per page for this preset."""
        return {"cost_effective": 3, "agentic": 10, "agentic_plus": 45}[self.value]

    def llamaparse_kwargs(self) -> dict[str, Any]:
        """The LlamaParse constructor arguments of this preset (without project/org ids).

        Example:
            >>> ParsePreset.COST_EFFECTIVE.llamaparse_kwargs()["parse_mode"]
            'parse_page_with_llm'
        """
        if self is ParsePreset.COST_EFFECTIVE:
            specific: dict[str, Any] = {"parse_mode": "parse_page_with_llm"}
        elif self is ParsePreset.AGENTIC:
            specific = {"parse_mode": "parse_page_with_agent", "model": "openai-gpt-4-1-mini"}
        else:
            specific = {"parse_mode": "parse_page_with_agent", "model": "anthropic-sonnet-4.0"}
        return {**specific, **_COMMON}
