"""A pool of local parser worker processes, fed by a :class:`TaskQueue` or by :meth:`submit`.

Example:
    >>> from llama_index_cloudkit.parse.local.worker_tasks import PageTask
    >>> with WorkerPool(2) as pool:  # doctest: +SKIP
    ...     future = pool.submit(PageTask(key=0, source="a.pdf", file_name="a.pdf", label="a.pdf"))
    ...     pool.result(future).key
    0
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from llama_index_cloudkit.errors import ParseError
from llama_index_cloudkit.parse.local.task_queue import Deliver, TaskQueue
from llama_index_cloudkit.parse.local.worker_process import WorkerProcess
from llama_index_cloudkit.parse.local.worker_tasks import PageTask, TaskResult, run_here, unwrap_result

__all__ = ["WorkerPool"]

# The logger name the pool has always logged under (where users filter it).
logger = logging.getLogger("llama_index_cloudkit.parse.local.workers")


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

    Example:
        >>> with WorkerPool(2) as pool:  # doctest: +SKIP
        ...     future = pool.submit(PageTask(key=0, source="a.pdf", file_name="a.pdf", label="a.pdf"))
        ...     pool.result(future).key
        0
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
