"""Fault injection for the emulator: rules matched by method and path, and a rate limiter.

Example:
    >>> rule = FaultRule(method="POST", path=r"/api/parsing/upload", status=503, times=2)
    >>> rule.matches("POST", "/api/parsing/upload")
    True
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FaultRule", "RateLimiter"]


@dataclass
class FaultRule:
    """Answer matching requests with an error, a delay or a dropped connection.

    Args:
        method: HTTP method, or ``"*"`` for any.
        path: a regular expression that must match the whole path.
        status: the status to answer with (None: pass through after ``delay``).
        body: the JSON body for ``status`` (default ``{"detail": "injected fault"}``).
        times: how many requests the rule applies to; None for every one.
        delay: seconds to wait before answering (or passing through).
        retry_after: a ``Retry-After`` header value, in seconds.
        drop: close the connection without answering.
        trickle: pass through, but send the answer's body one byte every ``trickle`` seconds.

    Example:
        >>> FaultRule(path=r"/api/v1/.*", status=500, times=1).remaining
        1
    """

    method: str = "*"
    path: str = ".*"
    status: int | None = None
    body: Any = None
    times: int | None = None
    delay: float = 0.0
    retry_after: float | None = None
    drop: bool = False
    trickle: float = 0.0
    hits: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)

    @property
    def remaining(self) -> int | None:
        """How many more requests the rule applies to (None: unlimited)."""
        return None if self.times is None else max(self.times - self.hits, 0)

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to the request (ignores ``times``)."""
        return self.method in ("*", method.upper()) and bool(self._pattern.fullmatch(path))


class RateLimiter:
    """At most ``limit`` requests per ``window`` seconds; past that, 429 with Retry-After.

    Example:
        >>> limiter = RateLimiter(limit=1, window=10)
        >>> limiter.check(now=0.0), limiter.check(now=1.0) > 0
        (0.0, True)
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def check(self, now: float | None = None) -> float:
        """Record a request; return 0 if allowed, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._times and now - self._times[0] >= self.window:
                self._times.popleft()
            if len(self._times) >= self.limit:
                return self.window - (now - self._times[0])
            self._times.append(now)
            return 0.0
