"""Retrieval quality and latency on SciFact (train judgments), local backend.

Run: python benchmarks/retrieval.py [--data ../shared/data/beir/scifact] [--sweep]
     [--latency-queries 200]

Prints, measured in the same run:
- nDCG@10 and recall@100 for BM25 alone, dense alone, and each retrieval preset
  (recall@100 over the preset's candidates, before the cut to rerank_top_n);
- query latency p50 / p95 of LocalHybridIndex (balanced) and of LlamaIndex's
  QueryFusionRetriever (VectorStoreIndex + BM25Retriever, same embedder and top-k,
  relative_score fusion), and their ratio;
- with --sweep, nDCG@10 over alpha x top-k (the evidence for the presets).

Document embeddings are cached in benchmarks/.cache (about 6 minutes to compute on 2 cores).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.schema import TextNode

from llama_index_cloudkit.presets import RetrievalPreset
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.local import LocalHybridIndex

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "beir" / "scifact"
CACHE = Path(__file__).resolve().parent / ".cache"


def load(data: Path) -> tuple[list[TextNode], dict[str, str], dict[str, dict[str, int]]]:
    docs = [json.loads(line) for line in (data / "corpus.jsonl").open()]
    nodes = [TextNode(text=f"{d['title']} {d['text']}".strip(), id_=d["_id"]) for d in docs]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (data / "queries.jsonl").open())}
    qrels: dict[str, dict[str, int]] = {}
    for line in list((data / "qrels" / "train.tsv").open())[1:]:
        query_id, doc_id, score = line.rstrip("\n").split("\t")
        qrels.setdefault(query_id, {})[doc_id] = int(score)
    return nodes, queries, qrels


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


def ndcg_at_10(ranked: list[str], relevant: dict[str, int]) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at_100(ranked: list[str], relevant: dict[str, int]) -> float:
    return len(set(ranked[:100]) & set(relevant)) / len(relevant)


class Evaluator:
    """Scores configs on the judged queries, with query vectors computed once."""

    def __init__(
        self, index: LocalHybridIndex, queries: dict[str, str], qrels: dict[str, dict[str, int]]
    ) -> None:
        self.index, self.qrels = index, qrels
        self.texts = {q: queries[q] for q in qrels}
        embedder = index.embed_model
        assert isinstance(embedder, MiniLMEmbedding)
        vectors = embedder.embed(list(self.texts.values()))
        self.vector_of = {text: vectors[i] for i, text in enumerate(self.texts.values())}
        real = index.dense_scores
        index.dense_scores = lambda text: (  # type: ignore[method-assign]
            index._embeddings @ self.vector_of[text] if text in self.vector_of else real(text)
        )

    def run(self, config: HybridConfig) -> tuple[float, float]:
        ndcg = recall = 0.0
        candidates = config.with_overrides(enable_reranking=False)
        for query_id, relevant in self.qrels.items():
            text = self.texts[query_id]
            final = [h.node.node_id for h in self.index.search(text, config)]
            pool = [h.node.node_id for h in self.index.search(text, candidates)]
            ndcg += ndcg_at_10(final, relevant)
            recall += recall_at_100(pool, relevant)
        return ndcg / len(self.qrels), recall / len(self.qrels)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def latency_local(index: LocalHybridIndex, texts: list[str]) -> list[float]:
    retriever = index.as_retriever("balanced")
    retriever.retrieve(texts[0])
    samples = []
    for text in texts:
        started = time.perf_counter()
        retriever.retrieve(text)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def latency_query_fusion(
    nodes: list[TextNode], matrix: np.ndarray, embedder: MiniLMEmbedding, texts: list[str]
) -> list[float]:
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
    fusion = QueryFusionRetriever(
        [vector, bm25],
        llm=MockLLM(),
        mode="relative_score",
        num_queries=1,
        use_async=False,
        similarity_top_k=config.rerank_top_n,
        retriever_weights=[config.alpha, 1 - config.alpha],
    )
    fusion.retrieve(texts[0])
    samples = []
    for text in texts:
        started = time.perf_counter()
        fusion.retrieve(text)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sweep", action="store_true", help="also sweep alpha x top-k")
    parser.add_argument("--latency-queries", type=int, default=200)
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"SciFact not found at {args.data}")

    nodes, queries, qrels = load(args.data)
    embedder = MiniLMEmbedding()
    matrix = embeddings(nodes, embedder, args.data)
    index = LocalHybridIndex(nodes, embed_model=embedder, _embeddings=matrix)
    print(f"SciFact: {len(nodes)} documents, {len(qrels)} judged train queries")

    latency_texts = [queries[q] for q in list(qrels)[: args.latency_queries]]
    local = latency_local(index, latency_texts)
    fusion = latency_query_fusion(nodes, matrix, embedder, latency_texts)
    (lp50, lp95), (fp50, fp95) = percentiles(local), percentiles(fusion)
    print(f"\nlatency over {len(latency_texts)} queries (balanced settings, query embedding included)")
    print(f"  baseline QueryFusionRetriever : p50 {fp50:7.1f} ms  p95 {fp95:7.1f} ms")
    print(f"  LocalHybridIndex              : p50 {lp50:7.1f} ms  p95 {lp95:7.1f} ms")
    print(f"  speed-up at p50               : {fp50 / lp50:7.1f}x  (goal >= 10x)")

    evaluator = Evaluator(index, queries, qrels)
    rows: list[tuple[str, Any]] = [
        (
            "BM25 only (baseline)",
            HybridConfig(
                alpha=0.0, dense_similarity_top_k=0, sparse_similarity_top_k=100, enable_reranking=False
            ),
        ),
        (
            "dense only",
            HybridConfig(
                alpha=1.0, dense_similarity_top_k=100, sparse_similarity_top_k=0, enable_reranking=False
            ),
        ),
        *[(f"preset {p.value}", p.config()) for p in RetrievalPreset],
    ]
    print("\nquality on SciFact train (local backend, no reranker)")
    print(f"  {'retriever':24s} nDCG@10  recall@100  vs BM25")
    base = None
    for name, config in rows:
        ndcg, recall = evaluator.run(config)
        base = base or ndcg
        print(f"  {name:24s} {ndcg:7.3f}  {recall:10.3f}  {ndcg / base:6.3f}x")

    if args.sweep:
        print("\nsweep: nDCG@10 (recall@100) by alpha and per-leg top-k")
        for alpha in (0.2, 0.3, 0.4, 0.5, 0.6, 0.8):
            cells = []
            for k in (10, 20, 50, 100):
                ndcg, recall = evaluator.run(
                    HybridConfig(
                        alpha=alpha,
                        dense_similarity_top_k=k,
                        sparse_similarity_top_k=k,
                        enable_reranking=False,
                    )
                )
                cells.append(f"k={k}: {ndcg:.3f} ({recall:.3f})")
            print(f"  alpha {alpha:.1f}  " + "  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
