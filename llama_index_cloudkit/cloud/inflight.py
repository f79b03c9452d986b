"""One process-wide registry of paid work in flight, keyed like the cache, safe under cancellation.

Concurrent calls (threads, ``aload_data`` with workers, several readers, several event loops)
that need the same key share one piece of work: the first caller claims the key, the others wait
for its result. :meth:`InFlight.share` is the API for any paid submission (a parse, an extraction
run, an agent queue entry, the resubmission of a lost job):

- the first caller's work runs as **its own task**, and every caller (the first included) awaits
  it shielded: cancelling a caller (``asyncio.wait_for``, a client that disconnects) cancels only
  that caller; the work goes on for the others;
- the work is never cancelled because callers left: a job already submitted is polled to its end
  and its result stored (and it is journaled before polling, so nothing paid is lost even when the
  work's own event loop ends);
- if the work itself ends without a result because it was cancelled or interrupted (its event
  loop closed under it, Ctrl-C in the owner's thread), no waiter sees ``CancelledError`` or
  ``KeyboardInterrupt``: one waiter takes the key over and runs its own ``work`` (which
  re-attaches to the journaled job instead of paying again);
- a real error (a typed failure) is given to every waiter and never kept: the next call tries
  again;
- work started inside a :func:`work_scope` (every :class:`~llama_index_cloudkit.cloud.session.CloudSession`
  opens one: the work uses its HTTP client) is cancelled when the scope ends unfinished, which
  only happens when its owner was cancelled: its waiters take over, a later call re-attaches.
  A lost cancellation is repeated, and work that still fails after its scope ended (its client
  closed) is taken over too: its waiters never get that error.

The futures are ``concurrent.futures`` ones, so waiting works from any thread and any event loop.

Example:
    >>> import asyncio
    >>> calls = []
    >>> async def work():
    ...     calls.append(1)
    ...     await asyncio.sleep(0.01)
    ...     return "parsed"
    >>> async def three_callers():
    ...     return await asyncio.gather(*(INFLIGHT.share("doc-key", work) for _ in range(3)))
    >>> asyncio.run(three_callers()), len(calls)
    ([('parsed', True), ('parsed', False), ('parsed', False)], 1)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["INFLIGHT", "InFlight", "WorkAbandoned", "work_scope"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_STOP_GRACE = 1.0  # seconds shared work gets to stop when its scope ends
_RECANCEL_EVERY = 0.1  # seconds between cancellations of work that has not stopped yet
_OUTLIVED: weakref.WeakSet[asyncio.Future[Any]] = weakref.WeakSet()  # work whose scope ended first

_SCOPE: contextvars.ContextVar[set[asyncio.Future[Any]] | None] = contextvars.ContextVar(
    "cloudkit_work_scope", default=None
)


@contextlib.asynccontextmanager
async def work_scope() -> AsyncIterator[None]:
    """Shared work started inside is cancelled if still running when the scope ends.

    The resources the work uses (an HTTP client) end with the scope, so the work cannot outlive
    it; its waiters take the key over (:meth:`InFlight.share`).

    Example:
        >>> async def main():
        ...     async with work_scope():
        ...         return await InFlight().share("k", lambda: asyncio.sleep(0, "done"))
        >>> asyncio.run(main())
        ('done', True)
    """
    tasks: set[asyncio.Future[Any]] = set()
    token = _SCOPE.set(tasks)
    try:
        yield
    finally:
        _SCOPE.reset(token)
        await _stop(tasks)


async def _stop(tasks: set[asyncio.Future[Any]]) -> None:
    """Cancel ``tasks`` until they end, for at most :data:`_STOP_GRACE` seconds.

    A cancellation can be lost (Python 3.11's ``asyncio.wait_for`` drops one that arrives as its
    answer does), so it is repeated. Work still running after that is marked as outliving its
    scope: whatever it ends with, its waiters take the key over (:meth:`InFlight.share`).
    """
    pending = {task for task in tasks if not task.done()}
    give_up = asyncio.get_running_loop().time() + _STOP_GRACE
    try:
        while pending:
            for task in pending:
                task.cancel()
            left = give_up - asyncio.get_running_loop().time()
            if left <= 0:
                break
            _, pending = await asyncio.wait(pending, timeout=min(_RECANCEL_EVERY, left))
    finally:
        for task in pending:
            if not task.done():
                _OUTLIVED.add(task)


class WorkAbandoned(Exception):
    """Given to waiters when the shared work ended without a result (cancelled, interrupted).

    Never raised out of :meth:`InFlight.share`: a waiter that gets it takes the key over.

    Example:
        >>> isinstance(WorkAbandoned("k"), Exception)
        True
    """


class InFlight:
    """Keys being worked on, each with the future of its result.

    Example:
        >>> InFlight().claim("x")[0]
        True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[str, concurrent.futures.Future[Any]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()  # strong references (aiohttp #8967)

    def claim(self, key: str) -> tuple[bool, concurrent.futures.Future[Any]]:
        """``(True, future)`` for the caller who must do the work, else ``(False, its future)``.

        The low-level half of :meth:`share`: the owner must :meth:`settle` the future whatever
        happens. Prefer :meth:`share`, which also survives cancellation.
        """
        with self._lock:
            future = self._futures.get(key)
            if future is not None:
                return False, future
            future = concurrent.futures.Future()
            self._futures[key] = future
            return True, future

    def settle(
        self,
        key: str,
        future: concurrent.futures.Future[Any],
        *,
        result: Any = None,
        error: BaseException | None = None,
    ) -> None:
        """Release ``key`` and hand the result (or the error) to every waiter.

        A cancellation or an interrupt (anything not an ``Exception``) is never handed over:
        the waiters get :class:`WorkAbandoned` and take the key over in :meth:`share`.
        """
        with self._lock:
            if self._futures.get(key) is future:
                del self._futures[key]
        if future.done():
            return
        if error is not None and not isinstance(error, Exception):
            error = WorkAbandoned(key)
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    async def share(self, key: str, work: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """The result of ``work()`` for ``key``, run once however many callers ask at once.

        Returns ``(result, owner)``: ``owner`` is True for the caller whose ``work`` ran (the
        one that paid, if anything was paid), False for callers that waited for it.

        Cancelling the calling task cancels only this caller (the work goes on); errors of the
        work propagate to every caller; a waiter whose owner's work was cancelled or
        interrupted runs ``work`` itself.

        Example:
            >>> async def answer():
            ...     return 42
            >>> asyncio.run(InFlight().share("k", answer))
            (42, True)
        """
        while True:
            owner, future = self.claim(key)
            if owner:
                try:
                    task = asyncio.ensure_future(work())  # the work's own task: callers only wait on it
                except BaseException as exc:
                    self.settle(key, future, error=exc)
                    raise
                self._tasks.add(task)
                scope = _SCOPE.get()
                if scope is not None:
                    scope.add(task)
                task.add_done_callback(functools.partial(self._finish, key, future))
                return await asyncio.shield(task), True
            try:
                return await asyncio.shield(asyncio.wrap_future(future)), False
            except WorkAbandoned:
                logger.info("the caller working on %s stopped; taking its work over", key[:16])

    def _finish(self, key: str, future: concurrent.futures.Future[Any], task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            self.settle(key, future, error=WorkAbandoned(key))
            return
        error = task.exception()
        if error is not None and task in _OUTLIVED:  # failed for want of what its scope closed
            self.settle(key, future, error=WorkAbandoned(key))
            return
        if error is not None:
            self.settle(key, future, error=error)
        else:
            self.settle(key, future, result=task.result())

    def __len__(self) -> int:
        with self._lock:
            return len(self._futures)


INFLIGHT = InFlight()
"""The registry every reader, extractor and queue of this process shares."""
