"""LlamaCloud's current API (v2): parse with a pinned tier, extract, retrieve; offline by default.

Run: python examples/v2_quickstart.py

The same code as on v1, with one setting: ``CloudKitSettings(api_version="v2")`` (or
``CLOUDKIT_API_VERSION=v2``). Parse v2 reads each page with the ``agentic`` tier pinned to a
dated version, Extract v2 fills a pydantic model (a text is sent as a file), and Index v2
retrieval searches an index by name with the HybridConfig sent as given.

With LLAMA_CLOUD_API_KEY set, it runs against LlamaCloud: set CLOUDKIT_V2_INDEX to the name of
an Index v2 index of your project to query it (Index v2 builds indexes from a LlamaCloud
directory, so this package queries them but does not create them). Without a key, it starts the
bundled emulator on 127.0.0.1, where the parsed pages are put into an index for you.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from llama_index_cloudkit import CloudKitReader, CloudKitSettings, extraction_tool, make_retriever

DATA = Path(__file__).parent / "data"
INDEX = os.environ.get("CLOUDKIT_V2_INDEX", "cloudkit-v2-example")


class ShippingTerms(BaseModel):
    """Shipping and returns terms of a shop."""

    standard_delivery: str | None = Field(description="Standard delivery time")
    refund_window_days: int | None = Field(description="Days within which items can be returned")


def rule_based_responder(schema: dict, config: dict, text: str) -> dict[str, Any]:
    """Stands in for Extract v2's model in the emulator."""
    days = re.search(r"within (\d+) days", text)
    standard = re.search(r"Standard shipping takes ([^;.]+)", text)
    return {
        "standard_delivery": standard.group(1) if standard else None,
        "refund_window_days": int(days.group(1)) if days else None,
    }


@contextlib.contextmanager
def llamacloud() -> Iterator[tuple[CloudKitSettings, Any]]:
    """LlamaCloud (v2) when a key is set, else the emulator; the emulator handle or None."""
    if os.environ.get("LLAMA_CLOUD_API_KEY"):
        yield CloudKitSettings(api_version="v2"), None
        return
    from llama_index_cloudkit.testing import FakeLlamaCloud

    with FakeLlamaCloud() as fake, tempfile.TemporaryDirectory() as cache:
        print(f"(no LLAMA_CLOUD_API_KEY: using the emulator at {fake.base_url})")
        fake.on_extract(rule_based_responder)
        settings = CloudKitSettings(
            api_key=fake.api_key, base_url=fake.base_url, cache_dir=Path(cache), api_version="v2"
        )
        yield settings, fake


def main() -> None:
    with llamacloud() as (settings, fake):
        # 1. Parse v2: one Document per page; tier and pinned version are part of the cache key.
        reader = CloudKitReader(backend="cloud", preset="agentic", settings=settings)
        documents = reader.load_data(sorted(DATA.iterdir()))
        for doc in documents:
            meta = doc.metadata
            print(f"parsed {meta['file_name']} page {meta['page_number']}/{meta['total_pages']}")

        # 2. Extract v2: the same tool as on v1; citations would land under "_metadata".
        tool = extraction_tool(schema=ShippingTerms, settings=settings, allowed_dirs=[DATA])
        output = tool.call(file_path=str(DATA / "shipping-policy.docx"))
        print("extracted:", json.dumps(output.raw_output.model_dump()))

        # 3. Index v2 retrieval by name: alpha -> vector/full-text weights, rerank {enabled, top_n}.
        if fake is not None:  # the emulator's stand-in for an index LlamaCloud built from a directory
            fake.add_v2_index(INDEX, [{"text": d.text, "metadata": d.metadata} for d in documents])
        elif "CLOUDKIT_V2_INDEX" not in os.environ:
            print("set CLOUDKIT_V2_INDEX to query one of your Index v2 indexes")
            return
        retriever = make_retriever(INDEX, "keyword", settings=settings, top_k=2)
        for hit in retriever.retrieve("What is the refund window?"):
            meta = hit.node.metadata
            print(f"retrieved ({meta.get('file_name')}, page {meta.get('page_number')})")


if __name__ == "__main__":
    main()
