"""Tune a hybrid index's retrieval settings on the user's own judged questions.

``tune_retrieval`` sweeps alpha and the per-leg top-k on the same candidate pools (each
question's dense and BM25 scores are computed once), scores every setting by nDCG@10 and by
the recall of its candidates, picks the best on a tuning split, and checks it on a held-back
split: when the held-back gain over the starting preset is within noise, it keeps the preset.
No LLM is needed: questions come from the user, or from an LLM only when one is passed.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_index.core.llms import LLM

from llama_index_cloudkit._llama_settings import explicit_llm
from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
from llama_index_cloudkit.retrieve.presets import RetrievalPreset
from llama_index_cloudkit.retrieve.tuning.questions import (
    JudgedQuestion,
    generate_questions,
    parse_questions,
    resolve,
)
from llama_index_cloudkit.retrieve.tuning.report import SweepRow, plot_sweep, sweep_table
from llama_index_cloudkit.retrieve.tuning.sweep import Sweeper

__all__ = ["DEFAULT_ALPHAS", "DEFAULT_LEG_TOP_KS", "TuningResult", "tune_retrieval"]

DEFAULT_ALPHAS: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))
DEFAULT_LEG_TOP_KS: tuple[int, ...] = (10, 20, 50, 100)


@dataclass
class TuningResult:
    """What ``tune_retrieval`` found: the chosen config, the sweep table and the held-back check.

    Attributes:
        config: the settings to use (the starting preset's when ``kept_preset``).
        start: the starting settings (the index's tuned config, or the preset).
        rows: every setting's scores on the tuning split.
        best: the best setting on the tuning split.
        kept_preset: whether the held-back gain was within noise, so ``start`` was kept.
        held_out_start: nDCG@10 of ``start`` on the held-back questions.
        held_out_best: nDCG@10 of ``best`` on the held-back questions.
        noise: the gain that counts as noise (``min_gain`` or two standard errors).
        questions: questions used (tuning + held back); ``skipped`` matched no passage.

    Example:
        >>> from llama_index.core.schema import TextNode
        >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.", id_="hay"),
        ...                           TextNode(text="Rain today.", id_="rain")])
        >>> result = tune_retrieval(index, [("What do llamas eat?", ["hay"]), ("Weather?", ["rain"])],
        ...                         alphas=[0.5], leg_top_ks=[10], apply=False)
        >>> result.best.ndcg_at_10
        1.0
    """

    config: HybridConfig
    start: HybridConfig
    rows: list[SweepRow]
    best: SweepRow
    kept_preset: bool
    held_out_start: float
    held_out_best: float
    noise: float
    questions: int
    held_out: int
    skipped: list[str] = field(default_factory=list)

    def table(self) -> str:
        """The sweep as a Markdown table: nDCG@10 (recall@k of the candidates) by alpha and k."""
        return sweep_table(self.rows, best=self.best)

    def summary(self) -> str:
        """One paragraph: what was chosen and why."""
        tuned = f"alpha {self.best.alpha:.1f}, k {self.best.leg_top_k}"
        verdict = (
            f"kept the starting settings (alpha {self.start.alpha:.1f}, k "
            f"{self.start.dense_similarity_top_k}/{self.start.sparse_similarity_top_k}): "
            f"the held-back gain of {tuned} is within noise"
            if self.kept_preset
            else f"chose {tuned}"
        )
        return (
            f"{self.questions} judged questions ({self.held_out} held back"
            + (f", {len(self.skipped)} skipped: nothing they name is in the index" if self.skipped else "")
            + f"). Best on the tuning split: {tuned}, nDCG@10 {self.best.ndcg_at_10:.3f}. "
            f"Held back: start {self.held_out_start:.3f}, best {self.held_out_best:.3f} "
            f"(gain {self.held_out_best - self.held_out_start:+.3f}, noise {self.noise:.3f}); {verdict}."
        )

    def plot(self, path: str | Path) -> Path:
        """Write nDCG@10 against alpha, one line per k, as a PNG (needs matplotlib).

        Raises:
            ImportError: matplotlib is missing (``pip install 'llama-index-cloudkit[tune]'``).
        """
        return plot_sweep(self.rows, path, title="nDCG@10 against alpha (tuning split)", best=self.best)

    def write(self, out_dir: str | Path, *, plot: bool = True) -> list[Path]:
        """Write ``tuning.md`` (summary and table) and, with ``plot``, ``tuning.png`` beside it.

        Raises:
            ImportError: ``plot`` is set and matplotlib is missing (the table is written first).
        """
        target = Path(out_dir)
        target.mkdir(parents=True, exist_ok=True)
        table = target / "tuning.md"
        table.write_text(f"# Retrieval tuning\n\n{self.summary()}\n\n{self.table()}\n", encoding="utf-8")
        written = [table]
        if plot:
            written.append(self.plot(target / "tuning.png"))
        return written


def _start_config(index: Any, preset: str | RetrievalPreset | HybridConfig | None) -> HybridConfig:
    if isinstance(preset, HybridConfig):
        return preset
    if preset is None:
        tuned = getattr(index, "retrieval_config", None)
        if isinstance(tuned, HybridConfig):
            return tuned
        preset = RetrievalPreset.BALANCED
    return RetrievalPreset.from_name(preset).config()


def _split(count: int, held_out: float, seed: int) -> tuple[list[int], list[int]]:
    order = list(range(count))
    random.Random(seed).shuffle(order)
    wanted = round(count * held_out)
    n_held = min(max(wanted, 1), count - 1) if held_out > 0 and count >= 2 else 0
    return sorted(order[n_held:]), sorted(order[:n_held])


def _better(row: SweepRow, best: SweepRow | None) -> bool:
    # A tie keeps the first row: the smaller alpha, then the smaller (faster) candidate pool.
    return best is None or row.ndcg_at_10 > best.ndcg_at_10 + 1e-12


def tune_retrieval(
    index: LocalHybridIndex,
    questions: Iterable[Any] | Mapping[str, Any] | None = None,
    *,
    llm: LLM | None = None,
    num_questions: int = 20,
    preset: str | RetrievalPreset | HybridConfig | None = None,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    leg_top_ks: Sequence[int] = DEFAULT_LEG_TOP_KS,
    held_out: float = 0.3,
    min_gain: float = 0.005,
    seed: int = 0,
    apply: bool = True,
    persist_dir: str | Path | None = None,
    _vectors: Any = None,
) -> TuningResult:
    """Find the alpha and per-leg top-k that rank the user's judged questions best.

    Args:
        index: the LocalHybridIndex to tune.
        questions: ``(question, relevant)`` pairs, ``{"question", "relevant"}`` dicts or a
            ``{question: relevant}`` mapping; relevant items are node ids, document ids or
            ``(file name, page)`` pairs (see :mod:`llama_index_cloudkit.retrieve.tuning.questions`).
        llm: used only when ``questions`` is None, to write ``num_questions`` questions from
            sampled passages (each passage is then its question's relevant item).
        num_questions: how many questions to generate with ``llm``.
        preset: the starting settings (default: the index's tuned config, else ``balanced``);
            the result keeps their result count, reranking and filters (the sweep itself
            searches the whole index, without filters or reranker).
        alphas: the fusion weights to try.
        leg_top_ks: the per-leg top-k values to try (the same k for both legs).
        held_out: the share of questions held back to check the choice.
        min_gain: the smallest held-back nDCG@10 gain worth a change; the noise is the larger
            of this and two standard errors of the per-question gain.
        seed: the split's (and the question sample's) seed.
        apply: set ``index.retrieval_config`` to the result, so ``as_retriever()`` and
            ``make_retriever(index)`` use it.
        persist_dir: also write the result next to an index persisted there (retrieval.json).

    Returns:
        A TuningResult: ``config``, the sweep ``rows``, ``table()``, ``plot(path)``.

    Raises:
        ConfigError: no questions and no LLM, or no question names anything in the index.

    Example:
        >>> from llama_index.core.schema import TextNode
        >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.", id_="hay"),
        ...     TextNode(text="Refunds within 30 days.", id_="refund"),
        ...     TextNode(text="Rain today.", id_="rain")])
        >>> pairs = [("How much hay?", ["hay"]), ("Refunds?", ["refund"]), ("Weather?", ["rain"])]
        >>> result = tune_retrieval(index, pairs, alphas=[0.0, 0.5], leg_top_ks=[10])
        >>> index.retrieval_config == result.config, len(result.rows)
        (True, 2)
    """
    if not isinstance(index, LocalHybridIndex):
        raise ConfigError(
            f"tune_retrieval sweeps a LocalHybridIndex, not a {type(index).__name__}",
            hint="Build one with LocalHybridIndex.from_documents(...) over the same documents",
        )
    if questions is None:
        llm = llm if llm is not None else explicit_llm()
        if llm is None:
            raise ConfigError(
                "tune_retrieval needs judged questions, or an LLM to write them",
                hint="Pass questions=[(question, [node or document ids]), ...], llm=..., or set Settings.llm",
            )
        judged = generate_questions(index.nodes, llm, num_questions=num_questions, seed=seed)
    else:
        judged = parse_questions(questions)
    start = _start_config(index, preset)
    resolved = resolve(judged, index.nodes)
    usable = [i for i, items in enumerate(resolved) if items]
    skipped = [judged[i].question for i, items in enumerate(resolved) if not items]
    if not usable:
        example = judged[0].relevant[0] if judged else None
        raise ConfigError(
            f"None of the {len(judged)} questions names a passage of this index (e.g. {example!r})",
            hint="Relevant items are node ids, document ids (ref_doc_id) or (file_name, page) pairs",
        )
    kept: list[JudgedQuestion] = [judged[i] for i in usable]
    relevant = [resolved[i] for i in usable]
    vectors = None if _vectors is None else [_vectors[i] for i in usable]
    deepest = max([*leg_top_ks, start.dense_similarity_top_k, start.sparse_similarity_top_k])
    sweeper = Sweeper(index, [q.question for q in kept], relevant, max_leg_top_k=deepest, vectors=vectors)
    tune, check = _split(len(kept), held_out, seed)
    rows = sweeper.sweep(alphas, leg_top_ks, tune)
    best: SweepRow | None = None
    for row in rows:
        if _better(row, best):
            best = row
    assert best is not None  # alphas and leg_top_ks are not empty
    check_on = check or tune
    legs = (start.dense_similarity_top_k, start.sparse_similarity_top_k)
    start_scores, _ = sweeper.per_question(start.alpha, *legs, check_on)
    best_scores, _ = sweeper.per_question(best.alpha, best.leg_top_k, best.leg_top_k, check_on)
    gains = [b - s for b, s in zip(best_scores, start_scores, strict=True)]
    spread = 2 * statistics.stdev(gains) / math.sqrt(len(gains)) if len(gains) > 1 else 0.0
    noise = max(min_gain, spread)
    kept_preset = statistics.fmean(gains) <= noise
    chosen = (
        start
        if kept_preset
        else start.with_overrides(
            alpha=best.alpha, dense_similarity_top_k=best.leg_top_k, sparse_similarity_top_k=best.leg_top_k
        )
    )
    if apply:
        index.retrieval_config = chosen
    if persist_dir is not None:
        index.persist_retrieval_config(persist_dir, chosen)
    return TuningResult(
        config=chosen,
        start=start,
        rows=rows,
        best=best,
        kept_preset=kept_preset,
        held_out_start=statistics.fmean(start_scores),
        held_out_best=statistics.fmean(best_scores),
        noise=noise,
        questions=len(kept),
        held_out=len(check),
        skipped=skipped,
    )
