"""Local hybrid RAG: parse, index (BM25 + MiniLM), ask. Offline, no key.

Run: python examples/hybrid_rag.py ["your question"]

With OPENAI_API_KEY set, the query engine writes an answer; without it, it returns the most
relevant passages with file and page citations.
"""

from __future__ import annotations

import sys
from pathlib import Path

from llama_index_cloudkit import CloudKitReader, LocalHybridIndex, make_query_engine

DATA = Path(__file__).parent / "data"


def main(question: str) -> None:
    documents = CloudKitReader(backend="local").load_data(sorted(DATA.iterdir()))
    index = LocalHybridIndex.from_documents(documents)
    engine = make_query_engine(index, preset="balanced", rerank_top_n=3)
    response = engine.query(question)
    print(response)
    print(
        "\nSources:",
        ", ".join(
            f"{n.node.metadata['file_name']} p.{n.node.metadata['page_number']}"
            for n in response.source_nodes
        ),
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "How much hay does an adult llama eat per day?")
