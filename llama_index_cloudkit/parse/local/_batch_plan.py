"""A batch for the local parser's workers: which inputs are read here, which become worker tasks.

Light formats are read in the caller's process; PDFs, images and Office files become
:class:`~llama_index_cloudkit.parse.local._workers.PageTask` s (a long PDF one per few pages, a
TIFF one per frame), so one big file spreads over the cores. :func:`iter_plan` then gives the
Documents in input order, whoever read them.

Example:
    >>> plan = plan_batch([b"hi"], {"file_name": "a.txt"}, LocalReadOptions(), pages_per_task=2)
    >>> plan[0].light, plan[0].tasks
    (True, [])
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from llama_index.core.schema import Document

from llama_index_cloudkit.errors import CloudKitError
from llama_index_cloudkit.parse.inputs import FileInput, label_of, progress, read_input
from llama_index_cloudkit.parse.local import LocalParser
from llama_index_cloudkit.parse.local._file_reading import (
    LocalReadOptions,
    ReadContext,
    file_documents,
    parse_data,
    parse_input,
    parsed_file,
    record_success,
)
from llama_index_cloudkit.parse.local._workers import PageTask, TaskResult
from llama_index_cloudkit.parse.model import ParsedFile

__all__ = ["BatchEntry", "iter_plan", "plan_batch"]

# Read in the caller's process even in a batch: fast, not worth a trip to a worker.
_LIGHT_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".csv", ".json", ".html", ".htm"})


@dataclass
class BatchEntry:
    """One input of a batch: read here (``light``), or by the worker tasks ``tasks``.

    Example:
        >>> BatchEntry("a.txt", source=b"hi", file_name="a.txt", light=True).tasks
        []
    """

    label: str
    source: str | bytes = b""
    file_name: str = ""
    file_path: str = ""
    light: bool = False
    tasks: list[PageTask] = field(default_factory=list)
    error: BaseException | None = None


def _pdf_page_count(source: str | bytes, password: str | None) -> int | None:
    """Pages of a PDF, or None when it cannot be opened here (the worker then says why)."""
    import pypdfium2

    from llama_index_cloudkit.parse.local.pdf import PDFIUM_LOCK

    try:
        with PDFIUM_LOCK:
            document = pypdfium2.PdfDocument(source, password=password)
            try:
                return len(document)
            finally:
                document.close()
    except (pypdfium2.PdfiumError, OSError):
        return None


def _frame_count(path: str) -> int:
    """Frames of a TIFF, or 1 when it cannot be read here (the worker then says why)."""
    try:
        from PIL import Image

        with Image.open(path) as image:
            return int(getattr(image, "n_frames", 1))
    except Exception:  # an unreadable image: its one task reports the typed error
        return 1


def plan_batch(
    inputs: list[FileInput],
    extra_info: Mapping[str, Any] | None,
    options: LocalReadOptions,
    *,
    pages_per_task: int,
) -> list[BatchEntry]:
    """Split a batch of local paths, bytes and file objects: light files are read here, heavy
    ones become worker tasks (a PDF longer than ``pages_per_task`` pages, several).

    Example:
        >>> plan = plan_batch([b"%PDF"], {"file_name": "a.pdf"}, LocalReadOptions(), pages_per_task=2)
        >>> [task.file_name for task in plan[0].tasks]
        ['a.pdf']
    """
    plan: list[BatchEntry] = []
    key = 0
    for item in inputs:
        label = label_of(item, extra_info)
        source: str | bytes
        if isinstance(item, (str, os.PathLike)):  # a local path (see LocalBackend.read)
            source = file_path = os.fspath(item)
            name = PurePath(file_path).name
        else:  # bytes or a file object: read it now, it cannot travel as it is
            try:
                source, name, file_path = read_input(item, extra_info, None)
            except (CloudKitError, OSError) as exc:
                plan.append(BatchEntry(label, error=exc))
                continue
        entry = BatchEntry(label, source=source, file_name=name, file_path=file_path)
        plan.append(entry)
        suffix = PurePath(name).suffix.lower()
        if suffix in _LIGHT_SUFFIXES or not LocalParser().supports(name):
            entry.light = True
            continue
        ranges: list[tuple[int, int] | None] = [None]
        if suffix == ".pdf" and isinstance(source, str):
            count = _pdf_page_count(source, options.password)
            if count is not None and count > pages_per_task:
                ranges = [
                    (start, min(start + pages_per_task, count)) for start in range(0, count, pages_per_task)
                ]
        elif suffix in (".tif", ".tiff") and isinstance(source, str):  # one OCR task per frame
            frames = _frame_count(source)
            if frames > 1:
                ranges = [(frame, frame + 1) for frame in range(frames)]
        for pages in ranges:
            task = PageTask(
                key=key,
                source=source,
                file_name=name,
                label=label,
                pages=pages,
                ocr=options.ocr,
                password=options.password,
            )
            entry.tasks.append(task)
            key += 1
    return plan


def _read_light(entry: BatchEntry, options: LocalReadOptions) -> tuple[ParsedFile, str, str]:
    if isinstance(entry.source, bytes):
        return parse_data(entry.source, entry.file_name, entry.file_path, options)
    return parse_input(entry.source, None, None, options)


def iter_plan(
    plan: list[BatchEntry], fetch: Callable[[PageTask], TaskResult], context: ReadContext
) -> Iterator[Document]:
    """Documents of ``plan`` in order: heavy entries' tasks through ``fetch``, light ones here.

    Example:
        >>> from llama_index_cloudkit.parse.local._workers import run_task
        >>> from llama_index_cloudkit.parse.report import BatchReport
        >>> context = ReadContext(None, BatchReport(), LocalReadOptions(), False, print)
        >>> plan = plan_batch([b"hi"], {"file_name": "a.txt"}, context.options, pages_per_task=2)
        >>> [d.text for d in iter_plan(plan, run_task, context)]
        ['hi']
    """
    extra_info, options, report, fail = context.extra_info, context.options, context.report, context.fail
    entries: Any = progress(plan, context.show_progress)  # type: ignore[arg-type]
    for entry in entries:
        if entry.error is not None:
            fail(entry.label, entry.error, report)
            continue
        if entry.light:
            try:
                parsed, file_path, sha256 = _read_light(entry, options)
                documents = file_documents(parsed, file_path, sha256, extra_info, options)
            except (CloudKitError, OSError) as exc:
                fail(entry.label, exc, report)
                continue
            record_success(entry.label, documents, parsed.pages, report)
            yield from documents
            continue
        results = [fetch(task) for task in entry.tasks]
        error = next((r.error for r in results if r.error is not None), None)
        if error is not None:
            fail(entry.label, error, report)
            continue
        pages = [page for result in results for page in result.pages]
        try:
            documents = file_documents(
                parsed_file(entry.file_name, pages, LocalParser(ocr=options.ocr)),  # type: ignore[arg-type]
                entry.file_path,
                results[0].sha256 or "",
                extra_info,
                options,
            )
        except CloudKitError as exc:
            fail(entry.label, exc, report)
            continue
        record_success(entry.label, documents, pages, report)
        yield from documents
