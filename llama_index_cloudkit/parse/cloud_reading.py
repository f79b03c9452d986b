"""How CloudKitReader reads a batch with LlamaParse: inputs -> outcomes -> Documents.

Kept apart from the reader so that the reader stays a thin LlamaIndex contract; everything
here works on plain inputs and returns Documents plus report entries.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.schema import Document

from llama_index_cloudkit.errors import CloudKitError, ParseError
from llama_index_cloudkit.parse.cloud_backend import CloudBackend
from llama_index_cloudkit.parse.local import SUPPORTED_SUFFIXES
from llama_index_cloudkit.parse.pages import page_documents

__all__ = ["CloudInput", "cloud_documents", "sibling_files"]


@dataclass(frozen=True)
class CloudInput:
    """One file to parse: its bytes, name, path for metadata, and label for the report."""

    data: bytes
    file_name: str
    file_path: str
    label: str


def sibling_files(path: str, already: Iterable[str]) -> list[str]:
    """Files beside ``path`` with a suffix we read (hidden files skipped), sorted.

    Example:
        >>> sibling_files("/nonexistent/a.pdf", [])
        []
    """
    folder = Path(path).parent
    if not folder.is_dir():
        return []
    skip = {os.path.abspath(p) for p in already}
    return sorted(
        str(p)
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and p.suffix.lower() in SUPPORTED_SUFFIXES
        and os.path.abspath(p) not in skip
    )


def cloud_documents(
    backend: CloudBackend,
    inputs: list[CloudInput],
    *,
    extra_info: dict[str, Any] | None,
    tables_as_html: bool,
    preset: str,
    on_done: Callable[[], None] | None = None,
) -> list[tuple[CloudInput, list[Document] | BaseException, dict[str, Any]]]:
    """Parse ``inputs`` in one concurrent batch; per input, its Documents or its error.

    The third item of each tuple has report details: ``cache_hit``, ``job_id``, ``credits``.
    """
    outcomes = backend.parse_all([(i.data, i.file_name, i.label) for i in inputs], on_done=on_done)
    results: list[tuple[CloudInput, list[Document] | BaseException, dict[str, Any]]] = []
    for item, outcome in zip(inputs, outcomes, strict=True):
        details = {"cache_hit": outcome.cache_hit, "job_id": outcome.job_id, "credits": outcome.credits}
        if outcome.error is not None:
            results.append((item, outcome.error, details))
            continue
        parsed = outcome.parsed
        if parsed is None or not parsed.pages:
            error: CloudKitError = ParseError(
                "LlamaParse returned no pages", file=item.label, hint="Check that the file has content"
            )
            results.append((item, error, details))
            continue
        documents = page_documents(
            parsed,
            backend="cloud",
            file_path=item.file_path,
            extra_info=extra_info,
            extra_metadata={"job_id": outcome.job_id, "preset": preset},
            tables_as_html=tables_as_html,
            sha256=hashlib.sha256(item.data).hexdigest(),
        )
        results.append((item, documents, details))
    return results
