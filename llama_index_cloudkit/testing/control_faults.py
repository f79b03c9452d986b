"""FakeLlamaCloud's fault controls: injected errors, delays, dropped connections, rate limits.

Answers a fault rule injects are marked as such in the request log, so the ``fake_llamacloud``
fixture's teardown does not fail a test for them.

Example:
    >>> fake.fail("GET", r"/api/parsing/job/.*", 503, times=2)  # doctest: +SKIP
    >>> fake.rate_limit(10, window=1.0)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from llama_index_cloudkit.testing.faults import FaultRule, RateLimiter
from llama_index_cloudkit.testing.gatekeeper import Gatekeeper

__all__ = ["FaultControls"]


class FaultControls:
    """Fault rules and the rate limiter (a base of :class:`FakeLlamaCloud`; needs its ``_gate``).

    Example:
        >>> fake.add_fault("POST", "/api/parsing/upload", status=429, times=1)  # doctest: +SKIP
    """

    _gate: Gatekeeper

    def add_fault(
        self,
        method: str = "*",
        path: str = ".*",
        *,
        status: int | None = None,
        body: Any = None,
        times: int | None = None,
        delay: float = 0.0,
        retry_after: float | None = None,
        drop: bool = False,
        trickle: float = 0.0,
    ) -> FaultRule:
        """Inject a fault for requests matching ``method`` and the ``path`` regex.

        Example:
            >>> fake.add_fault("POST", "/api/parsing/upload", status=429, times=1)  # doctest: +SKIP
        """
        rule = FaultRule(
            method=method.upper(),
            path=path,
            status=status,
            body=body,
            times=times,
            delay=delay,
            retry_after=retry_after,
            drop=drop,
            trickle=trickle,
        )
        self._gate.faults.append(rule)
        return rule

    def fail(
        self,
        method: str = "*",
        path: str = ".*",
        status: int = 500,
        *,
        times: int | None = 1,
        body: Any = None,
        retry_after: float | None = None,
    ) -> FaultRule:
        """Answer the next ``times`` matching requests (every one when None) with ``status``.

        A shorthand for :meth:`add_fault`; the answers count as injected, so the fixture's
        teardown does not fail the test for them.

        Example:
            >>> fake.fail("GET", r"/api/parsing/job/.*", 503, times=2)  # doctest: +SKIP
        """
        return self.add_fault(method, path, status=status, body=body, times=times, retry_after=retry_after)

    def drop(self, method: str = "*", path: str = ".*", *, times: int | None = 1) -> FaultRule:
        """Close the connection without an answer on the next ``times`` matching requests.

        Example:
            >>> fake.drop("POST", "/api/parsing/upload")  # doctest: +SKIP
        """
        return self.add_fault(method, path, drop=True, times=times)

    def clear_faults(self) -> None:
        """Remove every fault rule.

        Example:
            >>> fake.clear_faults()  # doctest: +SKIP
        """
        self._gate.faults.clear()

    def rate_limit(self, limit: int, window: float) -> None:
        """Answer 429 with Retry-After past ``limit`` requests per ``window`` seconds.

        Example:
            >>> fake.rate_limit(5, window=1.0)  # doctest: +SKIP
        """
        self._gate.rate_limiter = RateLimiter(limit, window)
