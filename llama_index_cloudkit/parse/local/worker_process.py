"""One local parser worker process: how it starts, its main loop, and the caller's handle on it.

The worker is a fresh ``python`` started with :mod:`subprocess`; it skips the package's
``__init__`` (see :mod:`llama_index_cloudkit.parse.local.workers`). Tasks and results travel as
length-prefixed pickles over its stdin and stdout; its own prints go to stderr, and its warning
log records travel back with each result.

Example:
    >>> worker = WorkerProcess()  # doctest: +SKIP
    >>> worker.run(PageTask(key=0, source=b"hi", file_name="a.txt", label="a.txt")).ok  # doctest: +SKIP
    True
    >>> worker.stop(wait=True)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from llama_index_cloudkit.errors import ParseError
from llama_index_cloudkit.parse.local.worker_tasks import PageTask, TaskResult, run_here

__all__ = ["WorkerProcess", "read_frame", "serve", "write_frame"]

_HEADER = struct.Struct("!Q")
# The worker skips the package's __init__: it only needs the engines (see the workers module).
_BOOTSTRAP = (
    "import sys, types\n"
    "for name, path in (('llama_index_cloudkit', sys.argv[1]), "
    "('llama_index_cloudkit.parse', sys.argv[1] + '/parse')):\n"
    "    module = types.ModuleType(name)\n"
    "    module.__path__ = [path]\n"
    "    sys.modules[name] = module\n"
    "from llama_index_cloudkit.parse.local.worker_process import serve\n"
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
    """A worker's main loop: read tasks from stdin, write results to stdout, until stdin ends.

    Example:
        >>> serve()  # doctest: +SKIP
    """
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

    Example:
        >>> worker = WorkerProcess()  # doctest: +SKIP
        >>> worker.run(PageTask(key=0, source=b"hi", file_name="a.txt", label="a.txt")).ok  # doctest: +SKIP
        True
        >>> worker.stop(wait=True)  # doctest: +SKIP
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
