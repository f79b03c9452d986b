"""LocalHybridIndex against PostgresHybridIndex on a real PostgreSQL server, measured in one run.

Run: python benchmarks/postgres.py [--data ../shared/data/beir/scifact] [--url postgresql://...]
     [--latency-queries 100] [--scaling-queries 20] [--sizes 50000] [--skip-quality] [--skip-scaling]

Without ``--url`` a PostgreSQL 16 server with pgvector is started from the ``pgserver`` wheel on a
unix socket in a temporary folder (the same server the tests use) and removed afterwards.

Prints, measured in the same run with the same embedder and the same vectors:
- quality on SciFact train (5,183 abstracts, 809 judged queries): nDCG@10 of every preset on both
  indexes (no reranker) and the difference (goal for ``balanced``: within 0.01); how many queries
  return another number of results than on the local index (goal: none); how many queries
  ``keyword`` and ``semantic`` rank differently on PostgreSQL;
- query latency p50 / p95 of ``balanced`` on both (query embedding included);
- insert throughput: passages per second into PostgreSQL (vectors given: indexing only);
- scaling: the same at each size of ``--sizes`` on synthetic chunks made from SciFact (as
  benchmarks/qdrant.py makes them): build, p50 / p95, and adding 10 passages, for both indexes,
  PostgreSQL with exact search and with an HNSW index.

SciFact's vectors come from benchmarks/.cache (shared with retrieval.py and qdrant.py; computed
once when missing). The synthetic chunks' vectors come from that cache too when
``qdrant.py --embed-only`` has filled it; otherwise each chunk takes its abstract's vector plus
small noise (``--proxy-vectors``, said in the output): latency and throughput of exact and HNSW
search do not depend on the values, and embedding 50k chunks takes 35 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.schema import TextNode
from qdrant import (
    CACHE,
    DEFAULT_DATA,
    _PrecomputedQueries,
    latencies,
    ndcg_at_10,
    percentiles,
    scifact_matrix,
)
from scifact import load

from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
from llama_index_cloudkit.retrieve.postgres.index import PostgresHybridIndex
from llama_index_cloudkit.retrieve.presets import RetrievalPreset

HNSW = {"hnsw_m": 16, "hnsw_ef_construction": 64, "hnsw_ef_search": 100}


def start_server() -> tuple[Any, str, Path]:
    import pgserver

    folder = Path(tempfile.mkdtemp(prefix="cloudkit-bench-pg-"))
    server = pgserver.get_server(folder / "data", cleanup_mode="delete")
    return server, str(server.get_uri()), folder


# --- quality -----------------------------------------------------------------------------------


def quality(args: argparse.Namespace, url: str) -> None:
    nodes, queries, qrels = load(args.data)
    if args.judged:
        qrels = dict(list(qrels.items())[: args.judged])
    embedder = _PrecomputedQueries()
    matrix = scifact_matrix(nodes, embedder, args.data)
    local = LocalHybridIndex(nodes, embed_model=embedder, _embeddings=matrix)
    started = time.perf_counter()
    pg = PostgresHybridIndex.from_nodes(
        nodes,
        url,
        table_name="scifact",
        embed_model=embedder,
        embeddings=matrix,
        batch_size=256,
        overwrite=True,
    )
    build = time.perf_counter() - started
    print(
        f"SciFact: {len(nodes)} abstracts, {len(qrels)} judged train queries; "
        f"PostgreSQL at {url.split('?')[0]}"
    )
    print(
        f"\ninsert: {len(nodes)} passages in {build:.1f} s = {len(nodes) / build:.0f} passages/s "
        "(vectors given)"
    )

    texts = [queries[q] for q in list(qrels)[: args.latency_queries]]
    balanced = RetrievalPreset.BALANCED.config()
    (lp50, lp95), (pp50, pp95) = (percentiles(latencies(i.search, texts, balanced)) for i in (local, pg))
    print(f"\nlatency over {len(texts)} queries (balanced, query embedding included)")
    print(f"  LocalHybridIndex (baseline)   : p50 {lp50:7.1f} ms  p95 {lp95:7.1f} ms")
    print(f"  PostgresHybridIndex (server)  : p50 {pp50:7.1f} ms  p95 {pp95:7.1f} ms")
    print(f"  PostgreSQL / local at p50     : {pp50 / lp50:7.1f}x")

    embedder.prime([queries[q] for q in qrels])
    print("\nnDCG@10 on SciFact train (no reranker; query vectors shared by both)")
    print(f"  {'preset':10s} {'local':>7s} {'postgres':>8s} {'diff':>7s}  {'count mismatches':>16s}")
    rankings: dict[str, list[list[str]]] = {}
    for preset in RetrievalPreset:
        config = preset.config()
        scores, mismatches = [0.0, 0.0], 0
        rankings[preset.value] = []
        for q, relevant in qrels.items():
            ours = [h.node.node_id for h in local.search(queries[q], config)]
            theirs = [h.node.node_id for h in pg.search(queries[q], config)]
            rankings[preset.value].append(theirs)
            scores[0] += ndcg_at_10(ours, relevant)
            scores[1] += ndcg_at_10(theirs, relevant)
            mismatches += len(ours) != len(theirs)
        local_score, pg_score = (s / len(qrels) for s in scores)
        goal = "  (goal: |diff| <= 0.010)" if preset is RetrievalPreset.BALANCED else ""
        print(
            f"  {preset.value:10s} {local_score:7.3f} {pg_score:8.3f} {pg_score - local_score:+7.3f}  "
            f"{mismatches:16d}{goal}",
            flush=True,
        )
    differ = sum(a != b for a, b in zip(rankings["keyword"], rankings["semantic"], strict=True))
    print(f"\nkeyword and semantic rank differently on PostgreSQL for {differ} of {len(qrels)} queries")
    pg.close()


# --- scaling -----------------------------------------------------------------------------------


def chunks_with_sources(data: Path, count: int) -> tuple[list[str], list[int]]:
    """benchmarks/qdrant.py's synthetic chunks (same order), with the abstract each came from."""
    docs = [json.loads(line) for line in (data / "corpus.jsonl").open()]
    singles, pairs = [], []
    for index, doc in enumerate(docs):
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", doc["text"]) if s.strip()]
        singles.extend((f"{doc['title']}. {s}", index) for s in sentences)
        pairs.extend((f"{doc['title']}. {a} {b}", index) for a, b in itertools.pairwise(sentences))
    chunks = (singles + pairs)[:count]
    if len(chunks) < count:
        sys.exit(f"SciFact gives {len(chunks)} synthetic chunks, fewer than {count}")
    random.Random(17).shuffle(chunks)
    return [text for text, _ in chunks], [source for _, source in chunks]


def chunk_vectors(
    args: argparse.Namespace, size: int, embedder: MiniLMEmbedding
) -> tuple[list[str], Any, str]:
    texts, sources = chunks_with_sources(args.data, size)
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    cached = CACHE / f"scifact-chunks-{size}-{embedder.model_name}-{digest}.npy"
    if cached.is_file():
        return texts, np.load(cached, allow_pickle=False), "embedded chunks (cache)"
    nodes, _, _ = load(args.data)
    if args.random_vectors:
        rng = np.random.default_rng(17)
        return texts, rng.normal(size=(size, 384)).astype(np.float32), "proxy vectors: random (seeded)"
    abstracts = scifact_matrix(nodes, embedder, args.data)
    noise = np.random.default_rng(17).normal(0.0, 0.02, size=(size, abstracts.shape[1])).astype(np.float32)
    return texts, abstracts[sources] + noise, "proxy vectors: each chunk's abstract vector + noise"


def _build(label: str, nodes: list[TextNode], matrix: Any, url: str, embedder: MiniLMEmbedding) -> Any:
    if label == "LocalHybridIndex":
        return LocalHybridIndex(nodes, embed_model=embedder, _embeddings=matrix)
    hnsw = dict(HNSW) if "HNSW" in label else None
    return PostgresHybridIndex.from_nodes(
        nodes,
        url,
        table_name=f"chunks_{len(nodes)}{'_hnsw' if hnsw else ''}",
        embed_model=embedder,
        embeddings=matrix,
        batch_size=256,
        overwrite=True,
        hnsw=hnsw,
    )


def scaling(args: argparse.Namespace, url: str) -> None:
    _, queries, qrels = load(args.data)
    texts = [queries[q] for q in list(qrels)[: args.scaling_queries]]
    embedder = MiniLMEmbedding()
    print(f"\nscaling on synthetic SciFact chunks ({len(texts)} queries, balanced, query embedding included)")
    print("  build = indexing only (vectors given); insert = adding 10 passages, embedding them included")
    print(
        f"  {'chunks':>7s} {'index':28s} {'build s':>8s} {'passages/s':>10s} {'p50 ms':>8s} "
        f"{'p95 ms':>8s} {'insert s':>9s}"
    )
    balanced = RetrievalPreset.BALANCED.config()
    for size in args.sizes:
        chunks, matrix, source = chunk_vectors(args, size, embedder)
        print(f"  ({size} chunks: {source})")
        nodes = [TextNode(text=text, id_=f"c{i}") for i, text in enumerate(chunks)]
        extra = [TextNode(text=f"A new passage about {q}", id_=f"new-{i}") for i, q in enumerate(texts[:10])]
        builders = ["LocalHybridIndex", "PostgreSQL, exact"] + (
            [] if args.no_hnsw else ["PostgreSQL, HNSW m16 ef100"]
        )
        for label in builders:
            started = time.perf_counter()
            index = _build(label, nodes, matrix, url, embedder)
            seconds = time.perf_counter() - started
            p50, p95 = percentiles(latencies(index.search, texts, balanced))
            started = time.perf_counter()
            index.insert_nodes([n.model_copy() for n in extra])
            insert = time.perf_counter() - started
            print(
                f"  {size:7d} {label:28s} {seconds:8.1f} {size / seconds:10.0f} {p50:8.1f} "
                f"{p95:8.1f} {insert:9.2f}",
                flush=True,
            )
            if hasattr(index, "close"):
                index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--url", default=None, help="a PostgreSQL server with pgvector (default: start one)")
    parser.add_argument("--latency-queries", type=int, default=100)
    parser.add_argument("--scaling-queries", type=int, default=20)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[50000])
    parser.add_argument("--judged", type=int, default=0, help="only the first N judged queries (0: all)")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument(
        "--random-vectors",
        action="store_true",
        help="scaling: random vectors when the chunks' embeddings are not cached (exact search cares for "
        "their number only)",
    )
    parser.add_argument("--no-hnsw", action="store_true", help="scaling: PostgreSQL with exact search only")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"SciFact not found at {args.data}")
    server, folder = None, None
    url = args.url
    if url is None:
        server, url, folder = start_server()
    try:
        if not args.skip_quality:
            quality(args, url)
        if not args.skip_scaling:
            scaling(args, url)
    finally:
        if server is not None:
            server.cleanup()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
