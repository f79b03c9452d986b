"""The one retry policy and rate limiter every LlamaCloud call goes through, as an httpx transport.

:class:`ResilientTransport` wraps httpx's own transport. It waits for the client-side rate
limiter when a request says so, retries what is safe to retry with jittered exponential backoff
that honours ``Retry-After`` (bounded attempts and total time), and turns what cannot be retried
into our typed errors. Each attempt has a total time, its whole body included, and the ambient
:class:`~llama_index_cloudkit.cloud.deadline.Deadline` (a job's) bounds everything: an attempt gets
at most the time left, and a wait that would end past it raises
:class:`~llama_index_cloudkit.errors.DeadlineExceededError` at once instead of sleeping. Because
the SDK's own retries only look at httpx errors, they never stack on top of ours.

What is retried depends on the request's intent, which the adapter that builds the request sets in
``request.extensions["cloudkit"]`` (see :func:`intent`), never guessed from the URL:

| failure | idempotent (GET, PUT, DELETE, read-only POST) | paid submission (upload, run) |
|---|---|---|
| connection refused / connect timeout / pool timeout (nothing sent) | retried | retried |
| HTTP 429, 503 (refused before any work) | retried | retried |
| HTTP 500 (the service failed the request) | retried | retried |
| HTTP 408, 425, 502, 504, read timeout, dropped connection | retried | SubmissionUnknownError |
| HTTP 401 / 403 | :class:`AuthError` | :class:`AuthError` |

Example:
    >>> answers = iter([httpx.Response(503), httpx.Response(200, json={"ok": True})])
    >>> service = httpx.MockTransport(lambda request: next(answers))  # busy once, then fine
    >>> policy = RetryPolicy(max_attempts=3, max_total_seconds=10, initial_backoff=0.01)
    >>> async def get() -> dict:
    ...     transport = ResilientTransport(policy, inner=service)
    ...     async with httpx.AsyncClient(transport=transport, base_url="http://llamacloud.test") as client:
    ...         return (await client.get("/api/v1/projects")).json()
    >>> asyncio.run(get())
    {'ok': True}
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import ssl
import sys
import threading
import time
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import certifi
import httpx

from llama_index_cloudkit.cloud.deadline import Deadline, current_deadline
from llama_index_cloudkit.errors import (
    AuthError,
    DeadlineExceededError,
    RateLimitError,
    ServiceError,
    SubmissionUnknownError,
    redact,
)

__all__ = [
    "RETRYABLE_STATUS",
    "RateLimiter",
    "ResilientTransport",
    "RetryPolicy",
    "intent",
    "resilient_client",
]

logger = logging.getLogger("llama_index_cloudkit.http")

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# Answers that say the service did no work: safe to repeat even for a paid submission.
T = TypeVar("T")

_REFUSED_STATUS = frozenset({429, 500, 503})
# Transport errors raised before the request left this machine.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Seconds the last attempt of a request may take once its deadline has passed.
_LAST_ATTEMPT = 1.0
# An attempt's total time, its whole body included, in request timeouts (httpx's are per phase).
ATTEMPT_TIMEOUTS = 3


_SSL: list[ssl.SSLContext] = []
_SSL_LOCK = threading.Lock()


def _ssl_context() -> ssl.SSLContext:
    """One verified TLS context for the process (building one costs about 0.1 s per client)."""
    with _SSL_LOCK:
        if not _SSL:
            _SSL.append(ssl.create_default_context(cafile=certifi.where()))
        return _SSL[0]


def intent(*, idempotent: bool, rate_limited: bool = False) -> dict[str, Any]:
    """Request extensions that tell the transport how to treat a request.

    Args:
        idempotent: repeating the request cannot charge or create anything twice.
        rate_limited: wait for the client-side upload limiter before sending.

    Example:
        >>> intent(idempotent=False, rate_limited=True)
        {'cloudkit': {'idempotent': False, 'rate_limited': True}}
    """
    return {"cloudkit": {"idempotent": idempotent, "rate_limited": rate_limited}}


def _intent_of(request: httpx.Request) -> tuple[bool, bool]:
    tag = request.extensions.get("cloudkit") or {}
    default_idempotent = request.method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
    return bool(tag.get("idempotent", default_idempotent)), bool(tag.get("rate_limited", False))


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

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.max_total_seconds <= 0 or self.initial_backoff < 0:
            raise ValueError("RetryPolicy needs max_attempts >= 1, max_total_seconds > 0, backoff >= 0")


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


class _DeadlinePassed(Exception):
    def __init__(self, limit: float) -> None:
        self.limit = limit
        super().__init__(f"deadline passed after {limit:g} s")


async def _within(answer: Coroutine[Any, Any, T], limit: float) -> T:
    """``await answer``, or ``TimeoutError`` after ``limit`` seconds.

    ``asyncio.timeout`` where there is one (3.11+): ``asyncio.wait_for`` before 3.12 loses a
    cancellation that arrives as the answer does, and the cancelled caller would go on.
    """
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(limit):
            return await answer
    return await asyncio.wait_for(answer, limit)  # pragma: no cover (3.10)


def _describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, _RetryableResponse) else type(exc).__name__


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
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, parsed.timestamp() - time.time())


class ResilientTransport(httpx.AsyncBaseTransport):
    """An httpx transport with our retry policy, rate limiting and typed errors.

    Args:
        policy: the retry policy.
        upload_limiter: applied to requests tagged ``rate_limited`` (see :func:`intent`).
        inner: the real transport (default: a new ``httpx.AsyncHTTPTransport``); a test can pass
            ``httpx.MockTransport`` or ``httpx.ASGITransport``.
        attempt_timeout: seconds one attempt may take in total, its whole body included
            (httpx's own timeouts are per read, so a trickling body would never trip them);
            :func:`resilient_client` makes it ``ATTEMPT_TIMEOUTS`` request timeouts.

    Example:
        >>> transport = ResilientTransport(RetryPolicy(max_attempts=2))
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        upload_limiter: RateLimiter | None = None,
        inner: httpx.AsyncBaseTransport | None = None,
        attempt_timeout: float = 60.0,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.upload_limiter = upload_limiter
        self.attempt_timeout = attempt_timeout
        self.inner = inner or httpx.AsyncHTTPTransport(verify=_ssl_context())
        # The key LlamaCloud refused: every later request of this transport would be refused too,
        # so none is sent (a batch over a wrong key stops at the first 401, not one per file).
        self._refused: str | None = None

    def _wait(self, attempt: int, exc: BaseException) -> float:
        backoff = min(self.policy.max_backoff, self.policy.initial_backoff * 2 ** (attempt - 1))
        wait = random.uniform(0, backoff)  # full jitter
        if isinstance(exc, _RetryableResponse):
            retry_after = _retry_after_seconds(exc.response)
            if retry_after is not None:
                wait = min(self.policy.max_backoff, retry_after) + random.uniform(0, 0.1)
        return wait

    async def _attempt(
        self, request: httpx.Request, body: bytes, deadline: Deadline | None
    ) -> httpx.Response:
        """One attempt, its whole body read within the attempt's total time (not only per read)."""
        limit = self.attempt_timeout
        # At the deadline one last attempt still gets a moment (a poll at the deadline may find
        # the job done), never the full attempt time.
        left = None if deadline is None else max(deadline.remaining(), _LAST_ATTEMPT)
        bound_by_deadline = left is not None and left < limit
        if left is not None:
            limit = min(limit, left)

        async def whole_answer() -> httpx.Response | tuple[httpx.Response, bytes]:
            response = await self.inner.handle_async_request(
                httpx.Request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    content=body,
                    extensions=request.extensions,
                )
            )
            if response.is_stream_consumed:  # already read in full (a mock transport)
                return response
            try:
                return response, b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()

        try:
            answer = await _within(whole_answer(), limit)
        except asyncio.TimeoutError:  # TimeoutError from 3.11 on
            if bound_by_deadline:
                raise _DeadlinePassed(limit) from None
            raise httpx.ReadTimeout(
                f"the whole answer took longer than {limit:g} s", request=request
            ) from None
        if isinstance(answer, httpx.Response):
            return answer
        response, raw = answer
        whole = httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
        )
        await whole.aread()  # decodes (gzip) once; the caller never reads a half-received body
        return whole

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        idempotent, rate_limited = _intent_of(request)
        deadline = current_deadline()
        where = f"{request.method} {request.url.path}"
        if self._refused is not None:
            raise AuthError(f"Not sent: {self._refused}")
        if rate_limited and self.upload_limiter is not None:
            await self.upload_limiter.acquire()
        body = await request.aread()  # buffered, so a retry can send it again

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, _RetryableResponse):
                return idempotent or exc.response.status_code in _REFUSED_STATUS
            if isinstance(exc, httpx.TransportError):
                return idempotent or isinstance(exc, _NOT_SENT)
            return False

        attempts = 0
        started = time.monotonic()
        while True:
            attempts += 1
            try:
                response = await self._attempt(request, body, deadline)
                if response.status_code not in RETRYABLE_STATUS:
                    break
                raise _RetryableResponse(response)
            except _DeadlinePassed as exc:
                if not idempotent:
                    raise SubmissionUnknownError(
                        f"{where} was still running at the deadline ({exc.limit:g} s were left for it); "
                        f"the submission may have been accepted, so it was not repeated",
                        attempts=attempts,
                    ) from None
                raise DeadlineExceededError(
                    f"{where} was still running when the deadline passed ({exc.limit:g} s were left for it)"
                ) from None
            except (_RetryableResponse, httpx.TransportError) as exc:
                out_of_tries = (
                    attempts >= self.policy.max_attempts
                    or time.monotonic() - started >= self.policy.max_total_seconds
                )
                if not retryable(exc) or out_of_tries:
                    raise self._give_up(request, exc, attempts, idempotent) from (
                        exc if isinstance(exc, httpx.TransportError) else None
                    )
                wait = self._wait(attempts, exc)
                if deadline is not None and wait >= deadline.remaining():
                    asked = (
                        _retry_after_seconds(exc.response) if isinstance(exc, _RetryableResponse) else None
                    )
                    raise DeadlineExceededError(
                        f"{where} failed ({_describe(exc)}) and the next try, in {wait:.1f} s, would end "
                        f"past the deadline of {deadline.seconds:g} s",
                        retry_after=asked,
                    ) from None
                logger.info("retrying in %.2f s after %s (attempt %d)", wait, _describe(exc), attempts)
                await asyncio.sleep(wait)
        if response.status_code in (401, 403):
            message = (
                f"LlamaCloud refused the API key (HTTP {response.status_code}) on "
                f"{where}: {redact(response.text[:200])}"
            )
            self._refused = message
            raise AuthError(message)
        return response

    def _give_up(
        self, request: httpx.Request, exc: BaseException, attempts: int, idempotent: bool
    ) -> ServiceError:
        where = f"{request.method} {request.url.path}"
        if isinstance(exc, _RetryableResponse):
            if not idempotent and exc.response.status_code not in _REFUSED_STATUS:
                return SubmissionUnknownError(
                    f"{where} answered HTTP {exc.response.status_code}; the submission may have "
                    f"been accepted, so it was not repeated",
                    status_code=exc.response.status_code,
                    attempts=attempts,
                )
            return self._exhausted(request, exc.response, attempts)
        if not idempotent and not isinstance(exc, _NOT_SENT):
            return SubmissionUnknownError(
                f"{where} lost its answer ({type(exc).__name__}); the submission may have been "
                f"accepted, so it was not repeated",
                attempts=attempts,
            )
        return ServiceError(
            f"{where} failed after {attempts} attempt(s): {type(exc).__name__}: {redact(str(exc))}",
            attempts=attempts,
            hint="Check the network and LLAMA_CLOUD_BASE_URL; the call was retried",
        )

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
    inner: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A fresh AsyncClient for one event loop, with the resilient transport and the key set.

    Create it inside the coroutine that uses it and close it there (``async with``): an
    AsyncClient must never outlive its event loop.

    Example:
        >>> async def headers() -> str:
        ...     async with resilient_client("http://llamacloud.test", "llx-key") as client:
        ...         return client.headers["authorization"]
        >>> asyncio.run(headers())
        'Bearer llx-key'
    """
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {api_key}"},
        transport=ResilientTransport(
            policy, upload_limiter=upload_limiter, inner=inner, attempt_timeout=timeout * ATTEMPT_TIMEOUTS
        ),
        timeout=timeout,
    )
