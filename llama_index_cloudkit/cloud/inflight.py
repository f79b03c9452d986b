"""One process-wide registry of work in flight, keyed like the cache.

Concurrent calls (threads, ``aload_data`` with workers, several readers, several event loops)
that need the same content key share one job: the first claims the key and does the work, the
others wait on its future. The futures are ``concurrent.futures`` ones, so waiting works from any
thread and any event loop (``asyncio.wrap_future``).

Example:
    >>> registry = InFlight()
    >>> owner, future = registry.claim("k")
    >>> waiter, same = registry.claim("k")
    >>> owner, waiter, future is same
    (True, False, True)
    >>> registry.settle("k", future, result=42); same.result()
    42
"""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Any

__all__ = ["INFLIGHT", "InFlight"]


class InFlight:
    """Keys being worked on, each with the future of its result.

    Example:
        >>> InFlight().claim("x")[0]
        True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[str, concurrent.futures.Future[Any]] = {}

    def claim(self, key: str) -> tuple[bool, concurrent.futures.Future[Any]]:
        """``(True, future)`` for the caller who must do the work, else ``(False, its future)``."""
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
        """Release ``key`` and hand the result (or the error) to every waiter."""
        with self._lock:
            if self._futures.get(key) is future:
                del self._futures[key]
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def __len__(self) -> int:
        with self._lock:
            return len(self._futures)


INFLIGHT = InFlight()
"""The registry every reader of this process shares."""
