"""What a local parser worker does with one task: the task, its result, and running it here.

A task is a whole file, or a range of pages of a long PDF (frames of a TIFF). Running one never
raises for a bad file: the error comes back in the :class:`TaskResult`, typed and naming the
file, so it can travel back from a worker process as a value.

Example:
    >>> task = PageTask(key=0, source=b"hello", file_name="a.txt", label="a.txt")
    >>> run_task(task).pages[0].text()
    'hello'
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_index_cloudkit.errors import CloudKitError, ParseError
from llama_index_cloudkit.parse.model import ParsedPage

__all__ = ["PageTask", "TaskResult", "default_workers", "run_here", "run_task", "unwrap_result"]


def default_workers() -> int:
    """The cores this process may run on (the default number of worker processes).

    Example:
        >>> default_workers() >= 1
        True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class PageTask:
    """One unit of work: a whole file, or the pages ``start:stop`` (0-based) of a PDF.

    Args:
        key: the task's id in its batch.
        source: a local path or an fsspec path (read by the worker), or the file's bytes.
        file_name: picks the engine by suffix.
        label: the file as the caller named it, for errors.
        fs: the fsspec filesystem to read ``source`` from (None: the local disk).
        pages: ``(start, stop)`` for part of a PDF; None for the whole file.
        ocr: the OCR engine setting.
        password: for encrypted PDFs (never in repr).
        find_tables: look for ruled tables in PDFs.

    Example:
        >>> PageTask(key=1, source="a.pdf", file_name="a.pdf", label="a.pdf", pages=(0, 4)).pages
        (0, 4)
    """

    key: int
    source: str | bytes = field(repr=False)
    file_name: str
    label: str
    fs: Any | None = field(default=None, repr=False)
    pages: tuple[int, int] | None = None
    ocr: str = "auto"
    password: str | None = field(default=None, repr=False)
    find_tables: bool = True


@dataclass
class TaskResult:
    """What a task gave: its pages and the file's sha256, or the error that stopped it.

    Example:
        >>> TaskResult(key=0, pages=[]).ok
        True
    """

    key: int
    pages: list[ParsedPage] = field(default_factory=list)
    sha256: str | None = None
    error: BaseException | None = None
    records: list[logging.LogRecord] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the task succeeded."""
        return self.error is None


def _read(task: PageTask) -> bytes:
    if isinstance(task.source, bytes):
        return task.source
    if task.fs is not None:
        with task.fs.open(task.source, "rb") as handle:
            return bytes(handle.read())
    return Path(task.source).read_bytes()


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_task(task: PageTask) -> TaskResult:
    """Parse one task in this process. Errors come back as values, except ImportError.

    An unexpected exception from an engine becomes a ParseError naming the file.

    Example:
        >>> run_task(PageTask(key=0, source=b"", file_name="a.pdf", label="a.pdf")).error
        ParseError('The file is empty (file: a.pdf)')
    """
    from llama_index_cloudkit.parse.local import LocalParser

    try:
        parser = LocalParser(ocr=task.ocr, password=task.password, find_tables=task.find_tables)  # type: ignore[arg-type]
        pages = None if task.pages is None else range(*task.pages)
        first = pages is None or pages.start == 0  # the file's hash comes with its first part
        if isinstance(task.source, str) and task.fs is None and task.file_name.lower().endswith(".pdf"):
            # a local PDF is read from its path as needed: big files stay out of memory
            parsed = list(parser.iter_pages(task.source, task.file_name, pages=pages))
            return TaskResult(task.key, parsed, _file_sha256(task.source) if first else None)
        data = _read(task)
        parsed = list(parser.iter_pages(data, task.file_name, pages=pages))
        return TaskResult(task.key, parsed, hashlib.sha256(data).hexdigest() if first else None)
    except ImportError:
        raise
    except (CloudKitError, OSError) as exc:
        return TaskResult(task.key, error=exc)
    except Exception as exc:  # an engine's own exception: typed, naming the file
        error = ParseError(f"The local parser failed ({type(exc).__name__}: {exc})", file=task.label)
        error.__cause__ = exc
        return TaskResult(task.key, error=error)


def run_here(task: PageTask) -> TaskResult:
    """Like :func:`run_task`, but a missing engine (ImportError) comes back as a value too.

    Example:
        >>> run_here(PageTask(key=3, source=b"hi", file_name="a.txt", label="a.txt")).key
        3
    """
    try:
        return run_task(task)
    except ImportError as exc:
        return TaskResult(task.key, error=exc)


def unwrap_result(result: TaskResult) -> TaskResult:
    """Hand a worker's result to the caller: re-emit its log records here, raise its ImportError.

    The records go to their own loggers in this process, and are then dropped from the result.

    Raises:
        ImportError: a worker lacks an engine (a missing extra), as in-process parsing would.

    Example:
        >>> unwrap_result(TaskResult(key=0)).ok
        True
    """
    for record in result.records:
        logging.getLogger(record.name).handle(record)
    result.records = []
    if isinstance(result.error, ImportError):
        raise result.error
    return result
