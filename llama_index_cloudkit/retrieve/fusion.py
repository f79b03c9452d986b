"""Relative-score fusion: the one way both hybrid indexes merge their dense and BM25 legs.

A pure function of its inputs (ids deduplicated, input scores untouched, ties in a stable order),
shared by :class:`~llama_index_cloudkit.retrieve.local.LocalHybridIndex`, the Qdrant index and
the tuning sweep, so all three rank alike.

Example:
    >>> relative_score_fusion({"a": 1.0}, {"a": 3.0, "b": 1.0}, alpha=0.5)
    [('a', 1.0), ('b', 0.0)]
"""

from __future__ import annotations

__all__ = ["relative_score_fusion"]


def _minmax(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high == low:
        return dict.fromkeys(scores, 1.0)
    return {key: (value - low) / (high - low) for key, value in scores.items()}


def relative_score_fusion(
    dense: dict[str, float], sparse: dict[str, float], alpha: float
) -> list[tuple[str, float]]:
    """Fuse two ranked lists: min-max scale each, then ``alpha * dense + (1 - alpha) * sparse``.

    A pure function of its inputs: ids are deduplicated, the input scores are not changed, and
    ties keep a stable order (by id). A list missing from one leg counts 0 there.

    Example:
        >>> relative_score_fusion({"a": 0.9, "b": 0.1}, {"b": 12.0, "c": 3.0}, alpha=0.5)
        [('a', 0.5), ('b', 0.5), ('c', 0.0)]
    """
    scaled_dense, scaled_sparse = _minmax(dense), _minmax(sparse)
    fused = {
        key: alpha * scaled_dense.get(key, 0.0) + (1 - alpha) * scaled_sparse.get(key, 0.0)
        for key in {**dense, **sparse}
    }
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
