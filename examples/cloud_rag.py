"""RAG on a LlamaCloud index with a tuned preset; runs against the emulator when no key is set.

Run: python examples/cloud_rag.py

With LLAMA_CLOUD_API_KEY set, this creates (or updates) the index "cloudkit-example" in your
project. Without it, it starts the bundled LlamaCloud emulator on 127.0.0.1 and runs the very
same code against it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from llama_index_cloudkit import (
    CloudKitReader,
    CloudKitSettings,
    llamacloud_index_from_documents,
    make_query_engine,
)

DATA = Path(__file__).parent / "data"


@contextlib.contextmanager
def llamacloud() -> Iterator[CloudKitSettings]:
    """The real LlamaCloud when a key is set, else the emulator."""
    if os.environ.get("LLAMA_CLOUD_API_KEY"):
        yield CloudKitSettings()
        return
    from llama_index_cloudkit.testing import FakeLlamaCloud

    with FakeLlamaCloud() as fake:  # keep-alive connections, like the real service
        print(f"(no LLAMA_CLOUD_API_KEY: using the emulator at {fake.base_url})")
        os.environ.update(LLAMA_CLOUD_BASE_URL=fake.base_url, LLAMA_CLOUD_API_KEY=fake.api_key)
        try:
            yield CloudKitSettings()
        finally:
            os.environ.pop("LLAMA_CLOUD_BASE_URL")
            os.environ.pop("LLAMA_CLOUD_API_KEY")


def main() -> None:
    with llamacloud() as settings:
        documents = CloudKitReader(backend="local").load_data(sorted(DATA.iterdir()))
        index = llamacloud_index_from_documents(documents, "cloudkit-example", settings)
        print(f"index {index.name}: {len(documents)} pages")
        engine = make_query_engine("cloudkit-example", preset="balanced", settings=settings, rerank_top_n=2)
        print(engine.query("What is the refund window?"))


if __name__ == "__main__":
    main()
