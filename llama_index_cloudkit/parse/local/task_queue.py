"""A batch's tasks in order, shared by the caller and the local parser's workers.

Example:
    >>> from llama_index_cloudkit.parse.local.worker_tasks import PageTask
    >>> tasks = TaskQueue([PageTask(key=0, source=b"hi", file_name="a.txt", label="a.txt")], 4)
    >>> tasks.result(0).pages[0].text()
    'hi'
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

from llama_index_cloudkit.parse.local.ocr import ocr_threads
from llama_index_cloudkit.parse.local.worker_tasks import PageTask, TaskResult, run_here, unwrap_result

__all__ = ["Deliver", "TaskQueue"]

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
