"""Run a coroutine from sync code, safely inside or outside a running event loop.

Inside a running loop (Jupyter, FastAPI handlers, uvloop) the coroutine runs on a fresh loop in
a worker thread; outside one, on a fresh loop here. Never nest_asyncio, and since every call
gets a new loop, callers must create their HTTP clients inside the coroutine.

Ctrl-C stops the call within about a second in both settings: outside a loop, ``asyncio.run``
cancels the coroutine on SIGINT; inside one, the caller's thread (which receives the
``KeyboardInterrupt``, as in Jupyter) cancels the worker's coroutine, waits for it at most a
second, and raises the ``KeyboardInterrupt``. Where the running loop turns Ctrl-C into a
cancellation of the calling task instead (``asyncio.run``'s handler; a server whose client left),
the call notices within 0.1 s, stops the worker the same way and raises ``CancelledError``.
Cancellation unwinds normally, so the job journal stays consistent
(submitted jobs stay journaled, unfinished claims are released).

Example:
    >>> async def answer() -> int:
    ...     return 42
    >>> sync_runner()(answer())
    42
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

__all__ = ["SyncRunner", "sync_runner"]

T = TypeVar("T")

_STOP_GRACE = 1.0  # seconds the worker may take to unwind after Ctrl-C


class SyncRunner(Protocol):
    """Runs a coroutine to completion and returns its result (exceptions propagate)."""

    def __call__(self, main: Coroutine[Any, Any, T], /) -> T: ...


def sync_runner() -> SyncRunner:
    """How sync code here runs a coroutine: ``asyncio.run`` outside a running event loop, a
    fresh loop on a worker thread inside one.

    The caller runs its own coroutine with it (``sync_runner()(self.aparse(...))``), so the
    coroutine's frames follow the caller's, with nothing between them outside a loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run
    return _run_in_worker


def _run_in_worker(main: Coroutine[Any, Any, T], /) -> T:
    """Run ``main()`` on a fresh loop in a daemon thread; Ctrl-C here cancels it there."""
    started = threading.Event()
    finished = threading.Event()
    handle: dict[str, Any] = {}

    async def tracked() -> T:
        handle["loop"], handle["task"] = asyncio.get_running_loop(), asyncio.current_task()
        started.set()
        return await main

    def worker() -> None:
        try:
            handle["result"] = asyncio.run(tracked())
        except BaseException as exc:  # handed to the caller's thread
            handle["error"] = exc
        finally:
            started.set()
            finished.set()

    def stop() -> None:
        started.wait(_STOP_GRACE)
        loop, task = handle.get("loop"), handle.get("task")
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(task.cancel)
        finished.wait(_STOP_GRACE)

    caller = asyncio.current_task()  # the task of the running loop that made this sync call
    thread = threading.Thread(target=worker, name="cloudkit-sync", daemon=True)
    thread.start()
    try:
        while not finished.wait(0.1):  # a timed wait, so a signal is handled at once
            if caller is not None and getattr(caller, "cancelling", lambda: 0)():  # 3.11+
                # asyncio.run's Ctrl-C handler (and a server whose client left) cancels the
                # calling task instead of raising: stop the work and end that task cancelled.
                stop()
                raise asyncio.CancelledError
    except asyncio.CancelledError:
        raise
    except BaseException:  # KeyboardInterrupt (or SystemExit) in the caller's thread
        stop()
        raise
    if "error" in handle:
        raise handle["error"]
    result: T = handle["result"]
    return result
