"""The parse presets: one row each, read by the adapter of each API generation.

A row holds everything a preset means: the LlamaParse v1 arguments (the seed's, beside the
common ones), the Parse v2 tier of the same name and the dated version it is pinned to (so a
result does not change under you), and LlamaCloud's published credits per page. ``fast`` exists
on API v2 only. ``project_id`` and ``organization_id`` come from the settings.

| preset | v1 parse_mode | v1 model | v2 version | credits per page |
|---|---|---|---|---|
| ``cost_effective`` | parse_page_with_llm | (service default) | 2026-09-28 | 3 |
| ``agentic`` (default) | parse_page_with_agent | openai-gpt-4-1-mini | 2026-10-16 | 10 |
| ``agentic_plus`` | parse_page_with_agent | anthropic-sonnet-4.0 | 2026-09-28 | 45 |
| ``fast`` (v2 only) | | | 2026-06-15 | 1 |

Example:
    >>> ParsePreset.from_name("agentic").llamaparse_kwargs()["model"]
    'openai-gpt-4-1-mini'
    >>> ParsePreset.AGENTIC.row.v2_version, ParsePreset.FAST.credits_per_page
    ('2026-10-16', 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from llama_index_cloudkit.errors import ConfigError

__all__ = ["PRESETS", "ParsePreset", "PresetRow"]

_COMMON_V1: dict[str, Any] = {
    "high_res_ocr": True,
    "adaptive_long_table": True,
    "outlined_table_extraction": True,
    "output_tables_as_HTML": True,
    "result_type": "markdown",
}


@dataclass(frozen=True)
class PresetRow:
    """One preset: its v1 arguments (None: not on v1), its v2 tier, pin and price.

    Attributes:
        v1_arguments: the LlamaParse constructor arguments beside the common ones; None when
            the preset does not exist on v1.
        v2_version: the dated Parse v2 version the tier of the same name is pinned to.
        credits_per_page: LlamaCloud's published price.
        v2_markdown: whether the v2 tier returns markdown and items (not on ``fast``).

    Example:
        >>> PRESETS["fast"].v1_arguments is None
        True
    """

    v1_arguments: dict[str, Any] | None
    v2_version: str
    credits_per_page: int
    v2_markdown: bool = True


PRESETS: dict[str, PresetRow] = {
    # v2 pins: what "latest" resolved to in llama-cloud 2.19.0's docstring (reference, section 2).
    "cost_effective": PresetRow({"parse_mode": "parse_page_with_llm"}, "2026-09-28", 3),
    "agentic": PresetRow(
        {"parse_mode": "parse_page_with_agent", "model": "openai-gpt-4-1-mini"}, "2026-10-16", 10
    ),
    "agentic_plus": PresetRow(
        {"parse_mode": "parse_page_with_agent", "model": "anthropic-sonnet-4.0"}, "2026-09-28", 45
    ),
    "fast": PresetRow(None, "2026-06-15", 1, v2_markdown=False),
}
"""The table: preset name -> its row (the v2 tier of a preset has the preset's name)."""


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
    def from_name(cls, name: str | ParsePreset) -> ParsePreset:
        """Look a preset up by name (case, spaces, ``-`` and ``_`` ignored).

        Raises:
            ConfigError: an unknown name; the message lists the valid ones.

        Example:
            >>> ParsePreset.from_name("agentic-plus").value
            'agentic_plus'
        """
        if isinstance(name, cls):
            return name
        try:
            return cls(str(name).strip().lower().replace("-", "_"))
        except ValueError:
            valid = ", ".join(p.value for p in cls)
            raise ConfigError(f"Unknown parse preset {name!r}", hint=f"Use one of: {valid}") from None

    @property
    def row(self) -> PresetRow:
        """This preset's row of :data:`PRESETS`.

        Example:
            >>> ParsePreset.AGENTIC_PLUS.row.credits_per_page
            45
        """
        return PRESETS[self.value]

    @property
    def credits_per_page(self) -> int:
        """LlamaCloud's published credits per page for this preset."""
        return self.row.credits_per_page

    @property
    def on_v1(self) -> bool:
        """Whether LlamaParse v1 offers this preset (``fast`` is v2 only).

        Example:
            >>> [p.value for p in ParsePreset if p.on_v1]
            ['cost_effective', 'agentic', 'agentic_plus']
        """
        return self.row.v1_arguments is not None

    def llamaparse_kwargs(self) -> dict[str, Any]:
        """The LlamaParse v1 constructor arguments of this preset (without project/org ids).

        Raises:
            ConfigError: ``fast``, which has no v1 arguments (it exists on API v2 only).

        Example:
            >>> ParsePreset.COST_EFFECTIVE.llamaparse_kwargs()["parse_mode"]
            'parse_page_with_llm'
        """
        row = self.row
        if row.v1_arguments is None:
            raise ConfigError(
                f"The {self.value!r} parse preset has no LlamaParse v1 arguments: it exists on "
                "LlamaCloud's API v2 only",
                hint="Pick cost_effective, agentic or agentic_plus for v1",
            )
        return {**row.v1_arguments, **_COMMON_V1}
