"""HybridConfig: one validated retrieval configuration for every target.

How many results come back is one rule on every target (the local index, any LlamaIndex vector
store, LlamaCloud): ``rerank_top_n`` when ``enable_reranking`` is on, ``top_k`` when it is off.
Give only one of the two and the other follows it, so ``top_k=3`` means three results whatever
the reranking setting. The per-target tables are in docs/retrieval-presets.md.

Each target turns it into its own request; for LlamaCloud that is the index adapters'
(:mod:`llama_index_cloudkit.retrieve.llamacloud`), which send 0, 0.0 and False as given.

Example:
    >>> config = HybridConfig(alpha=0.0, enable_reranking=False, top_k=4)
    >>> config.final_top_k, config.alpha
    (4, 0.0)
"""

from __future__ import annotations

from typing import Any, Literal

from llama_index.core.vector_stores.types import MetadataFilters
from pydantic import ConfigDict, Field, model_validator

from llama_index_cloudkit._component import ComponentMixin

__all__ = ["HybridConfig", "RetrievalMode", "config_keywords"]

RetrievalMode = Literal["chunks", "files_via_metadata", "files_via_content", "auto_routed"]

_COUNT_FIELDS = ("top_k", "rerank_top_n")  # the final count: rerank_top_n with reranking on, top_k off

_LEGS = ("dense_similarity_top_k", "sparse_similarity_top_k")
_MAX_LEG = 1000


class HybridConfig(ComponentMixin):
    """Dense + sparse retrieval with relative-score fusion, optional reranking, one result count.

    Args:
        dense_similarity_top_k: candidates from the dense (embedding) leg.
        sparse_similarity_top_k: candidates from the sparse (BM25) leg.
        alpha: fusion weight in [0, 1]; 1 is dense only, 0 is sparse only.
        enable_reranking: rerank the fused candidates (LlamaCloud's reranker; locally, the
            reranker given to the index, if any).
        rerank_top_n: how many results come back when reranking is on (at most dense + sparse).
        top_k: how many results come back when reranking is off. When only one of
            ``top_k`` and ``rerank_top_n`` is given, the other takes its value.
        retrieval_mode: LlamaCloud's mode (``chunks`` for passages).
        files_top_k: files to return in the file-level modes.
        filters: metadata filters (AND / OR / NOT, nested).

    A target returns at most :attr:`final_top_k` results; fewer only when fewer passages match.

    Example:
        >>> HybridConfig(dense_similarity_top_k=20, alpha=0.4).rerank_top_n
        6
        >>> HybridConfig(top_k=3).rerank_top_n, HybridConfig(rerank_top_n=3).top_k
        (3, 3)
        >>> HybridConfig(dense_similarity_top_k=5, sparse_similarity_top_k=5, rerank_top_n=20)
        Traceback (most recent call last):
        ...
        pydantic_core._pydantic_core.ValidationError: ...
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)

    dense_similarity_top_k: int = Field(default=30, ge=0, le=_MAX_LEG)
    sparse_similarity_top_k: int = Field(default=30, ge=0, le=_MAX_LEG)
    alpha: float = Field(default=0.5, ge=0.0, le=1.0)
    enable_reranking: bool = True
    rerank_top_n: int = Field(default=6, ge=1, le=2000)
    top_k: int = Field(default=6, ge=1, le=2000)
    retrieval_mode: RetrievalMode = "chunks"
    files_top_k: int | None = Field(default=None, ge=1, le=100)
    filters: MetadataFilters | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_count_follows_the_other(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if not (k in _COUNT_FIELDS and v is None)}
        if "top_k" in data and "rerank_top_n" not in data:
            data["rerank_top_n"] = data["top_k"]
        elif "rerank_top_n" in data and "top_k" not in data:
            data["top_k"] = data["rerank_top_n"]
        return data

    @model_validator(mode="after")
    def _check_sizes(self) -> HybridConfig:
        total = self.dense_similarity_top_k + self.sparse_similarity_top_k
        if total == 0:
            raise ValueError("dense_similarity_top_k and sparse_similarity_top_k cannot both be 0")
        if self.enable_reranking and self.rerank_top_n > total:
            raise ValueError(
                f"rerank_top_n ({self.rerank_top_n}) must be at most dense_similarity_top_k + "
                f"sparse_similarity_top_k ({total})"
            )
        if self.alpha > 0 and self.dense_similarity_top_k == 0:
            raise ValueError("alpha > 0 weights the dense leg, so dense_similarity_top_k must be > 0")
        if self.alpha < 1 and self.sparse_similarity_top_k == 0:
            raise ValueError("alpha < 1 weights the sparse leg, so sparse_similarity_top_k must be > 0")
        return self

    @property
    def final_top_k(self) -> int:
        """How many results a target returns: ``rerank_top_n`` with reranking on, else ``top_k``.

        Example:
            >>> HybridConfig(rerank_top_n=4, top_k=9, enable_reranking=False).final_top_k
            9
        """
        return self.rerank_top_n if self.enable_reranking else self.top_k

    def with_overrides(self, **overrides: Any) -> HybridConfig:
        """A copy with some fields changed, validated again; the overrides always win.

        A count override (``top_k`` or ``rerank_top_n`` alone) sets the final count whatever the
        reranking setting, and widens a per-leg top-k that is smaller than it (unless that leg is
        overridden too), so the candidates can fill the count. None values are ignored.

        Example:
            >>> base = HybridConfig(dense_similarity_top_k=5, sparse_similarity_top_k=5)
            >>> base.with_overrides(alpha=1.0).alpha
            1.0
            >>> fast = base.with_overrides(enable_reranking=False, top_k=8)
            >>> fast.final_top_k, fast.dense_similarity_top_k
            (8, 8)
            >>> base.with_overrides(top_k=1).final_top_k
            1
        """
        given = {k: v for k, v in overrides.items() if not (k in _COUNT_FIELDS and v is None)}
        values: dict[str, Any] = {**self.model_dump(exclude={"filters"}), "filters": self.filters}
        counts = [name for name in _COUNT_FIELDS if name in given]
        if len(counts) == 1:
            for name in _COUNT_FIELDS:
                values[name] = given[counts[0]]
        values.update(given)
        if counts:
            wanted = values["rerank_top_n"] if values["enable_reranking"] else values["top_k"]
            for leg in _LEGS:
                if leg not in given and 0 < values[leg] < wanted:
                    values[leg] = min(int(wanted), _MAX_LEG)
        return HybridConfig(**values)


def config_keywords(overrides: dict[str, Any], where: str) -> dict[str, Any]:
    """HybridConfig overrides with LlamaIndex's ``similarity_top_k`` read as ``top_k``; typos refused.

    Raises:
        ConfigError: an unknown keyword (naming the closest field), or both names of the count.

    Example:
        >>> config_keywords({"similarity_top_k": 2}, "as_retriever")
        {'top_k': 2}
    """
    from llama_index_cloudkit.errors import ConfigError
    from llama_index_cloudkit.settings import check_keywords

    if "similarity_top_k" in overrides:
        if "top_k" in overrides:
            raise ConfigError(
                f"{where} got both similarity_top_k and top_k", hint="Pass one (the result count)"
            )
        overrides = {("top_k" if k == "similarity_top_k" else k): v for k, v in overrides.items()}
    check_keywords(overrides, [*HybridConfig.model_fields, "similarity_top_k"], where)
    return overrides
