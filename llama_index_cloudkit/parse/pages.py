"""Neutral pages -> LlamaIndex Documents, with the same metadata for every backend.

Example:
    >>> from llama_index_cloudkit.parse.model import ParsedFile, ParsedPage
    >>> parsed = ParsedFile("a.txt", [ParsedPage(1, ["hello"])], parser="text",
    ...                     file_type="text/plain")
    >>> doc = page_documents(parsed, backend="local", file_path="/data/a.txt")[0]
    >>> doc.metadata["page_number"], doc.metadata["total_pages"], doc.metadata["file_name"]
    (1, 1, 'a.txt')
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from llama_index.core.schema import Document

from llama_index_cloudkit.parse.model import ParsedFile

__all__ = ["EMBED_EXCLUDED_KEYS", "LLM_EXCLUDED_KEYS", "PAGE_KEYS", "page_documents"]

# Set by us on every page; extra_info cannot override them.
PAGE_KEYS = ("page_number", "total_pages", "page_label", "backend", "parser", "table_count")

# Kept out of what the LLM sees: bookkeeping. file_name and page numbers stay for citations.
LLM_EXCLUDED_KEYS = [
    "file_path",
    "file_type",
    "file_size",
    "creation_date",
    "last_modified_date",
    "last_accessed_date",
    "total_pages",
    "backend",
    "parser",
    "job_id",
    "preset",
    "cache_hit",
    "sha256",
    "table_count",
    "image_paths",
]
# Kept out of embeddings: all of the above, and the page numbers too.
EMBED_EXCLUDED_KEYS = [*LLM_EXCLUDED_KEYS, "page_number", "page_label"]


def page_documents(
    parsed: ParsedFile,
    *,
    backend: str,
    file_path: str | None = None,
    extra_info: Mapping[str, Any] | None = None,
    extra_metadata: Mapping[str, Any] | None = None,
    tables_as_html: bool = False,
    sha256: str | None = None,
) -> list[Document]:
    """One Document per page of ``parsed``, text as markdown, metadata for citations.

    Args:
        parsed: the neutral parse result.
        backend: ``"local"`` or ``"cloud"``.
        file_path: where the file came from (defaults to its name).
        extra_info: metadata from the caller (SimpleDirectoryReader passes file metadata).
        extra_metadata: backend-specific keys (for example ``job_id``, ``preset``, ``cache_hit``).
        tables_as_html: render tables as HTML instead of markdown.
        sha256: the file's content hash; makes Document ids stable across runs.

    Example:
        >>> from llama_index_cloudkit.parse.model import ParsedFile, ParsedPage
        >>> docs = page_documents(ParsedFile("a.md", [ParsedPage(1, ["x"])], "text"),
        ...                       backend="local")
        >>> docs[0].metadata["backend"]
        'local'
    """
    path = file_path if file_path is not None else parsed.file_name
    documents = []
    for page in parsed.pages:
        metadata: dict[str, Any] = {
            "file_name": parsed.file_name,
            "file_path": path,
            "file_type": parsed.file_type,
        }
        metadata.update(extra_info or {})
        metadata.update(
            {
                "page_number": page.number,
                "total_pages": parsed.total_pages,
                "backend": backend,
                "parser": parsed.parser,
                "table_count": page.n_tables,
            }
        )
        if page.label:
            metadata["page_label"] = page.label
        if page.image_paths:
            metadata["image_paths"] = list(page.image_paths)
        metadata.update(extra_metadata or {})
        kwargs: dict[str, Any] = {}
        if sha256 is not None:
            metadata["sha256"] = sha256
            kwargs["id_"] = _document_id(sha256, path, page.number)
        documents.append(
            Document(
                text=page.markdown(tables_as_html=tables_as_html),
                metadata=metadata,
                excluded_embed_metadata_keys=list(EMBED_EXCLUDED_KEYS),
                excluded_llm_metadata_keys=list(LLM_EXCLUDED_KEYS),
                **kwargs,
            )
        )
    return documents


def _document_id(sha256: str, path: str, page_number: int) -> str:
    digest = hashlib.sha256(f"{sha256}\0{path}".encode()).hexdigest()[:24]
    return f"{digest}-p{page_number}"
