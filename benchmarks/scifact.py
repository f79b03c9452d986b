"""SciFact as the benchmarks read it: one node per abstract (title + text), the train judgments."""

from __future__ import annotations

import json
from pathlib import Path

from llama_index.core.schema import TextNode

__all__ = ["load"]


def load(data: Path) -> tuple[list[TextNode], dict[str, str], dict[str, dict[str, int]]]:
    """Nodes, queries by id, and train judgments (query id -> document id -> grade)."""
    docs = [json.loads(line) for line in (data / "corpus.jsonl").open()]
    nodes = [TextNode(text=f"{d['title']} {d['text']}".strip(), id_=d["_id"]) for d in docs]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (data / "queries.jsonl").open())}
    qrels: dict[str, dict[str, int]] = {}
    for line in list((data / "qrels" / "train.tsv").open())[1:]:
        query_id, doc_id, score = line.rstrip("\n").split("\t")
        qrels.setdefault(query_id, {})[doc_id] = int(score)
    return nodes, queries, qrels
