"""The sweep as a Markdown table and as a PNG plot of nDCG@10 against alpha (one line per k).

The plot needs matplotlib (``pip install 'llama-index-cloudkit[tune]'``); it is drawn with the
object API (no pyplot state), so it is safe in threads and needs no display.

Example:
    >>> rows = [SweepRow(0.0, 10, 0.69, 0.86), SweepRow(0.5, 10, 0.73, 0.87)]
    >>> print(sweep_table(rows))
    | alpha | k=10 |
    |---|---|
    | 0.0 | 0.690 (0.860) |
    | 0.5 | 0.730 (0.870) |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llama_index_cloudkit._imports import require

__all__ = ["SweepRow", "plot_sweep", "sweep_table"]


@dataclass(frozen=True)
class SweepRow:
    """One setting of the sweep and its scores (means over the questions it was run on).

    Example:
        >>> SweepRow(alpha=0.4, leg_top_k=50, ndcg_at_10=0.73, recall=0.95).alpha
        0.4
    """

    alpha: float
    leg_top_k: int
    ndcg_at_10: float
    recall: float


def _grid(rows: Sequence[SweepRow]) -> tuple[list[float], list[int], dict[tuple[float, int], SweepRow]]:
    alphas = sorted({r.alpha for r in rows})
    ks = sorted({r.leg_top_k for r in rows})
    return alphas, ks, {(r.alpha, r.leg_top_k): r for r in rows}


def sweep_table(rows: Sequence[SweepRow], *, best: SweepRow | None = None) -> str:
    """nDCG@10 (recall@k of the candidates) by alpha (rows) and per-leg top-k (columns).

    The best cell is in bold.

    Example:
        >>> print(sweep_table([SweepRow(0.4, 50, 0.73, 0.947)], best=SweepRow(0.4, 50, 0.73, 0.947)))
        | alpha | k=50 |
        |---|---|
        | 0.4 | **0.730** (0.947) |
    """
    alphas, ks, cells = _grid(rows)
    lines = ["| alpha | " + " | ".join(f"k={k}" for k in ks) + " |", "|---" * (len(ks) + 1) + "|"]
    for alpha in alphas:
        out = []
        for k in ks:
            row = cells.get((alpha, k))
            if row is None:
                out.append("-")
                continue
            ndcg = f"{row.ndcg_at_10:.3f}"
            if best is not None and (row.alpha, row.leg_top_k) == (best.alpha, best.leg_top_k):
                ndcg = f"**{ndcg}**"
            out.append(f"{ndcg} ({row.recall:.3f})")
        lines.append(f"| {alpha:.1f} | " + " | ".join(out) + " |")
    return "\n".join(lines)


def plot_sweep(
    rows: Sequence[SweepRow],
    path: str | Path,
    *,
    title: str = "nDCG@10 against alpha",
    best: SweepRow | None = None,
    baselines: dict[str, float] | None = None,
) -> Path:
    """Write a PNG of nDCG@10 against alpha, one line per per-leg top-k.

    Args:
        rows: the sweep.
        path: where the PNG goes (its folder is created).
        title: the plot's title.
        best: a setting to mark.
        baselines: horizontal reference lines, ``{label: nDCG@10}``.

    Raises:
        ImportError: matplotlib is not installed; the message names the extra.

    Example:
        >>> import pathlib, tempfile
        >>> rows = [SweepRow(0.0, 10, 0.69, 0.86), SweepRow(0.5, 10, 0.73, 0.87)]
        >>> plot_sweep(rows, pathlib.Path(tempfile.mkdtemp()) / "sweep.png").suffix
        '.png'
    """
    require("matplotlib", "tune")
    from matplotlib.figure import Figure

    alphas, ks, cells = _grid(rows)
    figure = Figure(figsize=(6.4, 4.0), dpi=120)
    axes = figure.subplots()
    for k in ks:
        points = [(a, cells[(a, k)].ndcg_at_10) for a in alphas if (a, k) in cells]
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3, label=f"k={k}")
    for label, value in (baselines or {}).items():
        axes.axhline(value, linestyle="--", linewidth=1, color="grey")
        axes.annotate(label, (alphas[0], value), textcoords="offset points", xytext=(2, 3), fontsize=8)
    if best is not None:
        axes.plot([best.alpha], [best.ndcg_at_10], marker="*", markersize=12, color="black", linestyle="")
    axes.set_xlabel("alpha (0: BM25 only, 1: dense only)")
    axes.set_ylabel("nDCG@10")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(title="per-leg top-k", fontsize=8)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(target, format="png")
    return target
