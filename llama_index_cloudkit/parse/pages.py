"""Neutral pages -> LlamaIndex Documents, with the same metadata for every backend.

Example:
    >>> from llama_index_cloudkit.parse.model import ParsedFile, ParsedPage
    >>> parsed = ParsedFile("a.txt", [ParsedPage(1, ["hello"])], parser="text",
    ...                     file_type="text/plain")
    >>> doc = page_documents(parsed, backend="local", file_path="/data/a.txt")[0]
    >>> doc.metadata["page_number"], doc.metadata["total_pages"], doc.metadata["file_name"]
    (1, 1, 'a.txt')

The citation keys (``file_name``, ``page_number``, ``page_label``) stay visible to the LLM on
every path: SimpleDirectoryReader appends ``file_name`` to ``excluded_llm_metadata_keys`` after
the reader returns, so the Documents carry a :class:`PinnedKeys` list that never takes a pinned
key in, and :class:`CitedDocument` re-pins it whenever pydantic validates the Document again
(construction, assignment, unpickling in SimpleDirectoryReader's worker processes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, SupportsIndex

from llama_index.core.schema import Document
from pydantic import model_validator

from llama_index_cloudkit.parse.model import ParsedFile

__all__ = [
    "EMBED_EXCLUDED_KEYS",
    "LLM_EXCLUDED_KEYS",
    "LLM_PINNED_KEYS",
    "PAGE_KEYS",
    "CitedDocument",
    "PinnedKeys",
    "page_documents",
]

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
    "needs_ocr",
    "parse_warnings",
]
# Kept out of embeddings: all of the above, and the page numbers too.
EMBED_EXCLUDED_KEYS = [*LLM_EXCLUDED_KEYS, "page_number", "page_label"]
# Always shown to the LLM, whoever tries to hide them: what a citation needs.
LLM_PINNED_KEYS = frozenset({"file_name", "page_number", "page_label"})


class PinnedKeys(list[str]):
    """A list of excluded metadata keys that never takes in a pinned (citation) key.

    ``append``, ``extend``, ``insert``, ``+=`` and item assignment drop the pinned keys, so
    ``SimpleDirectoryReader``'s ``doc.excluded_llm_metadata_keys.extend(["file_name", ...])``
    leaves ``file_name`` visible. It pickles and copies as itself.

    Example:
        >>> keys = PinnedKeys(["file_path"])
        >>> keys.extend(["file_name", "file_size"])
        >>> keys
        ['file_path', 'file_size']
    """

    pinned: frozenset[str] = LLM_PINNED_KEYS

    def __init__(self, keys: Iterable[str] = ()) -> None:
        super().__init__(k for k in keys if k not in self.pinned)

    def append(self, key: str) -> None:
        """Add ``key`` unless it is pinned."""
        if key not in self.pinned:
            super().append(key)

    def extend(self, keys: Iterable[str]) -> None:
        """Add the keys that are not pinned."""
        super().extend(k for k in keys if k not in self.pinned)

    def insert(self, index: SupportsIndex, key: str) -> None:
        """Insert ``key`` unless it is pinned."""
        if key not in self.pinned:
            super().insert(index, key)

    def __iadd__(self, keys: Iterable[str]) -> PinnedKeys:  # type: ignore[override,misc]
        self.extend(keys)
        return self

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            value = [k for k in value if k not in self.pinned]
        elif value in self.pinned:
            raise ValueError(f"{value!r} stays visible to the LLM (it is needed for citations)")
        super().__setitem__(index, value)

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        return (type(self), (list(self),))


class CitedDocument(Document):
    """A page Document whose citation keys stay visible to the LLM (see :class:`PinnedKeys`).

    It is a plain :class:`~llama_index.core.schema.Document` everywhere else: same
    ``class_name()``, same serialized form (a docstore reloads it as a ``Document``).

    Example:
        >>> doc = CitedDocument(text="hi", metadata={"file_name": "a.pdf", "page_number": 1})
        >>> doc.excluded_llm_metadata_keys.append("file_name")  # what SimpleDirectoryReader does
        >>> "file_name" in doc.excluded_llm_metadata_keys
        False
    """

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)

    @model_validator(mode="after")
    def _pin_citation_keys(self) -> CitedDocument:
        keys = self.__dict__.get("excluded_llm_metadata_keys")
        if not isinstance(keys, PinnedKeys):  # set here, not by assignment: no re-validation
            self.__dict__["excluded_llm_metadata_keys"] = PinnedKeys(keys or ())
        return self


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

    ``file_name`` and ``page_number`` (and ``page_label``) stay visible to the LLM, also after
    SimpleDirectoryReader tries to hide ``file_name``. A page that needed OCR and got none has
    ``needs_ocr: True``.

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
    documents: list[Document] = []
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
        if page.needs_ocr:
            metadata["needs_ocr"] = True
        if page.warnings and backend == "cloud":
            metadata["parse_warnings"] = list(page.warnings)
        metadata.update(extra_metadata or {})
        kwargs: dict[str, Any] = {}
        if sha256 is not None:
            metadata["sha256"] = sha256
            kwargs["id_"] = _document_id(sha256, path, page.number)
        documents.append(
            CitedDocument(
                text=page.markdown(tables_as_html=tables_as_html),
                metadata=metadata,
                excluded_embed_metadata_keys=list(EMBED_EXCLUDED_KEYS),
                excluded_llm_metadata_keys=PinnedKeys(LLM_EXCLUDED_KEYS),
                **kwargs,
            )
        )
    return documents


def _document_id(sha256: str, path: str, page_number: int) -> str:
    digest = hashlib.sha256(f"{sha256}\0{path}".encode()).hexdigest()[:24]
    return f"{digest}-p{page_number}"
