"""HybridConfig: one validated retrieval configuration for LlamaCloud and the local index.

Example:
    >>> config = HybridConfig(alpha=0.0, enable_reranking=False)
    >>> kwargs = config.to_llamacloud_kwargs()
    >>> kwargs["alpha"], kwargs["enable_reranking"]
    (0.0, False)
"""

from __future__ import annotations

from typing import Any, Literal

from llama_index.core.vector_stores.types import MetadataFilters
from pydantic import ConfigDict, Field, model_validator

from llama_index_cloudkit._component import ComponentMixin

__all__ = ["HybridConfig", "RetrievalMode"]

RetrievalMode = Literal["chunks", "files_via_metadata", "files_via_content", "auto_routed"]


class HybridConfig(ComponentMixin):
    """Dense + sparse retrieval with relative-score fusion and optional reranking.

    Args:
        dense_similarity_top_k: candidates from the dense (embedding) leg.
        sparse_similarity_top_k: candidates from the sparse (BM25) leg.
        alpha: fusion weight in [0, 1]; 1 is dense only, 0 is sparse only.
        enable_reranking: rerank the fused candidates (LlamaCloud's reranker; locally, the
            reranker given to the index, if any).
        rerank_top_n: how many results remain after reranking (at most dense + sparse).
        retrieval_mode: LlamaCloud's mode (``chunks`` for passages).
        files_top_k: files to return in the file-level modes.
        filters: metadata filters (AND / OR / NOT, nested).

    Example:
        >>> HybridConfig(dense_similarity_top_k=20, alpha=0.4).rerank_top_n
        6
        >>> HybridConfig(dense_similarity_top_k=5, sparse_similarity_top_k=5, rerank_top_n=20)
        Traceback (most recent call last):
        ...
        pydantic_core._pydantic_core.ValidationError: ...
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)

    dense_similarity_top_k: int = Field(default=30, ge=0, le=1000)
    sparse_similarity_top_k: int = Field(default=30, ge=0, le=1000)
    alpha: float = Field(default=0.5, ge=0.0, le=1.0)
    enable_reranking: bool = True
    rerank_top_n: int = Field(default=6, ge=1, le=2000)
    retrieval_mode: RetrievalMode = "chunks"
    files_top_k: int | None = Field(default=None, ge=1, le=100)
    filters: MetadataFilters | None = None

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

    def with_overrides(self, **overrides: Any) -> HybridConfig:
        """A copy with some fields changed, validated again.

        Example:
            >>> HybridConfig().with_overrides(alpha=1.0).alpha
            1.0
        """
        return HybridConfig(**{**self.model_dump(exclude={"filters"}), "filters": self.filters, **overrides})

    def to_llamacloud_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for LlamaCloudRetriever; 0, 0.0 and False are sent explicitly.

        Example:
            >>> config = HybridConfig(alpha=1.0, sparse_similarity_top_k=0)
            >>> config.to_llamacloud_kwargs()["sparse_similarity_top_k"]
            0
        """
        kwargs: dict[str, Any] = {
            "dense_similarity_top_k": self.dense_similarity_top_k,
            "sparse_similarity_top_k": self.sparse_similarity_top_k,
            "alpha": self.alpha,
            "enable_reranking": self.enable_reranking,
            "rerank_top_n": self.rerank_top_n,
            "retrieval_mode": self.retrieval_mode,
        }
        if self.files_top_k is not None:
            kwargs["files_top_k"] = self.files_top_k
        if self.filters is not None:
            kwargs["filters"] = self.filters
        return kwargs
