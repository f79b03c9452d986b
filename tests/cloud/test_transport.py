"""The transport retries what is safe to retry and never repeats a paid submission blindly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from llama_index_cloudkit.cloud.transport import RateLimiter, ResilientTransport, RetryPolicy, intent
from llama_index_cloudkit.errors import (
    AuthError,
    RateLimitError,
    ServiceError,
    SubmissionUnknownError,
)

FAST = RetryPolicy(max_attempts=4, max_total_seconds=5, initial_backoff=0.0, max_backoff=0.01)
Handler = Callable[[httpx.Request], httpx.Response]


def _scripted(*answers: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


def _send(
    handler: Handler, method: str = "GET", *, paid: bool = False, limiter: RateLimiter | None = None
) -> httpx.Response:
    async def main() -> httpx.Response:
        transport = ResilientTransport(FAST, upload_limiter=limiter, inner=httpx.MockTransport(handler))
        async with httpx.AsyncClient(transport=transport, base_url="http://cloud.test") as client:
            extensions = intent(idempotent=False, rate_limited=True) if paid else {}
            return await client.request(method, "/api/x", extensions=extensions)

    return asyncio.run(main())


def test_a_read_is_retried_through_dropped_connections_and_500s() -> None:
    handler, seen = _scripted(
        httpx.RemoteProtocolError("dropped"), httpx.Response(500), httpx.Response(200, json={"ok": 1})
    )
    assert _send(handler).json() == {"ok": 1} and len(seen) == 3


@pytest.mark.parametrize(
    "lost",
    [
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        httpx.Response(502),
        httpx.Response(504),
    ],
)
def test_a_paid_submission_whose_outcome_is_unknown_is_sent_once(lost: httpx.Response | Exception) -> None:
    handler, seen = _scripted(lost, httpx.Response(200, json={"id": "job"}))
    with pytest.raises(SubmissionUnknownError) as info:
        _send(handler, "POST", paid=True)
    assert len(seen) == 1 and "not repeated" in str(info.value)


@pytest.mark.parametrize(
    "refused", [httpx.ConnectError("refused"), httpx.Response(429), httpx.Response(503), httpx.Response(500)]
)
def test_a_paid_submission_the_service_refused_is_retried(refused: httpx.Response | Exception) -> None:
    handler, seen = _scripted(refused, httpx.Response(200, json={"id": "job"}))
    assert _send(handler, "POST", paid=True).json() == {"id": "job"} and len(seen) == 2


def test_exhausted_429_is_a_rate_limit_error_with_the_attempts() -> None:
    handler, seen = _scripted(httpx.Response(429, headers={"Retry-After": "0"}))
    with pytest.raises(RateLimitError) as info:
        _send(handler)
    assert info.value.attempts == FAST.max_attempts == len(seen)


def test_exhausted_network_errors_are_a_service_error() -> None:
    handler, _ = _scripted(httpx.ConnectError("refused"))
    with pytest.raises(ServiceError, match="ConnectError"):
        _send(handler)


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_is_an_auth_error_without_the_key(status: int) -> None:
    handler, _ = _scripted(httpx.Response(status, text="bad key llx-secret-abcdefgh"))
    with pytest.raises(AuthError) as info:
        _send(handler)
    assert "llx-secret-abcdefgh" not in str(info.value)


def test_retry_after_sets_the_wait() -> None:
    transport = ResilientTransport(RetryPolicy(max_backoff=30))
    from llama_index_cloudkit.cloud.transport import _RetryableResponse

    refused = _RetryableResponse(httpx.Response(429, headers={"Retry-After": "7"}))
    assert 7.0 <= transport._wait(1, refused) <= 7.1


def test_paid_submissions_wait_for_the_upload_limiter() -> None:
    limiter = RateLimiter(limit=1, window=60)
    handler, _ = _scripted(httpx.Response(200, json={}))
    _send(handler, "POST", paid=True, limiter=limiter)
    assert limiter.reserve(now=None) > 0  # the first submission took the only slot
    reads = RateLimiter(limit=1, window=60)
    _send(handler, "GET", limiter=reads)
    assert reads.reserve() == 0.0  # reads never take a slot
