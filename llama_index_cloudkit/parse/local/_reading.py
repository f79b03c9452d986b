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

The pieces live in their own modules: one file in this process in
:mod:`llama_index_cloudkit.parse.local._file_reading`, a batch's split into work here and worker
tasks in :mod:`llama_index_cloudkit.parse.local._batch_plan`; this module decides which way a
read goes and owns the workers it starts.

Example:
    >>> backend = LocalBackend(LocalReadOptions(), show_progress=False, fail=lambda *a: None)
    >>> [d.text for d in backend.read([b"hi"], {"file_name": "a.txt"}, None, BatchReport())]
    ['hi']
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from typing import Any

from llama_index.core.schema import Document

from llama_index_cloudkit.parse.inputs import FileInput
from llama_index_cloudkit.parse.local._batch_plan import iter_plan, plan_batch
from llama_index_cloudkit.parse.local._file_reading import (
    FailHandler,
    LocalReadOptions,
    ReadContext,
    iter_here,
)
from llama_index_cloudkit.parse.local._workers import (
    PageTask,
    TaskQueue,
    TaskResult,
    WorkerPool,
    default_workers,
    run_task,
)
from llama_index_cloudkit.parse.report import BatchReport

__all__ = ["LocalBackend"]

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
