"""The one retry policy and rate limiter every LlamaCloud call goes through, as an httpx transport.

:class:`ResilientTransport` wraps httpx's own transport: it waits for the client-side rate
limiter, retries 429, 5xx and network errors with jittered exponential backoff that honours
``Retry-After`` (bounded attempts and total time, via tenacity), and turns what cannot be retried
into our typed errors (401/403 -> AuthError; exhausted 429 -> RateLimitError; other exhausted
failures -> ServiceError). Because the SDK's own retries only look at httpx errors, they never
stack on top of ours.

Example:
    >>> policy = RetryPolicy(max_attempts=3, max_total_seconds=10)
    >>> client = httpx.AsyncClient(transport=ResilientTransport(policy))  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import threading
import time
from collections import deque
from dataclasses import dataclass

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)

from llama_index_cloudkit.errors import AuthError, RateLimitError, ServiceError, redact

__all__ = ["RateLimiter", "ResilientTransport", "RetryPolicy", "resilient_client"]

logger = logging.getLogger("llama_index_cloudkit.http")

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, total time, backoff.

    Args:
        max_attempts: attempts per request, the first included.
        max_total_seconds: give up once this much time has passed since the first attempt.
        initial_backoff: first wait, doubled per attempt (with full jitter).
        max_backoff: cap of one wait (a longer ``Retry-After`` is capped too).

    Example:
        >>> RetryPolicy().max_attempts
        6
    """

    max_attempts: int = 6
    max_total_seconds: float = 120.0
    initial_backoff: float = 0.5
    max_backoff: float = 30.0


class RateLimiter:
    """At most ``limit`` acquisitions per ``window`` seconds, shared by every thread and loop.

    LlamaCloud documents 50 uploads per 10 seconds; this keeps a client under such a limit
    instead of discovering it through 429s.

    Example:
        >>> limiter = RateLimiter(limit=2, window=1.0)
        >>> limiter.reserve(now=0.0), limiter.reserve(now=0.0), limiter.reserve(now=0.0)
        (0.0, 0.0, 1.0)
    """

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
        self.limit, self.window = limit, window
        self._slots: deque[float] = deque()
        self._lock = threading.Lock()

    def reserve(self, now: float | None = None) -> float:
        """Take a slot; return how long to wait before using it."""
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._slots and self._slots[0] <= now - self.window:
                self._slots.popleft()
            start = now
            if len(self._slots) >= self.limit:
                start = self._slots[-self.limit] + self.window
            self._slots.append(start)
            return max(0.0, start - now)

    async def acquire(self) -> None:
        """Wait for a slot (never blocks the event loop)."""
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)


class _RetryableResponse(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        super().__init__(f"HTTP {response.status_code}")


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, (_RetryableResponse, httpx.TransportError))


class ResilientTransport(httpx.AsyncBaseTransport):
    """An httpx transport with our retry policy, rate limiting and typed errors.

    Args:
        policy: the retry policy.
        upload_limiter: applied to requests whose method and path match ``limited``.
        limited: (method, path suffix) pairs the limiter applies to.
        inner: the real transport (default: a new ``httpx.AsyncHTTPTransport``).

    Example:
        >>> transport = ResilientTransport(RetryPolicy(max_attempts=2))
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        upload_limiter: RateLimiter | None = None,
        limited: tuple[tuple[str, str], ...] = (("POST", "/parsing/upload"),),
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.upload_limiter = upload_limiter
        self.limited = limited
        self.inner = inner or httpx.AsyncHTTPTransport()

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(self.policy.max_backoff, self.policy.initial_backoff * 2 ** (state.attempt_number - 1))
        wait = random.uniform(0, backoff)  # full jitter
        if isinstance(exc, _RetryableResponse):
            retry_after = _retry_after_seconds(exc.response)
            if retry_after is not None:
                wait = min(self.policy.max_backoff, retry_after) + random.uniform(0, 0.1)
        logger.info(
            "retrying in %.2f s after %s (attempt %d)",
            wait,
            type(exc).__name__ if exc else "?",
            state.attempt_number,
        )
        return wait

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.upload_limiter is not None and any(
            request.method == method and request.url.path.endswith(suffix) for method, suffix in self.limited
        ):
            await self.upload_limiter.acquire()
        body = await request.aread()  # buffered, so a retry can send it again
        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.max_attempts)
            | stop_after_delay(self.policy.max_total_seconds),
            wait=self._wait,
            retry=retry_if_exception(_is_retryable),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    response = await self.inner.handle_async_request(
                        httpx.Request(
                            request.method,
                            request.url,
                            headers=request.headers,
                            content=body,
                            extensions=request.extensions,
                        )
                    )
                    if response.status_code in RETRYABLE_STATUS:
                        await response.aread()
                        await response.aclose()
                        raise _RetryableResponse(response)
        except _RetryableResponse as exc:
            raise self._exhausted(request, exc.response, attempts) from None
        except httpx.TransportError as exc:
            raise ServiceError(
                f"{request.method} {request.url.path} failed after {attempts} attempt(s): "
                f"{type(exc).__name__}: {exc}",
                attempts=attempts,
                hint="Check the network and LLAMA_CLOUD_BASE_URL; the call was retried",
            ) from exc
        if response.status_code in (401, 403):
            await response.aread()
            raise AuthError(
                f"LlamaCloud refused the API key (HTTP {response.status_code}) on "
                f"{request.method} {request.url.path}: {redact(response.text[:200])}"
            )
        return response

    def _exhausted(self, request: httpx.Request, response: httpx.Response, attempts: int) -> ServiceError:
        text = redact(response.text[:300])
        where = f"{request.method} {request.url.path}"
        if response.status_code == 429:
            return RateLimitError(
                f"{where} was rate limited {attempts} time(s): {text}", status_code=429, attempts=attempts
            )
        return ServiceError(
            f"{where} failed with HTTP {response.status_code} after {attempts} attempt(s): {text}",
            status_code=response.status_code,
            attempts=attempts,
            hint="LlamaCloud may be degraded; try later",
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def resilient_client(
    base_url: str,
    api_key: str,
    policy: RetryPolicy | None = None,
    upload_limiter: RateLimiter | None = None,
    timeout: float = 60.0,
) -> httpx.AsyncClient:
    """A fresh AsyncClient for one event loop, with the resilient transport and the key set.

    Example:
        >>> client = resilient_client("http://127.0.0.1:1", "llx-key")  # doctest: +SKIP
    """
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {api_key}"},
        transport=ResilientTransport(policy, upload_limiter=upload_limiter),
        timeout=timeout,
    )
