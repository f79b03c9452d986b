"""How CloudKitReader reads a batch with LlamaParse: inputs -> outcomes -> Documents.

Kept apart from the reader so that the reader stays a thin LlamaIndex contract; everything
here works on plain inputs and returns Documents plus report entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from llama_index.core.schema import Document

from llama_index_cloudkit.errors import CloudKitError, ParseError
from llama_index_cloudkit.parse.cloud_backend import CloudBackend, CloudOutcome
from llama_index_cloudkit.parse.pages import page_documents

__all__ = ["CloudInput", "acloud_documents", "cloud_documents", "documents_from_outcomes"]


@dataclass(frozen=True)
class CloudInput:
    """One file to parse: its bytes, name, path for metadata, and label for the report."""

    data: bytes
    file_name: str
    file_path: str
    label: str


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
    return documents_from_outcomes(
        inputs, outcomes, extra_info=extra_info, tables_as_html=tables_as_html, preset=preset
    )


async def acloud_documents(
    backend: CloudBackend,
    inputs: list[CloudInput],
    *,
    extra_info: dict[str, Any] | None,
    tables_as_html: bool,
    preset: str,
    on_done: Callable[[], None] | None = None,
) -> list[tuple[CloudInput, list[Document] | BaseException, dict[str, Any]]]:
    """Async :func:`cloud_documents`: awaits the core in the caller's event loop."""
    outcomes = await backend.aparse_all([(i.data, i.file_name, i.label) for i in inputs], on_done=on_done)
    return documents_from_outcomes(
        inputs, outcomes, extra_info=extra_info, tables_as_html=tables_as_html, preset=preset
    )


def documents_from_outcomes(
    inputs: list[CloudInput],
    outcomes: list[CloudOutcome],
    *,
    extra_info: dict[str, Any] | None,
    tables_as_html: bool,
    preset: str,
) -> list[tuple[CloudInput, list[Document] | BaseException, dict[str, Any]]]:
    """Per input, its Documents (metadata from ``extra_info``) or its error, and report details."""
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
