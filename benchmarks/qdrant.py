"""LocalHybridIndex against QdrantHybridIndex (Qdrant's embedded engine), measured in one run.

Run: python benchmarks/qdrant.py [--data ../shared/data/beir/scifact] [--latency-queries 100]
     [--scaling-queries 20] [--sizes 5000,50000] [--all-presets] [--skip-quality] [--skip-scaling]
     [--judged N] [--corpus N] [--upstream] [--against FILE]

``--upstream`` adds LlamaIndex's ``QdrantVectorStore`` with our sparse encoder and fusion and nothing
around it (``pip install llama-index-vector-stores-qdrant``; the dev extra has it). ``--against
FILE`` adds the ``QdrantHybridIndex`` defined in FILE, measured in the same run: for instance the
version rebuilt on ``QdrantVectorStore`` that docs/qdrant.md measured and did not keep
(``git show bff728e:llama_index_cloudkit/retrieve/qdrant/index.py > /tmp/on-the-store.py``).

Prints, measured in the same run:
- quality on SciFact train (5,183 abstracts, 809 judged queries): nDCG@10 of ``balanced`` (every
  preset with --all-presets) on both indexes, no reranker, and the difference (goal: within 0.01);
- query latency p50 / p95 of both for ``balanced`` (query embedding included), and their ratio,
  each query run on every index in turn (interleaved, so the load of shared cores falls on all);
- scaling: build time, resident memory added by the build, p50 query latency and the time to
  insert 10 passages, for both, at each size in ``--sizes``, on synthetic chunks made from SciFact
  (each abstract's title followed by one of its sentences, then by two consecutive ones, shuffled
  with a fixed seed).

Every vector comes from one embedding matrix shared by both indexes (the bundled int8 MiniLM),
computed before any build and cached in benchmarks/.cache: build times are indexing only, not
embedding (50k chunks took 35 minutes on 2 shared cores, once). Each size and index is built in a
fresh process, so the memory figures do not mix. Qdrant runs embedded (its in-process Python
engine); no server is started, so the figures say nothing about a Qdrant server's latency.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import itertools
import json
import math
import multiprocessing
import random
import re
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.schema import BaseNode, TextNode
from scifact import load

from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.fusion import relative_score_fusion
from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
from llama_index_cloudkit.retrieve.presets import RetrievalPreset
from llama_index_cloudkit.retrieve.qdrant.index import QdrantHybridIndex
from llama_index_cloudkit.retrieve.qdrant.sparse import BM25SparseEncoder

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "beir" / "scifact"
CACHE = Path(__file__).resolve().parent / ".cache"


# --- data ----------------------------------------------------------------------------------------


def cached_matrix(name: str, texts: list[str], embedder: MiniLMEmbedding, digest_of: bytes) -> np.ndarray:
    """Embed ``texts`` once; later runs read benchmarks/.cache (shared with retrieval.py for SciFact)."""
    digest = hashlib.sha256(digest_of).hexdigest()[:16]
    path = CACHE / f"{name}-{embedder.model_name}-{digest}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    started = time.perf_counter()
    print(f"embedding {len(texts)} texts (once; cached in {path.name}) ...", flush=True)
    matrix = embedder.embed(texts)
    print(f"  embedded in {time.perf_counter() - started:.0f} s (not part of any build time)", flush=True)
    CACHE.mkdir(exist_ok=True)
    np.save(path, matrix, allow_pickle=False)
    return matrix


def scifact_matrix(nodes: list[TextNode], embedder: MiniLMEmbedding, data: Path) -> np.ndarray:
    return cached_matrix(
        "scifact", [n.get_content() for n in nodes], embedder, (data / "corpus.jsonl").read_bytes()
    )


def synthetic_chunks(data: Path, count: int) -> list[str]:
    """``count`` chunks from SciFact: title + one sentence, then title + two sentences, shuffled."""
    docs = [json.loads(line) for line in (data / "corpus.jsonl").open()]
    singles: list[str] = []
    pairs: list[str] = []
    for doc in docs:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", doc["text"]) if s.strip()]
        singles.extend(f"{doc['title']}. {s}" for s in sentences)
        pairs.extend(f"{doc['title']}. {a} {b}" for a, b in itertools.pairwise(sentences))
    chunks = (singles + pairs)[:count]
    if len(chunks) < count:
        sys.exit(f"SciFact gives {len(chunks)} synthetic chunks, fewer than {count}")
    random.Random(17).shuffle(chunks)
    return chunks


def chunk_matrix(
    data: Path, count: int, total: int, embedder: MiniLMEmbedding
) -> tuple[list[str], np.ndarray]:
    """The first ``count`` of ``total`` synthetic chunks and their vectors (one cache for all sizes)."""
    chunks = synthetic_chunks(data, total)
    matrix = cached_matrix(f"scifact-chunks-{total}", chunks, embedder, "\n".join(chunks).encode())
    return chunks[:count], matrix[:count]


# --- measuring -----------------------------------------------------------------------------------


def ndcg_at_10(ranked: list[str], relevant: dict[str, int]) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def latencies(search: Any, texts: list[str], config: HybridConfig) -> list[float]:
    search(texts[0], config)
    samples = []
    for text in texts:
        started = time.perf_counter()
        search(text, config)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def interleaved_latencies(
    searches: dict[str, Any], texts: list[str], config: HybridConfig
) -> dict[str, list[float]]:
    """Each query on every index in turn, the order rotating: a change in the machine's load
    (2 shared cores) falls on all indexes alike, not on whichever is measured at that moment."""
    labels = list(searches)
    for label in labels:
        searches[label](texts[0], config)
    samples: dict[str, list[float]] = {label: [] for label in labels}
    for i, text in enumerate(texts):
        for label in labels[i % len(labels) :] + labels[: i % len(labels)]:
            started = time.perf_counter()
            searches[label](text, config)
            samples[label].append((time.perf_counter() - started) * 1000)
    return samples


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class _PrecomputedQueries(MiniLMEmbedding):
    """MiniLM whose query vectors for the judged queries are computed once, for the quality pass."""

    def prime(self, texts: list[str]) -> None:
        self._known = dict(zip(texts, self.embed(texts), strict=True))

    def _get_query_embedding(self, query: str) -> list[float]:
        known = getattr(self, "_known", {})
        if query in known:
            return [float(x) for x in known[query]]
        return super()._get_query_embedding(query)


class UpstreamQdrant:
    """The same hybrid meaning on LlamaIndex's own ``QdrantVectorStore`` (``--upstream``, the trial
    of building QdrantHybridIndex on it): hybrid enabled, with our BM25 sparse encoder (avgdl fixed
    from the corpus, IDF from Qdrant) and our relative-score fusion passed in. The store takes only
    UUID point ids, so nodes go in under a UUID5 of their id and results are mapped back."""

    def __init__(self, nodes: list[TextNode], embedder: MiniLMEmbedding, matrix: np.ndarray) -> None:
        import uuid

        from llama_index.core.vector_stores.types import VectorStoreQueryResult
        from llama_index.vector_stores.qdrant import QdrantVectorStore
        from qdrant_client import QdrantClient, models

        encoder = BM25SparseEncoder()
        encoder.avgdl = BM25SparseEncoder.mean_length(encoder.tokenize([n.get_content() for n in nodes]))

        def doc_fn(texts: list[str]) -> tuple[list[list[int]], list[list[float]]]:
            vectors = [encoder.document_vector(tokens) for tokens in encoder.tokenize(texts)]
            return [v[0] for v in vectors], [v[1] for v in vectors]

        def query_fn(texts: list[str]) -> tuple[list[list[int]], list[list[float]]]:
            vectors = [encoder.query(text) for text in texts]
            return [v[0] for v in vectors], [v[1] for v in vectors]

        def fusion(dense: Any, sparse: Any, alpha: float = 0.5, top_k: int = 2) -> Any:
            by_id = {n.node_id: n for n in [*dense.nodes, *sparse.nodes]}
            fused = relative_score_fusion(
                dict(zip(dense.ids, dense.similarities, strict=True)),
                dict(zip(sparse.ids, sparse.similarities, strict=True)),
                alpha,
            )[:top_k]
            return VectorStoreQueryResult(
                nodes=[by_id[i] for i, _ in fused],
                similarities=[s for _, s in fused],
                ids=[i for i, _ in fused],
            )

        namespace = uuid.UUID("5b0d3f8e-1c8e-4f43-9d55-6c1b2f0c7a17")
        self.original = {}
        copies: list[BaseNode] = []
        for node, row in zip(nodes, matrix, strict=True):
            point = str(uuid.uuid5(namespace, node.node_id))
            self.original[point] = node.node_id
            copies.append(TextNode(text=node.text, id_=point, embedding=[float(x) for x in row]))
        self.embedder = embedder
        self.store = QdrantVectorStore(
            "upstream",
            client=QdrantClient(location=":memory:"),
            enable_hybrid=True,
            batch_size=256,
            sparse_doc_fn=doc_fn,
            sparse_query_fn=query_fn,
            hybrid_fusion_fn=fusion,  # type: ignore[arg-type]  # its Protocol names no parameters
            sparse_config=models.SparseVectorParams(modifier=models.Modifier.IDF),
        )
        self.store.add(copies)

    def search(self, text: str, config: HybridConfig) -> list[Any]:
        from llama_index.core.schema import NodeWithScore
        from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode

        query = VectorStoreQuery(
            query_embedding=self.embedder.get_query_embedding(text),
            query_str=text,
            similarity_top_k=config.dense_similarity_top_k,
            sparse_top_k=config.sparse_similarity_top_k,
            hybrid_top_k=config.final_top_k,
            alpha=config.alpha,
            mode=VectorStoreQueryMode.HYBRID,
        )
        found = self.store.query(query)
        return [
            NodeWithScore(node=TextNode(text=n.get_content(), id_=self.original[n.node_id]), score=s)
            for n, s in zip(found.nodes or [], found.similarities or [], strict=True)
        ]


def load_index_class(path: Path) -> Any:
    """The ``QdrantHybridIndex`` class defined in the Python file ``path`` (``--against``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("qdrant_index_against", path)
    if spec is None or spec.loader is None:
        sys.exit(f"Cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.QdrantHybridIndex


# --- the two parts -------------------------------------------------------------------------------


def quality(args: argparse.Namespace) -> None:
    nodes, queries, qrels = load(args.data)
    if args.judged:
        qrels = dict(list(qrels.items())[: args.judged])
    embedder = _PrecomputedQueries()
    if args.corpus:
        # A subset: every abstract the judged queries name, then the first others, up to --corpus.
        wanted = {doc for relevant in qrels.values() for doc in relevant}
        judged = [n for n in nodes if n.node_id in wanted]
        others = [n for n in nodes if n.node_id not in wanted][: max(args.corpus - len(judged), 0)]
        nodes = judged + others
        texts = [n.get_content() for n in nodes]
        matrix = cached_matrix(f"scifact-subset-{len(nodes)}", texts, embedder, "\n".join(texts).encode())
    else:
        matrix = scifact_matrix(nodes, embedder, args.data)
    local = LocalHybridIndex(nodes, embed_model=embedder, _embeddings=matrix)
    qdrant = QdrantHybridIndex.from_nodes(nodes, location=":memory:", embed_model=embedder, embeddings=matrix)
    indexes: dict[str, Any] = {
        "LocalHybridIndex (baseline)": local,
        "QdrantHybridIndex (this version)": qdrant,
    }
    if args.against:
        before = load_index_class(args.against)
        indexes["QdrantHybridIndex (--against)"] = before.from_nodes(
            nodes, location=":memory:", embed_model=embedder, embeddings=matrix
        )
    if args.upstream:
        indexes["QdrantVectorStore (upstream)"] = UpstreamQdrant(nodes, embedder, matrix)
    print(f"SciFact: {len(nodes)} abstracts, {len(qrels)} judged train queries; Qdrant embedded (:memory:)")

    texts = [queries[q] for q in list(qrels)[: args.latency_queries]]
    balanced = RetrievalPreset.BALANCED.config()
    print(f"\nlatency over {len(texts)} queries (balanced, query embedding included, interleaved)")
    p50s = []
    samples = interleaved_latencies(
        {label: index.search for label, index in indexes.items()}, texts, balanced
    )
    for label, measured in samples.items():
        p50, p95 = percentiles(measured)
        p50s.append(p50)
        print(
            f"  {label:34s}: p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({p50 / p50s[0]:.1f}x local)", flush=True
        )

    embedder.prime([queries[q] for q in qrels])
    print("\nnDCG@10 on SciFact train (no reranker; query vectors shared by all)")
    print(
        "  "
        + f"{'preset':10s}"
        + "".join(f" {label.split('(')[-1].rstrip(')')[:18]:>18s}" for label in indexes)
    )
    presets = list(RetrievalPreset) if args.all_presets else [RetrievalPreset.BALANCED]
    for preset in presets:
        config = preset.config()
        scores = []
        for index in indexes.values():
            total = sum(
                ndcg_at_10([h.node.node_id for h in index.search(queries[q], config)], relevant)
                for q, relevant in qrels.items()
            )
            scores.append(total / len(qrels))
        cells = "".join(f" {score:18.3f}" for score in scores)
        diffs = " ".join(f"{score - scores[0]:+.3f}" for score in scores[1:])
        print(f"  {preset.value:10s}{cells}   (vs local: {diffs})", flush=True)


def _measure_size(kind: str, size: int, total: int, data: Path, queries: list[str], out: Any) -> None:
    """One build and its latency, alone in a fresh process (so RSS is this build's own)."""
    warnings.filterwarnings("ignore", message=".*Local mode is not recommended.*")
    embedder = MiniLMEmbedding()
    chunks, matrix = chunk_matrix(data, size, total, embedder)
    matrix = np.ascontiguousarray(matrix)
    nodes = [TextNode(text=text, id_=f"c{i}") for i, text in enumerate(chunks)]
    embedder.embed(["warm the embedder up"])
    import bm25s  # noqa: F401  (imports are not the index's memory)
    import qdrant_client.local.qdrant_local  # noqa: F401
    import Stemmer  # noqa: F401

    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    index: Any
    if kind == "local":
        index = LocalHybridIndex(nodes, embed_model=embedder, _embeddings=matrix)
    else:
        index = QdrantHybridIndex.from_nodes(
            nodes, location=":memory:", embed_model=embedder, embeddings=matrix, batch_size=256
        )
    build = time.perf_counter() - started
    gc.collect()
    rss = rss_mb()
    p50, p95 = percentiles(latencies(index.search, queries, RetrievalPreset.BALANCED.config()))
    extra = [TextNode(text=f"A new passage about {q}", id_=f"new-{i}") for i, q in enumerate(queries[:10])]
    started = time.perf_counter()
    index.insert_nodes(extra)
    insert = time.perf_counter() - started
    out.put((build, rss - before, rss, p50, p95, insert))


def scaling(args: argparse.Namespace) -> None:
    _, queries, qrels = load(args.data)
    texts = [queries[q] for q in list(qrels)[: args.scaling_queries]]
    total = max(args.sizes)
    chunk_matrix(args.data, total, total, MiniLMEmbedding())  # embed (once, cached) before any timing
    print(f"\nscaling on synthetic SciFact chunks ({len(texts)} queries, balanced, query embedding included)")
    print("  embedding done beforehand, one matrix shared by both: build = indexing only")
    print("  index MB = RSS the build added on top of the nodes and vectors given to it; RSS = process total")
    print("  insert = adding 10 passages to the built index, embedding them included")
    print(
        f"  {'chunks':>7s} {'index':22s} {'build s':>8s} {'index MB':>9s} {'RSS MB':>7s} "
        f"{'p50 ms':>8s} {'p95 ms':>8s} {'insert s':>9s}"
    )
    context = multiprocessing.get_context("spawn")
    for size in args.sizes:
        rows = {}
        for kind, label in (("local", "LocalHybridIndex"), ("qdrant", "Qdrant embedded")):
            queue = context.Queue()
            worker = context.Process(target=_measure_size, args=(kind, size, total, args.data, texts, queue))
            worker.start()
            rows[kind] = queue.get()
            worker.join()
            build, memory, total_rss, p50, p95, insert = rows[kind]
            print(
                f"  {size:7d} {label:22s} {build:8.1f} {memory:9.0f} {total_rss:7.0f} "
                f"{p50:8.1f} {p95:8.1f} {insert:9.2f}",
                flush=True,
            )
        ratio = rows["qdrant"][3] / rows["local"][3]
        print(f"  {size:7d} {'Qdrant / local p50':22s} {ratio:8.1f}x", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--latency-queries", type=int, default=100)
    parser.add_argument("--scaling-queries", type=int, default=20)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[5000, 50000])
    parser.add_argument(
        "--all-presets", action="store_true", help="nDCG@10 of every preset, not only balanced"
    )
    parser.add_argument("--judged", type=int, default=0, help="only the first N judged queries (0: all)")
    parser.add_argument(
        "--corpus",
        type=int,
        default=0,
        help="only N abstracts: the judged ones, then the first others (0: all)",
    )
    parser.add_argument(
        "--upstream",
        action="store_true",
        help="also LlamaIndex's QdrantVectorStore with our sparse and fusion",
    )
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        help="also the QdrantHybridIndex defined in this file (e.g. an earlier version)",
    )
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument(
        "--embed-only", action="store_true", help="embed the scaling chunks (cached) and stop"
    )
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"SciFact not found at {args.data}")
    if args.embed_only:
        chunk_matrix(args.data, max(args.sizes), max(args.sizes), MiniLMEmbedding())
        return
    if not args.skip_quality:
        quality(args)
    if not args.skip_scaling:
        scaling(args)


if __name__ == "__main__":
    main()
