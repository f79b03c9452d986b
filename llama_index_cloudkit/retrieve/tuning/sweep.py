"""The tuning sweep: many (alpha, per-leg top-k) settings scored on the same candidate pools.

Each question's dense and BM25 scores are computed once; every setting is then a prefix of the
two ranked legs and one fusion, exactly what ``LocalHybridIndex.search`` does, scored by binary
nDCG@10 and by the recall of its candidates.

Example:
    >>> round(ndcg_at_10(["x", "a", "b"], [{"a"}, {"b"}]), 3)
    0.693
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from llama_index_cloudkit.retrieve.fusion import relative_score_fusion
from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
from llama_index_cloudkit.retrieve.tuning.report import SweepRow

__all__ = ["Sweeper", "ndcg_at_10"]

_LOG2 = [1.0 / math.log2(rank + 2) for rank in range(10)]


def ndcg_at_10(ranked: Sequence[str], relevant: Sequence[set[str]]) -> float:
    """Binary nDCG@10; each relevant item (a set of passage ids) is credited once, at its best rank.

    Example:
        >>> round(ndcg_at_10(["x", "a", "b"], [{"a"}, {"b"}]), 3)
        0.693
    """
    if not relevant:
        return 0.0
    credited: set[int] = set()
    dcg = 0.0
    for rank, node_id in enumerate(ranked[:10]):
        for item, carriers in enumerate(relevant):
            if item not in credited and node_id in carriers:
                credited.add(item)
                dcg += _LOG2[rank]
                break
    return dcg / sum(_LOG2[: min(len(relevant), 10)])


def _recall(pool: Iterable[str], relevant: Sequence[set[str]]) -> float:
    found = set(pool)
    return sum(1 for carriers in relevant if carriers & found) / len(relevant) if relevant else 0.0


class Sweeper:
    """Scores many (alpha, per-leg top-k) settings on the same candidate pools of one index.

    Each question's dense and BM25 scores are computed once; every setting is then a prefix of
    the two ranked legs and one fusion, exactly what ``LocalHybridIndex.search`` does.

    Args:
        index: the LocalHybridIndex to sweep.
        questions: the question texts.
        relevant: for each question, its relevant items as sets of passage ids (see ``resolve``).
        max_leg_top_k: the deepest per-leg top-k that will be asked for.

    Example:
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
        >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.", id_="hay"),
        ...                           TextNode(text="Rain today.", id_="rain")])
        >>> Sweeper(index, ["What do llamas eat?"], [[{"hay"}]], max_leg_top_k=10).score(0.5, 10).ndcg_at_10
        1.0
    """

    def __init__(
        self,
        index: LocalHybridIndex,
        questions: Sequence[str],
        relevant: Sequence[Sequence[set[str]]],
        *,
        max_leg_top_k: int,
        vectors: Any = None,
    ) -> None:
        np = index._np
        self.relevant = list(relevant)
        if vectors is None:
            vectors = [index.embed_model.get_query_embedding(q) for q in questions]
        everything = np.ones(len(index), dtype=bool)
        self.dense: list[list[tuple[str, float]]] = []
        self.sparse: list[list[tuple[str, float]]] = []
        for question, vector in zip(questions, vectors, strict=True):
            dense = index._top(index.dense_scores(question, vector=vector), everything, max_leg_top_k)
            scores = index.sparse_scores(question)
            sparse = index._top(scores, everything & (scores > 0), max_leg_top_k)
            self.dense.append(list(dense.items()))
            self.sparse.append(list(sparse.items()))

    def ranked(self, question: int, alpha: float, dense_k: int, sparse_k: int) -> tuple[list[str], set[str]]:
        """The fused ranking of one question and its candidate pool."""
        dense = dict(self.dense[question][:dense_k]) if alpha > 0 else {}
        sparse = dict(self.sparse[question][:sparse_k]) if alpha < 1 else {}
        fused = relative_score_fusion(dense, sparse, alpha)
        return [node_id for node_id, _ in fused], {*dense, *sparse}

    def per_question(
        self, alpha: float, dense_k: int, sparse_k: int, which: Sequence[int]
    ) -> tuple[list[float], list[float]]:
        """nDCG@10 and candidate recall of each question in ``which``."""
        ndcgs, recalls = [], []
        for q in which:
            ranked, pool = self.ranked(q, alpha, dense_k, sparse_k)
            ndcgs.append(ndcg_at_10(ranked, self.relevant[q]))
            recalls.append(_recall(pool, self.relevant[q]))
        return ndcgs, recalls

    def score(self, alpha: float, leg_top_k: int, which: Sequence[int] | None = None) -> SweepRow:
        """Mean nDCG@10 and candidate recall of one setting over ``which`` (default: all)."""
        chosen = range(len(self.relevant)) if which is None else which
        ndcgs, recalls = self.per_question(alpha, leg_top_k, leg_top_k, list(chosen))
        return SweepRow(alpha, leg_top_k, statistics.fmean(ndcgs), statistics.fmean(recalls))

    def sweep(
        self, alphas: Sequence[float], leg_top_ks: Sequence[int], which: Sequence[int] | None = None
    ) -> list[SweepRow]:
        """Every (alpha, k) setting, alpha-major."""
        return [self.score(alpha, k, which) for alpha in alphas for k in leg_top_ks]
