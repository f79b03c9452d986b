"""Worker processes for the local parser: a batch uses every core (PDFium is not thread-safe).

Each worker is a fresh ``python`` started with :mod:`subprocess` (not :mod:`multiprocessing`):
it never re-imports the caller's ``__main__`` (a script without an ``if __name__ ==
"__main__"`` guard stays safe), it is safe to start from any thread (``aload_data``) and from
daemonic processes (``SimpleDirectoryReader(num_workers=...)``), and it imports only the
parsing engines, not the package's ``__init__`` (which pulls in llama-index-core): a worker is
ready in about 0.05 s (the OCR engine loads on first use). Tasks and results travel as
length-prefixed pickles over the worker's stdin and stdout; the worker's own prints go to
stderr, and its warning log records are re-emitted in the caller's process, under their own
logger names.

A task is a file, or a range of pages of a long PDF (frames of a TIFF), so one big file spreads
over the cores.
A worker that dies fails only the task it held (typed, naming the file), and is replaced.

Here, in the order they build on each other: the task and its result (:class:`PageTask`,
:class:`TaskResult`, :func:`run_task` in this process, :func:`default_workers`); a batch's tasks
in order (:class:`TaskQueue`); one worker process, its start-up and main loop (:func:`serve`)
and the framing of what travels over its pipes (:class:`WorkerProcess`); and the processes that
take tasks from a queue or from :meth:`WorkerPool.submit` (:class:`WorkerPool`).

Example:
    >>> task = PageTask(key=0, source=b"hello", file_name="a.txt", label="a.txt")
    >>> run_task(task).pages[0].text()
    'hello'
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from llama_index_cloudkit.errors import CloudKitError, ParseError
from llama_index_cloudkit.parse.local.ocr import ocr_threads
from llama_index_cloudkit.parse.model import ParsedPage

__all__ = [
    "PageTask",
    "TaskQueue",
    "TaskResult",
    "WorkerPool",
    "WorkerProcess",
    "default_workers",
    "run_task",
    "serve",
]

# The logger name the pool has always logged under (where users filter it).
logger = logging.getLogger("llama_index_cloudkit.parse.local.workers")


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


Deliver = Callable[[TaskResult], None]
"""How a worker hands back the result of the task it took."""


class TaskQueue:
    """A batch's tasks in order, shared by the caller and the workers; results read in order.

    Workers take the front-most task not taken yet, at most ``window`` tasks ahead of the one
    the caller waits for (memory stays bounded). While it waits, the caller reads tasks too:
    the workers' start-up is hidden, and a small batch is done before any worker is ready.

    Example:
        >>> tasks = TaskQueue([PageTask(key=0, source=b"hi", file_name="a.txt", label="a.txt")], 4)
        >>> tasks.result(0).pages[0].text()  # no worker: the caller reads it
        'hi'
    """

    def __init__(self, tasks: list[PageTask], window: int) -> None:
        self._tasks = tasks
        self._window = max(1, window)
        self._next = 0
        self._cursor = 0
        self._results: dict[int, TaskResult] = {}
        self._closed = False
        self._cond = threading.Condition()

    def _take_locked(self) -> tuple[int, PageTask] | None:
        if self._closed or self._next >= len(self._tasks) or self._next >= self._cursor + self._window:
            return None
        index = self._next
        self._next += 1
        return index, self._tasks[index]

    def take(self) -> tuple[PageTask, Deliver] | None:
        """For a worker: the next task, blocking while the window is full; None when all are taken."""
        with self._cond:
            while True:
                taken = self._take_locked()
                if taken is not None:
                    index, task = taken
                    return task, functools.partial(self._put, index)
                if self._closed or self._next >= len(self._tasks):
                    return None
                self._cond.wait()

    def _put(self, index: int, result: TaskResult) -> None:
        with self._cond:
            self._results[index] = result
            self._cond.notify_all()

    def result(self, index: int) -> TaskResult:
        """The result of task ``index`` (0-based, in order), reading tasks here while waiting.

        Raises:
            ImportError: a worker lacks an engine (a missing extra), as in-process parsing would.
        """
        with self._cond:
            self._cursor = index
            self._cond.notify_all()  # the window moved on
        while True:
            with self._cond:
                if index in self._results:
                    result = self._results.pop(index)
                    break
                taken = self._take_locked()
                if taken is None:
                    self._cond.wait()
                    continue
            position, task = taken
            with ocr_threads(1):  # the workers take the other cores
                self._put(position, run_here(task))
        return unwrap_result(result)

    def has_work(self) -> bool:
        """Whether some task is not taken yet."""
        with self._cond:
            return not self._closed and self._next < len(self._tasks)

    def close(self, threads: int) -> None:
        """Hand out no more tasks."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


_HEADER = struct.Struct("!Q")
# The worker skips the package's __init__: it only needs the engines (see the module docstring).
_BOOTSTRAP = (
    "import sys, types\n"
    "for name, path in (('llama_index_cloudkit', sys.argv[1]), "
    "('llama_index_cloudkit.parse', sys.argv[1] + '/parse')):\n"
    "    module = types.ModuleType(name)\n"
    "    module.__path__ = [path]\n"
    "    sys.modules[name] = module\n"
    "from llama_index_cloudkit.parse.local._workers import serve\n"
    "serve()\n"
)


class _Capture(logging.Handler):
    """Keeps the worker's warning records, to re-emit them in the caller's process."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None
        record.exc_info = record.exc_text = None
        self.records.append(record)


def write_frame(stream: IO[bytes], obj: object) -> None:
    """Send ``obj`` as one length-prefixed pickle.

    Example:
        >>> import io
        >>> buffer = io.BytesIO()
        >>> write_frame(buffer, "hi")
        >>> read_frame(io.BytesIO(buffer.getvalue()))
        'hi'
    """
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """Read one object sent by :func:`write_frame`.

    Raises:
        EOFError: the stream ended before a whole frame.

    Example:
        >>> import io
        >>> read_frame(io.BytesIO(b""))
        Traceback (most recent call last):
        EOFError
    """
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError
    return pickle.loads(payload)


def serve() -> None:
    """A worker's main loop: read tasks from stdin, write results to stdout, until stdin ends."""
    from llama_index_cloudkit.parse.local.ocr import set_ocr_threads

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's: it stops us
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything an engine prints goes to stderr, not into the protocol
    sys.stdout = sys.stderr
    set_ocr_threads(1)  # one worker per core already
    capture = _Capture()
    logging.getLogger().addHandler(capture)
    stdin = sys.stdin.buffer
    while True:
        try:
            task = read_frame(stdin)
        except EOFError:
            return
        result = run_here(task)
        result.records, capture.records = capture.records, []
        try:
            write_frame(protocol_out, result)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            error = ParseError(f"The result cannot be sent back ({exc})", file=task.label)
            write_frame(protocol_out, TaskResult(task.key, error=error))


class WorkerProcess:
    """The caller's handle on one worker process, started at once.

    Raises:
        OSError: no process can be started here (an embedded interpreter).
    """

    def __init__(self) -> None:
        import llama_index_cloudkit

        package = str(Path(llama_index_cloudkit.__file__).parent)
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, package],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def run(self, task: PageTask) -> TaskResult:
        """Have the worker parse ``task``; a worker that dies fails only this task (typed)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            write_frame(self.process.stdin, task)
            result: TaskResult = read_frame(self.process.stdout)
            return result
        except (EOFError, BrokenPipeError, OSError):
            self.stop(wait=False)
            code = self.process.returncode
            error = ParseError(
                f"The parser process stopped while reading this file (exit code {code})",
                file=task.label,
                hint="It may have run out of memory; retry the file alone, or with workers=1",
            )
            return TaskResult(task.key, error=error)

    @property
    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def stop(self, *, wait: bool) -> None:
        """End the process: after its current task (``wait``), or killed at once."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        if not wait:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class _FutureSource:
    """Tasks handed in one by one with :meth:`WorkerPool.submit`, each with its Future."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[PageTask, Future[TaskResult]] | None] = queue.Queue()

    def put(self, task: PageTask) -> Future[TaskResult]:
        future: Future[TaskResult] = Future()
        self._queue.put((task, future))
        return future

    def take(self) -> tuple[PageTask, Deliver] | None:
        while True:
            item = self._queue.get()
            if item is None:
                return None
            task, future = item
            if future.set_running_or_notify_cancel():  # else the caller took it back
                return task, future.set_result

    def close(self, threads: int) -> None:
        for _ in range(threads):
            self._queue.put(None)


class WorkerPool:
    """``size`` worker processes; a free worker takes the next task from its source.

    The source is a :class:`TaskQueue` (one batch, read in order, the caller working too), or
    tasks handed in with :meth:`submit`, each with a Future (several callers share the pool).
    Workers start at once, so they are ready when the tasks come.
    """

    def __init__(self, size: int, tasks: TaskQueue | None = None) -> None:
        self.size = size
        self._futures = _FutureSource() if tasks is None else None
        self._source: _FutureSource | TaskQueue = tasks if tasks is not None else self._futures  # type: ignore[assignment]
        self._workers: list[WorkerProcess] = []
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._feed, name=f"cloudkit-local-worker-{n}", daemon=True)
            for n in range(size)
        ]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.close(abort=exc_type is not None)

    def submit(self, task: PageTask) -> Future[TaskResult]:
        """Queue ``task`` for the next free worker; cancel the Future to take it back."""
        if self._futures is None:
            raise RuntimeError("this pool reads a TaskQueue; submit to it instead")
        return self._futures.put(task)

    @staticmethod
    def result(future: Future[TaskResult]) -> TaskResult:
        """Wait for a submitted task's result.

        Raises:
            ImportError: a worker lacks an engine (a missing extra), as in-process parsing would.
        """
        return unwrap_result(future.result())

    def _feed(self) -> None:
        worker: WorkerProcess | None = None
        here = False  # no process can be started here (an embedded interpreter): read in this one
        try:
            try:
                worker = self._start()  # at once: ready when the first task comes
            except OSError as exc:
                logger.warning("cannot start a local parser process (%s); reading in this one", exc)
                here = True
            while True:
                job = self._source.take()
                if job is None:
                    return
                task, deliver = job
                try:
                    if here:
                        result = run_here(task)
                    else:
                        if worker is None or not worker.alive:
                            worker = self._start()
                        if worker is None:
                            raise ParseError("The local parser is shutting down", file=task.label)
                        result = worker.run(task)
                except BaseException as exc:  # never leave a caller waiting
                    result = TaskResult(task.key, error=exc)
                deliver(result)
        finally:
            if worker is not None:
                worker.stop(wait=not self._closed)

    def _start(self) -> WorkerProcess | None:
        with self._lock:
            if self._closed:
                return None
            worker = WorkerProcess()
            self._workers.append(worker)
            return worker

    def close(self, *, abort: bool = False) -> None:
        """Stop the workers: after the tasks handed out, or at once with ``abort``."""
        if abort:
            with self._lock:
                self._closed = True
                workers = list(self._workers)
            for worker in workers:
                worker.process.kill()
        self._source.close(len(self._threads))
        for thread in self._threads:
            thread.join(timeout=30)
        with self._lock:
            self._closed = True
            workers = list(self._workers)
        for worker in workers:
            if worker.alive:
                worker.stop(wait=False)
