"""Retrieval quality and latency on SciFact (train judgments), local backend, in one run.

Run: python benchmarks/retrieval.py [--data ../shared/data/beir/scifact] [--queries N]
     [--plot docs/scifact-ndcg-vs-alpha.png | --no-plot] [--no-qdrant]

Prints, all measured in the same run, with ratios against the named baseline, LlamaIndex's
QueryFusionRetriever (VectorStoreIndex + BM25Retriever, the same embedder and vectors, the same
per-leg top-k and alpha, relative_score fusion, the balanced preset's settings):
- nDCG@10 and latency p50 / p95 (query embedding included) of the baseline, of
  LocalHybridIndex (balanced) and of QdrantHybridIndex on Qdrant's embedded engine (balanced,
  the same vectors; skipped without the qdrant extra or with --no-qdrant), on the same queries;
- nDCG@10 and recall@k of the candidates for BM25 alone, dense alone and each preset;
- the sweep: nDCG@10 (recall@k of the candidates) by alpha x per-leg top-k, as the Markdown
  table in docs/retrieval-presets.md, and its plot (the README picture);
- tune_retrieval on the same questions: its choice, its time, and its distance to the best
  cell of the sweep.

Document embeddings are cached in benchmarks/.cache (about 6 minutes to compute on 2 cores).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.schema import TextNode
from scifact import load

from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
from llama_index_cloudkit.retrieve.presets import RetrievalPreset
from llama_index_cloudkit.retrieve.tuning.report import plot_sweep, sweep_table
from llama_index_cloudkit.retrieve.tuning.sweep import Sweeper, ndcg_at_10
from llama_index_cloudkit.retrieve.tuning.tune import DEFAULT_ALPHAS, DEFAULT_LEG_TOP_KS, tune_retrieval

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "beir" / "scifact"
DEFAULT_PLOT = ROOT / "docs" / "scifact-ndcg-vs-alpha.png"
CACHE = Path(__file__).resolve().parent / ".cache"


def embeddings(nodes: list[TextNode], embedder: MiniLMEmbedding, data: Path) -> np.ndarray:
    digest = hashlib.sha256((data / "corpus.jsonl").read_bytes()).hexdigest()[:16]
    path = CACHE / f"scifact-{embedder.model_name}-{digest}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    started = time.perf_counter()
    matrix = embedder.embed([n.get_content() for n in nodes])
    print(f"embedded {len(nodes)} documents in {time.perf_counter() - started:.0f} s", flush=True)
    CACHE.mkdir(exist_ok=True)
    np.save(path, matrix, allow_pickle=False)
    return matrix


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def timed_runs(retrieve: Any, texts: list[str]) -> tuple[list[list[str]], list[float]]:
    """Each query's ranked ids and its latency in ms (after one warm-up query)."""
    retrieve(texts[0])
    rankings, samples = [], []
    for text in texts:
        started = time.perf_counter()
        hits = retrieve(text)
        samples.append((time.perf_counter() - started) * 1000)
        rankings.append([h.node.node_id for h in hits])
    return rankings, samples


def query_fusion_retriever(nodes: list[TextNode], matrix: np.ndarray, embedder: MiniLMEmbedding) -> Any:
    """The baseline: LlamaIndex's own hybrid recipe with the balanced preset's settings."""
    import Stemmer
    from llama_index.core import VectorStoreIndex
    from llama_index.core.llms import MockLLM
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.retrievers.bm25 import BM25Retriever

    config = RetrievalPreset.BALANCED.config()
    embedded = [
        TextNode(text=n.text, id_=n.node_id, embedding=matrix[i].tolist()) for i, n in enumerate(nodes)
    ]
    vector = VectorStoreIndex(embedded, embed_model=embedder).as_retriever(
        similarity_top_k=config.dense_similarity_top_k
    )
    bm25 = BM25Retriever.from_defaults(
        nodes=nodes,
        similarity_top_k=config.sparse_similarity_top_k,
        stemmer=Stemmer.Stemmer("english"),
        language="english",
    )
    return QueryFusionRetriever(
        [vector, bm25],
        llm=MockLLM(),
        mode="relative_score",
        num_queries=1,
        use_async=False,
        similarity_top_k=config.final_top_k,
        retriever_weights=[config.alpha, 1 - config.alpha],
    )


def mean_ndcg(rankings: list[list[str]], relevant: list[list[set[str]]]) -> float:
    return statistics.fmean(ndcg_at_10(r, items) for r, items in zip(rankings, relevant, strict=True))


def qdrant_column(
    nodes: list[TextNode],
    matrix: np.ndarray,
    embedder: MiniLMEmbedding,
    texts: list[str],
    relevant: list[list[set[str]]],
    local_ndcg: float,
    local_p50: float,
) -> None:
    """The same preset on QdrantHybridIndex (embedded, in memory), same vectors, same queries."""
    try:
        from llama_index_cloudkit.retrieve.qdrant.index import QdrantHybridIndex

        qdrant = QdrantHybridIndex.from_nodes(
            nodes, location=":memory:", embed_model=embedder, embeddings=matrix
        )
    except ImportError as exc:
        print(f"  (QdrantHybridIndex skipped: {exc})")
        return
    rank, ms = timed_runs(qdrant.as_retriever("balanced").retrieve, texts)
    ndcg, (p50, p95) = mean_ndcg(rank, relevant), percentiles(ms)
    print(f"  {'QdrantHybridIndex embedded':34s} {ndcg:7.3f}  {p50:7.1f}  {p95:7.1f}")
    print(
        f"  {'qdrant - local':34s} {ndcg - local_ndcg:+7.3f}  (goal: within 0.010)  "
        f"p50 {p50 / local_p50:.1f}x the local index (the embedded engine is pure Python)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--queries", type=int, default=0, help="use the first N judged queries (0: all)")
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT, help="where the sweep's PNG goes")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument(
        "--no-qdrant", action="store_true", help="skip the QdrantHybridIndex (embedded) column"
    )
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"SciFact not found at {args.data}")

    nodes, queries, qrels = load(args.data)
    embedder = MiniLMEmbedding()
    matrix = embeddings(nodes, embedder, args.data)
    index = LocalHybridIndex(nodes, embed_model=embedder, _embeddings=matrix)
    judged = list(qrels.items())[: args.queries or None]
    texts = [queries[query_id] for query_id, _ in judged]
    relevant = [[{doc_id} for doc_id in docs] for _, docs in judged]
    print(f"SciFact: {len(nodes)} documents, {len(judged)} judged train queries")

    baseline = query_fusion_retriever(nodes, matrix, embedder)
    local = index.as_retriever("balanced")
    base_rank, base_ms = timed_runs(baseline.retrieve, texts)
    local_rank, local_ms = timed_runs(local.retrieve, texts)
    base_ndcg, local_ndcg = mean_ndcg(base_rank, relevant), mean_ndcg(local_rank, relevant)
    (bp50, bp95), (lp50, lp95) = percentiles(base_ms), percentiles(local_ms)
    print("\nbaseline: QueryFusionRetriever (VectorStoreIndex + BM25Retriever, same embedder), balanced")
    print(f"  {'retriever':34s} nDCG@10   p50 ms   p95 ms")
    print(f"  {'QueryFusionRetriever (baseline)':34s} {base_ndcg:7.3f}  {bp50:7.1f}  {bp95:7.1f}")
    print(f"  {'LocalHybridIndex balanced':34s} {local_ndcg:7.3f}  {lp50:7.1f}  {lp95:7.1f}")
    print(
        f"  {'ratio (local / baseline)':34s} {local_ndcg / base_ndcg:6.3f}x  "
        f"speed-up at p50 {bp50 / lp50:.1f}x, at p95 {bp95 / lp95:.1f}x"
    )
    if not args.no_qdrant:
        qdrant_column(nodes, matrix, embedder, texts, relevant, local_ndcg, lp50)

    vectors = embedder.embed(texts)
    deepest = max(
        100,
        *(
            max(p.config().dense_similarity_top_k, p.config().sparse_similarity_top_k)
            for p in RetrievalPreset
        ),
    )
    sweeper = Sweeper(index, texts, relevant, max_leg_top_k=deepest, vectors=vectors)
    rows: list[tuple[str, float, int, int]] = [
        ("BM25 only (k=100)", 0.0, 0, 100),
        ("dense only (k=100)", 1.0, 100, 0),
        *[
            (
                f"preset {p.value}",
                p.config().alpha,
                p.config().dense_similarity_top_k,
                p.config().sparse_similarity_top_k,
            )
            for p in RetrievalPreset
        ],
    ]
    print("\nquality on SciFact train (local backend, no reranker; recall@k of the candidates)")
    print(f"  {'retriever':24s} nDCG@10  recall@k  vs baseline")
    everyone = range(len(texts))
    for name, alpha, dense_k, sparse_k in rows:
        ndcgs, recalls = sweeper.per_question(alpha, dense_k, sparse_k, everyone)
        ndcg, recall = statistics.fmean(ndcgs), statistics.fmean(recalls)
        print(f"  {name:24s} {ndcg:7.3f}  {recall:8.3f}  {ndcg / base_ndcg:6.3f}x")

    sweep = sweeper.sweep(DEFAULT_ALPHAS, DEFAULT_LEG_TOP_KS)
    best = max(sweep, key=lambda r: r.ndcg_at_10)
    print("\nsweep: nDCG@10 (recall@k of the candidates) by alpha and per-leg top-k, all queries")
    print(sweep_table(sweep, best=best))
    if not args.no_plot:
        title = f"SciFact train ({len(texts)} queries): nDCG@10 against alpha"
        written = plot_sweep(
            sweep, args.plot, title=title, best=best, baselines={"QueryFusionRetriever (balanced)": base_ndcg}
        )
        print(f"plot: {written}")

    started = time.perf_counter()
    result = tune_retrieval(
        index,
        [(t, [d for items in r for d in items]) for t, r in zip(texts, relevant, strict=True)],
        apply=False,
    )
    seconds = time.perf_counter() - started
    chosen = result.config
    legs = (chosen.dense_similarity_top_k, chosen.sparse_similarity_top_k)
    chosen_ndcg = statistics.fmean(sweeper.per_question(chosen.alpha, *legs, everyone)[0])
    print(f"\ntune_retrieval on the same questions: {seconds:.1f} s (query embeddings included)")
    print(f"  {result.summary()}")
    print(
        f"  chosen alpha {chosen.alpha:.1f}, k {legs[0]}/{legs[1]}: nDCG@10 {chosen_ndcg:.3f} (all queries); "
        f"best cell of the sweep {best.ndcg_at_10:.3f} (alpha {best.alpha:.1f}, k {best.leg_top_k}); "
        f"gap {best.ndcg_at_10 - chosen_ndcg:.3f}"
    )


if __name__ == "__main__":
    main()
