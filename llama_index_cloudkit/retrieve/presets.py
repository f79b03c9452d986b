"""The retrieval presets: one table, one row per preset, tuned on SciFact with the local index.

Evidence: ``python benchmarks/retrieval.py`` on SciFact's 809 train queries with the local index
(bm25s k1 1.5 / b 0.75 + int8 all-MiniLM-L6-v2, relative-score fusion); the nDCG@10 column is
without a reranker (none ships offline). See docs/retrieval-presets.md.

Every target returns ``results`` passages: ``rerank_top_n`` with reranking on, ``top_k`` with it
off (the two are equal in every preset). A ``top_k=`` or ``rerank_top_n=`` override sets that count
on every preset and widens a smaller per-leg top-k.

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
    >>> [p.value for p in RetrievalPreset]
    ['balanced', 'semantic', 'keyword', 'fast', 'deep']
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.retrieve.config import HybridConfig

__all__ = ["RetrievalPreset"]


def _row(legs: int, alpha: float, rerank: bool, results: int) -> dict[str, Any]:
    return {
        "dense_similarity_top_k": legs,
        "sparse_similarity_top_k": legs,
        "alpha": alpha,
        "enable_reranking": rerank,
        "rerank_top_n": results,
        "top_k": results,
    }


# name: (per-leg top-k, alpha, reranking, results)
_TABLE: dict[str, dict[str, Any]] = {
    "balanced": _row(50, 0.4, True, 10),
    "semantic": _row(50, 0.8, True, 10),
    "keyword": _row(50, 0.2, True, 10),
    "fast": _row(20, 0.5, False, 10),
    "deep": _row(100, 0.4, True, 20),
}


class RetrievalPreset(str, Enum):
    """Named hybrid-retrieval settings: one row each of the table above.

    Example:
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
        """Look a preset up by name (case, spaces and ``-`` / ``_`` ignored).

        Raises:
            ConfigError: an unknown name; the message lists the valid ones.

        Example:
            >>> RetrievalPreset.from_name("DEEP").value
            'deep'
        """
        if isinstance(name, cls):
            return name
        try:
            return cls(str(name).strip().lower().replace("-", "_"))
        except ValueError:
            valid = ", ".join(p.value for p in cls)
            raise ConfigError(f"Unknown retrieval preset {name!r}", hint=f"Use one of: {valid}") from None

    def config(self, **overrides: Any) -> HybridConfig:
        """This preset's HybridConfig, with ``overrides`` applied (they always win) and validated.

        Example:
            >>> RetrievalPreset.FAST.config(alpha=1.0).alpha
            1.0
            >>> RetrievalPreset.DEEP.config(top_k=3).rerank_top_n
            3
        """
        return HybridConfig(**_TABLE[self.value]).with_overrides(**overrides)
