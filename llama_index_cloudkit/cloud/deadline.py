"""The deadline of a job: made once, never restarted, and binding on everything run under it.

A :class:`Deadline` is a point in monotonic time. :func:`deadline_scope` makes it the *ambient*
deadline of the current task (a context variable, so it follows ``await`` and is copied into
tasks created under it); the transport reads :func:`current_deadline` and

- gives each attempt at most the time left (whole body included, not only per read),
- refuses a retry wait or a ``Retry-After`` that would end past the deadline (it raises
  :class:`~llama_index_cloudkit.errors.DeadlineExceededError` at once instead of sleeping).

Scopes nest: the nearer (earlier) deadline wins.

Example:
    >>> deadline = Deadline(10, clock=lambda: 0.0)
    >>> deadline.remaining()
    10.0
    >>> with deadline_scope(deadline):
    ...     current_deadline() is deadline
    True
    >>> current_deadline() is None
    True
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator

__all__ = ["Deadline", "current_deadline", "deadline_scope"]


class Deadline:
    """A point in time made once; it never restarts.

    Example:
        >>> now = [0.0]
        >>> deadline = Deadline(5, clock=lambda: now[0])
        >>> now[0] = 6.0
        >>> deadline.expired(), deadline.remaining()
        (True, 0.0)
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = float(seconds)
        self._clock = clock
        self._end = clock() + self.seconds

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self._end - self._clock())

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return self.remaining() <= 0.0


_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("cloudkit_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The ambient deadline of this task, or None.

    Example:
        >>> current_deadline() is None
        True
    """
    return _CURRENT.get()


@contextlib.contextmanager
def deadline_scope(deadline: Deadline | None) -> Iterator[Deadline | None]:
    """Make ``deadline`` binding for everything run inside (the nearer of it and the outer one).

    Example:
        >>> outer, inner = Deadline(5), Deadline(60)
        >>> with deadline_scope(outer), deadline_scope(inner) as binding:
        ...     binding is outer
        True
    """
    outer = _CURRENT.get()
    binding = deadline
    if outer is not None and (binding is None or outer.remaining() < binding.remaining()):
        binding = outer
    token = _CURRENT.set(binding)
    try:
        yield binding
    finally:
        _CURRENT.reset(token)
