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

This module gathers the pieces, each in its own module:

- :mod:`~llama_index_cloudkit.parse.local.worker_tasks`: :class:`PageTask`, :class:`TaskResult`,
  :func:`run_task` (one task in this process) and :func:`default_workers`.
- :mod:`~llama_index_cloudkit.parse.local.worker_process`: one worker process, its start-up and
  main loop (:func:`serve`) and the framing of what travels over its pipes.
- :mod:`~llama_index_cloudkit.parse.local.task_queue`: :class:`TaskQueue`, a batch's tasks in order.
- :mod:`~llama_index_cloudkit.parse.local.worker_pool`: :class:`WorkerPool`, the processes that
  take tasks from a queue or from :meth:`WorkerPool.submit`.

Example:
    >>> task = PageTask(key=0, source=b"hello", file_name="a.txt", label="a.txt")
    >>> run_task(task).pages[0].text()
    'hello'
"""

from __future__ import annotations

from llama_index_cloudkit.parse.local.task_queue import TaskQueue
from llama_index_cloudkit.parse.local.worker_pool import WorkerPool
from llama_index_cloudkit.parse.local.worker_process import serve
from llama_index_cloudkit.parse.local.worker_tasks import PageTask, TaskResult, default_workers, run_task

__all__ = ["PageTask", "TaskQueue", "TaskResult", "WorkerPool", "default_workers", "run_task", "serve"]
