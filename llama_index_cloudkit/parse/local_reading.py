"""How CloudKitReader reads inputs with the offline local parser: inputs -> Documents.

Kept apart from the reader (like :mod:`llama_index_cloudkit.parse.cloud_reading`) so the reader
stays a thin LlamaIndex contract; everything here works on plain inputs and fills the report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from llama_index.core.schema import Document

from llama_index_cloudkit.errors import CloudKitError, ParseError
from llama_index_cloudkit.events import ParseFileEndEvent, dispatcher
from llama_index_cloudkit.parse.inputs import FileInput, label_of, progress, read_input
from llama_index_cloudkit.parse.local import LocalParser, mime_type
from llama_index_cloudkit.parse.model import ParsedFile
from llama_index_cloudkit.parse.pages import page_documents
from llama_index_cloudkit.parse.report import BatchReport

__all__ = ["LocalReadOptions", "iter_local_documents", "local_documents"]

FailHandler = Callable[[str, BaseException, BatchReport], None]


@dataclass(frozen=True)
class LocalReadOptions:
    """The reader's settings that the local parser needs (picklable, no secrets in repr)."""

    ocr: str = "auto"
    password: str | None = None
    tables_as_html: bool = False

    def __repr__(self) -> str:
        return f"LocalReadOptions(ocr={self.ocr!r}, tables_as_html={self.tables_as_html!r})"


def local_documents(
    item: FileInput, extra_info: Mapping[str, Any] | None, fs: Any | None, options: LocalReadOptions
) -> list[Document]:
    """One input -> its Documents, one per page.

    Raises:
        CloudKitError: the file cannot be parsed (typed, naming the file).
        OSError: the file cannot be read.

    Example:
        >>> docs = local_documents(b"hi", {"file_name": "a.txt"}, None, LocalReadOptions())
        >>> docs[0].text
        'hi'
    """
    data, file_name, file_path = read_input(item, extra_info, fs)
    parser = LocalParser(ocr=options.ocr, password=options.password)  # type: ignore[arg-type]
    if not parser.supports(file_name):
        parser.parser_name(file_name)  # raises UnsupportedFileError naming the suffixes
    pages = list(parser.iter_pages(data, file_name))
    parsed = ParsedFile(
        file_name=PurePath(file_name).name,
        pages=pages,
        parser=parser.parser_name(file_name),
        file_type=mime_type(file_name),
    )
    if not parsed.pages:
        raise ParseError("The file has no pages", file=file_path)
    return page_documents(
        parsed,
        backend="local",
        file_path=file_path,
        extra_info=extra_info,
        tables_as_html=options.tables_as_html,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def iter_local_documents(
    inputs: list[FileInput],
    extra_info: Mapping[str, Any] | None,
    fs: Any | None,
    report: BatchReport,
    *,
    options: LocalReadOptions,
    show_progress: bool,
    fail: FailHandler,
) -> Iterator[Document]:
    """Documents of every input, in order; failures go to ``fail`` (which raises or records).

    Example:
        >>> report = BatchReport()
        >>> docs = list(iter_local_documents([b"hi"], {"file_name": "a.txt"}, None, report,
        ...     options=LocalReadOptions(), show_progress=False, fail=lambda *a: None))
        >>> report.summary()
        '1/1 file(s) read, 1 page(s), 1 document(s), 0 failure(s)'
    """
    for item in progress(inputs, show_progress):
        label = label_of(item, extra_info)
        try:
            documents = local_documents(item, extra_info, fs, options)
        except (CloudKitError, OSError) as exc:  # ImportError (a missing extra) propagates
            fail(label, exc, report)
            continue
        report.add_success(
            label,
            pages=documents[0].metadata["total_pages"] if documents else 0,
            documents=len(documents),
        )
        dispatcher.event(ParseFileEndEvent(file=label, backend="local", pages=len(documents)))
        yield from documents
