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
from llama_index_cloudkit.retrieve.config import HybridConfig

__all__ = ["ParsePreset", "RetrievalPreset"]

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


class RetrievalPreset(str, Enum):
    """Named hybrid-retrieval settings, tuned on SciFact (train judgments) with the local index.

    Evidence: ``python benchmarks/retrieval.py`` on SciFact's 809 train queries with the
    local index (bm25s k1 1.5 / b 0.75 + int8 all-MiniLM-L6-v2, relative-score fusion); the
    nDCG@10 column is without a reranker (none ships offline). See docs/retrieval-presets.md.

    Every target returns ``results`` passages: ``rerank_top_n`` with reranking on, ``top_k``
    with it off (the two are equal in every preset). A ``top_k=`` or ``rerank_top_n=`` override
    sets that count on every preset and widens a smaller per-leg top-k.

    | preset | dense k | sparse k | alpha | rerank | results | nDCG@10 | recall@k of candidates |
    |---|---|---|---|---|---|---|---|
    | ``balanced`` (default) | 50 | 50 | 0.4 | on | 10 | 0.730 | 0.947 |
    | ``semantic`` | 50 | 50 | 0.8 | on | 10 | 0.690 | 0.947 |
    | ``keyword`` | 50 | 50 | 0.2 | on | 10 | 0.715 | 0.947 |
    | ``fast`` | 20 | 20 | 0.5 | off | 10 | 0.730 | 0.915 |
    | ``deep`` | 100 | 100 | 0.4 | on | 20 | 0.729 | 0.969 |

    Example:
        >>> RetrievalPreset.from_name("balanced").config().alpha
        0.4
        >>> RetrievalPreset.FAST.config().final_top_k, RetrievalPreset.FAST.config(top_k=1).final_top_k
        (10, 1)
    """

    BALANCED = "balanced"
    SEMANTIC = "semantic"
    KEYWORD = "keyword"
    FAST = "fast"
    DEEP = "deep"

    @classmethod
    def from_name(cls, name: str | RetrievalPreset) -> RetrievalPreset:
        """Look a preset up by name.

        Raises:
            ConfigError: an unknown name; the message lists the valid ones.

        Example:
            >>> RetrievalPreset.from_name("DEEP").value
            'deep'
        """
        return _lookup(cls, name, "retrieval")

    def config(self, **overrides: Any) -> HybridConfig:
        """This preset's HybridConfig, with ``overrides`` applied (they always win) and validated.

        Example:
            >>> RetrievalPreset.FAST.config(alpha=1.0).alpha
            1.0
            >>> RetrievalPreset.DEEP.config(top_k=3).rerank_top_n
            3
        """
        return HybridConfig(**_RETRIEVAL_PRESETS[self.value]).with_overrides(**overrides)


_RETRIEVAL_PRESETS: dict[str, dict[str, Any]] = {
    "balanced": {
        "dense_similarity_top_k": 50,
        "sparse_similarity_top_k": 50,
        "alpha": 0.4,
        "enable_reranking": True,
        "rerank_top_n": 10,
        "top_k": 10,
    },
    "semantic": {
        "dense_similarity_top_k": 50,
        "sparse_similarity_top_k": 50,
        "alpha": 0.8,
        "enable_reranking": True,
        "rerank_top_n": 10,
        "top_k": 10,
    },
    "keyword": {
        "dense_similarity_top_k": 50,
        "sparse_similarity_top_k": 50,
        "alpha": 0.2,
        "enable_reranking": True,
        "rerank_top_n": 10,
        "top_k": 10,
    },
    "fast": {
        "dense_similarity_top_k": 20,
        "sparse_similarity_top_k": 20,
        "alpha": 0.5,
        "enable_reranking": False,
        "rerank_top_n": 10,
        "top_k": 10,
    },
    "deep": {
        "dense_similarity_top_k": 100,
        "sparse_similarity_top_k": 100,
        "alpha": 0.4,
        "enable_reranking": True,
        "rerank_top_n": 20,
        "top_k": 20,
    },
}
