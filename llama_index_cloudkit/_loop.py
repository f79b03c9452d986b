"""Run a coroutine from sync code, safely inside or outside a running event loop.

Inside a running loop (Jupyter, FastAPI handlers, uvloop) the coroutine runs on a fresh loop in
a worker thread; outside one, on a fresh loop here. Never nest_asyncio, and since every call
gets a new loop, callers must create their HTTP clients inside the coroutine.

Example:
    >>> async def answer() -> int:
    ...     return 42
    >>> run_sync(answer)
    42
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run ``factory()`` to completion and return its result (exceptions propagate)."""

    async def main() -> T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="cloudkit-sync") as pool:
        return pool.submit(asyncio.run, main()).result()
