"""Parse a folder with SimpleDirectoryReader and CloudKitReader: one Document per page.

Run: python examples/parse_directory.py [folder]

With LLAMA_CLOUD_API_KEY set this uses LlamaParse (agentic preset, cached, journaled,
concurrent); without it, the offline local parser. The Documents have the same shape either way.
"""

from __future__ import annotations

import sys
from pathlib import Path

from llama_index.core import SimpleDirectoryReader

from llama_index_cloudkit import CloudKitSettings, file_extractor


def main(folder: str) -> None:
    backend = CloudKitSettings().resolved_backend()
    reader = SimpleDirectoryReader(folder, file_extractor=file_extractor(preset="agentic"))
    documents = reader.load_data()
    print(f"{len(documents)} pages from {folder} (backend: {backend})")
    for doc in documents:
        meta = doc.metadata
        print(
            f"- {meta['file_name']} page {meta['page_number']}/{meta['total_pages']}: "
            f"{len(doc.text)} characters, {meta['table_count']} table(s)"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).parent / "data"))
