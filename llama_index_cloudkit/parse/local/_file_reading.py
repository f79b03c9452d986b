"""One file at a time with the offline local parser, in this process: input -> Documents.

The pieces :mod:`llama_index_cloudkit.parse.local._reading` builds on: the reader's local
settings, parsing one input, its page Documents, and how a file's success goes into the report
(page warnings logged and listed, never silent).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from llama_index.core.schema import Document

from llama_index_cloudkit.errors import CloudKitError, ParseError
from llama_index_cloudkit.events import ParseFileEndEvent, dispatcher
from llama_index_cloudkit.parse.inputs import FileInput, label_of, progress, read_input
from llama_index_cloudkit.parse.local import LocalParser, mime_type
from llama_index_cloudkit.parse.model import ParsedFile, ParsedPage
from llama_index_cloudkit.parse.pages import page_documents
from llama_index_cloudkit.parse.report import BatchReport

__all__ = [
    "FailHandler",
    "LocalReadOptions",
    "ReadContext",
    "file_documents",
    "iter_here",
    "parse_data",
    "parse_input",
    "parsed_file",
    "record_success",
]

# The logger name these messages have always had (where users filter them).
logger = logging.getLogger("llama_index_cloudkit.parse.local._reading")

FailHandler = Callable[[str, BaseException, BatchReport], None]
"""What a read does with a failed file: ``fail(label, error, report)`` raises or records it."""


@dataclass(frozen=True)
class LocalReadOptions:
    """The reader's settings that the local parser needs (picklable, no secrets in repr).

    Args:
        ocr: the OCR engine (``auto``, ``tesseract``, ``rapidocr``, ``off``).
        password: for encrypted PDFs.
        tables_as_html: tables as HTML instead of markdown.
        workers: processes that read a batch, this one included; None: one per core; 1: only
            this one.

    Example:
        >>> LocalReadOptions(workers=1, password="s3cret")
        LocalReadOptions(ocr='auto', tables_as_html=False, workers=1)
    """

    ocr: str = "auto"
    password: str | None = None
    tables_as_html: bool = False
    workers: int | None = None

    def __repr__(self) -> str:
        return (
            f"LocalReadOptions(ocr={self.ocr!r}, tables_as_html={self.tables_as_html!r}, "
            f"workers={self.workers!r})"
        )


@dataclass(frozen=True)
class ReadContext:
    """What one read carries to every file: its settings, report, and failure handler.

    Args:
        extra_info: metadata for every Document (and ``file_name`` for bytes inputs).
        report: where each file's outcome goes.
        options: the local parser's settings.
        show_progress: show a progress bar over the files.
        fail: what to do with a failed file (raise or record).

    Example:
        >>> context = ReadContext(None, BatchReport(), LocalReadOptions(), False, lambda *a: None)
        >>> context.options.ocr
        'auto'
    """

    extra_info: Mapping[str, Any] | None
    report: BatchReport
    options: LocalReadOptions
    show_progress: bool
    fail: FailHandler


def parse_input(
    item: FileInput, extra_info: Mapping[str, Any] | None, fs: Any | None, options: LocalReadOptions
) -> tuple[ParsedFile, str, str]:
    """Read and parse one input here: ``(parsed file, file path, sha256)``.

    Example:
        >>> parse_input(b"hi", {"file_name": "a.txt"}, None, LocalReadOptions())[1]
        'a.txt'
    """
    data, file_name, file_path = read_input(item, extra_info, fs)
    return parse_data(data, file_name, file_path, options)


def parse_data(
    data: bytes, file_name: str, file_path: str, options: LocalReadOptions
) -> tuple[ParsedFile, str, str]:
    """Parse a file's bytes here: ``(parsed file, file path, sha256)``; engine errors typed.

    Raises:
        UnsupportedFileError: no local engine reads this suffix.
        ParseError: an engine failed (naming the file).

    Example:
        >>> parse_data(b"hi", "a.txt", "docs/a.txt", LocalReadOptions())[0].pages[0].text()
        'hi'
    """
    parser = LocalParser(ocr=options.ocr, password=options.password)  # type: ignore[arg-type]
    if not parser.supports(file_name):
        parser.parser_name(file_name)  # raises UnsupportedFileError naming the suffixes
    try:
        pages = list(parser.iter_pages(data, file_name))
    except (ImportError, CloudKitError, OSError):
        raise
    except Exception as exc:  # an engine's own exception: typed, naming the file
        raise ParseError(f"The local parser failed ({type(exc).__name__}: {exc})", file=file_path) from exc
    return parsed_file(file_name, pages, parser), file_path, hashlib.sha256(data).hexdigest()


def parsed_file(file_name: str, pages: list[ParsedPage], parser: LocalParser) -> ParsedFile:
    """A file's pages as a :class:`ParsedFile`, naming the engine and MIME type.

    Example:
        >>> parsed_file("docs/a.txt", [], LocalParser()).file_name
        'a.txt'
    """
    return ParsedFile(
        file_name=PurePath(file_name).name,
        pages=pages,
        parser=parser.parser_name(file_name),
        file_type=mime_type(file_name),
    )


def file_documents(
    parsed: ParsedFile,
    file_path: str,
    sha256: str,
    extra_info: Mapping[str, Any] | None,
    options: LocalReadOptions,
) -> list[Document]:
    """A parsed file's Documents, one per page.

    Raises:
        ParseError: the file has no pages.

    Example:
        >>> parsed, path, sha = parse_input(b"hi", {"file_name": "a.txt"}, None, LocalReadOptions())
        >>> [d.text for d in file_documents(parsed, path, sha, None, LocalReadOptions())]
        ['hi']
    """
    if not parsed.pages:
        raise ParseError("The file has no pages", file=file_path)
    return page_documents(
        parsed,
        backend="local",
        file_path=file_path,
        extra_info=extra_info,
        tables_as_html=options.tables_as_html,
        sha256=sha256,
    )


def _record_warnings(label: str, pages: list[ParsedPage], report: BatchReport) -> None:
    for page in pages:
        for message in page.warnings:
            logger.warning("%s, page %d: %s", label, page.number, message)
            report.add_warning(label, message, page=page.number)


def record_success(
    label: str, documents: list[Document], pages: list[ParsedPage], report: BatchReport
) -> None:
    """Put a read file in the report (its page warnings logged and listed) and announce it."""
    _record_warnings(label, pages, report)
    report.add_success(
        label,
        pages=documents[0].metadata["total_pages"] if documents else 0,
        documents=len(documents),
    )
    dispatcher.event(ParseFileEndEvent(file=label, backend="local", pages=len(documents)))


def iter_here(inputs: list[FileInput], fs: Any | None, context: ReadContext) -> Iterator[Document]:
    """Documents of every input, read one after another in this process; failures to ``fail``.

    Example:
        >>> context = ReadContext({"file_name": "a.txt"}, BatchReport(), LocalReadOptions(), False,
        ...     lambda *a: None)
        >>> [d.text for d in iter_here([b"hi"], None, context)]
        ['hi']
    """
    extra_info, options, report = context.extra_info, context.options, context.report
    for item in progress(inputs, context.show_progress):
        label = label_of(item, extra_info)
        try:
            parsed, file_path, sha256 = parse_input(item, extra_info, fs, options)
            documents = file_documents(parsed, file_path, sha256, extra_info, options)
        except (CloudKitError, OSError) as exc:  # ImportError (a missing extra) propagates
            context.fail(label, exc, report)
            continue
        record_success(label, documents, parsed.pages, report)
        yield from documents
