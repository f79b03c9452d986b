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
from typing import Any, TypeVar

from llama_index_cloudkit.errors import ConfigError

__all__ = ["ParsePreset"]

_COMMON: dict[str, Any] = {
    "high_res_ocr": True,
    "adaptive_long_table": True,
    "outlined_table_extraction": True,
    "output_tables_as_HTML": True,
    "result_type": "markdown",
}


E = TypeVar("E", bound=Enum)


def _lookup(cls: type[E], name: str | E, kind: str) -> E:
    """The member of ``cls`` named ``name`` (case, spaces and ``-`` / ``_`` ignored)."""
    if isinstance(name, cls):
        return name
    try:
        return cls(str(name).strip().lower().replace("-", "_"))
    except ValueError:
        valid = ", ".join(str(p.value) for p in cls)
        raise ConfigError(f"Unknown {kind} preset {name!r}", hint=f"Use one of: {valid}") from None


class ParsePreset(str, Enum):
    """The named LlamaParse presets: the seed's three, and ``fast`` on LlamaCloud's API v2 only.

    Example:
        >>> ParsePreset.COST_EFFECTIVE.credits_per_page
        3
    """

    COST_EFFECTIVE = "cost_effective"
    AGENTIC = "agentic"
    AGENTIC_PLUS = "agentic_plus"
    FAST = "fast"

    @classmethod
    def for_api(cls, api_version: str) -> tuple[ParsePreset, ...]:
        """The presets an API generation offers (``fast`` is v2 only).

        Example:
            >>> [p.value for p in ParsePreset.for_api("v1")]
            ['cost_effective', 'agentic', 'agentic_plus']
        """
        return tuple(p for p in cls if api_version == "v2" or p is not cls.FAST)

    @classmethod
    def from_name(cls, name: str | ParsePreset) -> ParsePreset:
        """Look a preset up by name (``-`` and ``_`` are interchangeable).

        Raises:
            ConfigError: an unknown name; the message lists the valid ones.

        Example:
            >>> ParsePreset.from_name("agentic-plus").value
            'agentic_plus'
        """
        return _lookup(cls, name, "parse")

    @property
    def credits_per_page(self) -> int:
        """LlamaCloud's published credits per page for this preset."""
        return {"fast": 1, "cost_effective": 3, "agentic": 10, "agentic_plus": 45}[self.value]

    def llamaparse_kwargs(self) -> dict[str, Any]:
        """The LlamaParse constructor arguments of this preset (without project/org ids).

        Example:
            >>> ParsePreset.COST_EFFECTIVE.llamaparse_kwargs()["parse_mode"]
            'parse_page_with_llm'
        """
        if self is ParsePreset.FAST:
            raise ConfigError(
                "The 'fast' parse preset exists on LlamaCloud's API v2 only",
                hint="Set api_version='v2' (or CLOUDKIT_API_VERSION=v2), or pick cost_effective, "
                "agentic or agentic_plus on v1",
            )
        if self is ParsePreset.COST_EFFECTIVE:
            specific: dict[str, Any] = {"parse_mode": "parse_page_with_llm"}
        elif self is ParsePreset.AGENTIC:
            specific = {"parse_mode": "parse_page_with_agent", "model": "openai-gpt-4-1-mini"}
        else:
            specific = {"parse_mode": "parse_page_with_agent", "model": "anthropic-sonnet-4.0"}
        return {**specific, **_COMMON}
