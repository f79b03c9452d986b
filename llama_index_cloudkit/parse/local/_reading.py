"""The reader's local backend: inputs -> Documents with the offline local parser.

:class:`CloudKitReader` makes one :class:`LocalBackend` per call and asks it to :meth:`read
<LocalBackend.read>` its inputs; everything here works on plain inputs and fills the report.

A batch (``load_data(list)``) uses every core: PDFs (split into 2-page tasks when longer),
images and Office files are tasks that this process and ``workers - 1`` worker processes
(:mod:`llama_index_cloudkit.parse.local._workers`) take in turn; PDFium is not thread-safe, so
threads would not help. Light formats are read here. The workers start only when the batch is
not done after 0.1 s, so a small batch, a single file and ``workers=1`` never pay their start-up
(about 0.05 s of a core each, and memory). Concurrent single-file reads (SimpleDirectoryReader's
``aload_data`` runs one thread per file) share one pool: one reads here, the others go to it.
Documents come out in input order either way, errors are typed and name their file, and
``on_error`` works as for one process.

Pages that needed OCR and got none (and other page warnings) are logged, listed in the report's
``warnings`` and flagged ``needs_ocr: True`` in their metadata: never silent.

Here, in the order they build on each other: the reader's local settings and one file read in
this process (:class:`LocalReadOptions`, :func:`iter_here`); a batch's split into what is read
here (light formats) and :class:`~llama_index_cloudkit.parse.local._workers.PageTask` s for the
workers (a long PDF one per few pages, a TIFF one per frame), with :func:`iter_plan` giving the
Documents in input order, whoever read them; and :class:`LocalBackend`, which decides which way a
read goes and owns the workers it starts.

Example:
    >>> backend = LocalBackend(LocalReadOptions(), show_progress=False, fail=lambda *a: None)
    >>> [d.text for d in backend.read([b"hi"], {"file_name": "a.txt"}, None, BatchReport())]
    ['hi']
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from llama_index.core.schema import Document

from llama_index_cloudkit.errors import CloudKitError, ParseError
from llama_index_cloudkit.events import ParseFileEndEvent, dispatcher
from llama_index_cloudkit.parse.inputs import FileInput, label_of, progress, read_input
from llama_index_cloudkit.parse.local import LocalParser, mime_type
from llama_index_cloudkit.parse.local._workers import (
    PageTask,
    TaskQueue,
    TaskResult,
    WorkerPool,
    default_workers,
    run_task,
)
from llama_index_cloudkit.parse.model import ParsedFile, ParsedPage
from llama_index_cloudkit.parse.pages import page_documents
from llama_index_cloudkit.parse.report import BatchReport

__all__ = ["LocalBackend", "LocalReadOptions"]

# The logger name these messages have always had (where users filter them).
logger = logging.getLogger("llama_index_cloudkit.parse.local_reading")

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


# A long PDF is split into tasks of this many pages, so one big file spreads over the cores
# (a scanned page takes seconds of OCR: small tasks keep the cores evenly busy).
PAGES_PER_TASK = 2
# Tasks a batch may run ahead of the one it waits for: while a long task (OCR) holds the
# caller, the workers go on this far. Bounds the results held (text) at once.
WINDOW = 64


class LocalBackend:
    """Reads a reader's inputs with the offline local parser, using every core for a batch.

    Args:
        options: the reader's local settings (OCR, password, tables, workers).
        show_progress: a progress bar over the files.
        fail: how the reader raises or records a failed file (its ``on_error``).

    Example:
        >>> report = BatchReport()
        >>> backend = LocalBackend(LocalReadOptions(), show_progress=False, fail=lambda *a: None)
        >>> docs = list(backend.read([b"hi"], {"file_name": "a.txt"}, None, report))
        >>> report.summary()
        '1/1 file(s) read, 1 page(s), 1 document(s), 0 failure(s)'
    """

    def __init__(self, options: LocalReadOptions, *, show_progress: bool, fail: FailHandler) -> None:
        self.options, self.show_progress, self.fail = options, show_progress, fail

    def read(
        self,
        inputs: list[FileInput],
        extra_info: Mapping[str, Any] | None,
        fs: Any | None,
        report: BatchReport,
    ) -> Iterator[Document]:
        """Documents of every input, in order; failures go to ``fail`` (which raises or records)."""
        options = self.options
        workers = options.workers if options.workers is not None else default_workers()
        if fs is not None and _is_local(fs):
            fs = None  # plain paths: workers can read them
        if fs is not None:  # maybe in this process's memory only: read here, one file at a time
            workers = 1
        context = ReadContext(extra_info, report, options, self.show_progress, self.fail)
        with _activity() as others:
            if workers > 1 and (len(inputs) > 1 or others > 0):
                plan = plan_batch(inputs, extra_info, options, pages_per_task=PAGES_PER_TASK)
                tasks = [task for entry in plan for task in entry.tasks]
                if len(inputs) > 1 and len(tasks) >= 2:  # a batch: this process and workers-1 more
                    queue = TaskQueue(tasks, window=WINDOW)
                    with _LazyPool(min(workers, len(tasks)) - 1, queue):
                        yield from iter_plan(plan, lambda task: queue.result(task.key), context)
                    return
                if len(inputs) == 1 and tasks:  # other threads parse too (aload_data): share
                    with _shared_pool(workers) as pool:
                        submitted = _Submitted(pool, tasks)
                        try:
                            yield from iter_plan(plan, submitted.result, context)
                        finally:
                            submitted.cancel()
                    return
                # not worth a worker: read the plan here (file objects in it were read already)
                yield from iter_plan(plan, run_task, context)
                return
            yield from iter_here(inputs, fs, context)


# A batch starts its workers only when it is not done after this many seconds of work here:
# a small batch never pays their start-up (about 0.05 s of a core each, and memory).
SPAWN_AFTER = 0.1


class _LazyPool:
    """Workers for a batch's TaskQueue, started after SPAWN_AFTER seconds if work is left."""

    def __init__(self, size: int, queue: TaskQueue) -> None:
        self._size = size
        self._queue = queue
        self._pool: WorkerPool | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(SPAWN_AFTER, self._start)
        self._timer.daemon = True

    def __enter__(self) -> _LazyPool:
        if SPAWN_AFTER <= 0:
            self._start()
        else:
            self._timer.start()
        return self

    def _start(self) -> None:
        with self._lock:
            if not self._closed and self._queue.has_work():
                self._pool = WorkerPool(self._size, self._queue)

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._closed = True
            pool = self._pool
        if pool is not None:
            pool.close(abort=exc_type is not None)
        else:
            self._queue.close(0)


class _Submitted:
    """A single file's tasks in a shared pool: handed out a window ahead, taken back on exit."""

    def __init__(self, pool: WorkerPool, tasks: list[PageTask]) -> None:
        self._pool = pool
        self._tasks = collections.deque(tasks)
        self._futures: dict[int, Future[TaskResult]] = {}
        self._window = max(8, 4 * pool.size)
        self._top_up()

    def _top_up(self) -> None:
        while self._tasks and len(self._futures) < self._window:
            task = self._tasks.popleft()
            self._futures[task.key] = self._pool.submit(task)

    def result(self, task: PageTask) -> TaskResult:
        result = self._pool.result(self._futures.pop(task.key))
        self._top_up()
        return result

    def cancel(self) -> None:
        for future in self._futures.values():
            future.cancel()


# --- who else is parsing: concurrent single-file calls share one pool -------------------

_state = threading.Lock()
_active = 0  # local reads in progress in this process (threads)
_shared: WorkerPool | None = None
_shared_users = 0


@contextlib.contextmanager
def _activity() -> Iterator[int]:
    """Count this read as in progress; yields how many others were already."""
    global _active
    with _state:
        others = _active
        _active += 1
    try:
        yield others
    finally:
        with _state:
            _active -= 1


@contextlib.contextmanager
def _shared_pool(workers: int) -> Iterator[WorkerPool]:
    """The pool that concurrent single-file reads share; closed when its last user is done.

    SimpleDirectoryReader's ``aload_data`` reads each file in its own thread: one at a time
    in this process (PDFium's lock), the others in this pool's processes, so every core works.
    """
    global _shared, _shared_users
    with _state:
        if _shared is None:
            _shared = WorkerPool(workers)
        pool = _shared
        _shared_users += 1
    try:
        yield pool
    finally:
        with _state:
            _shared_users -= 1
            last = _shared_users == 0
            if last:
                _shared = None
        if last:
            pool.close()


def _is_local(fs: Any) -> bool:
    protocol = getattr(fs, "protocol", None)
    protocols = {protocol} if isinstance(protocol, str) else set(protocol or ())
    return bool(protocols & {"file", "local"})
