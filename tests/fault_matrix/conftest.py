"""The fault matrix of the cloud core: every fault, for every service, on a keep-alive emulator.

Each service's module (test_parse.py, test_extract.py, test_retrieve.py) runs the same faults
against its own routes and asserts one of two outcomes: the right result after recovery, or a
typed error from ``llama_index_cloudkit.errors`` that names the file and/or job. Never a raw
httpx, pydantic or SDK exception, never a hang (pytest-timeout), never an empty result without an
error, never the API key in a message or a log line.

The client side uses a short retry policy and short timeouts so the matrix runs in seconds; the
emulator itself is never weakened (keep-alive connections, real status flows).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.transport import RetryPolicy
from llama_index_cloudkit.errors import CloudKitError
from llama_index_cloudkit.testing import FakeLlamaCloud

KEY = "llx-fault-matrix-key-0123456789"

# Fast but real: 4 attempts within 5 s per request, 1.5 s request timeout (the suite runs on
# three workers over two cores, so an ordinary answer can take a while), 3 s job deadline.
FAST_POLICY = CloudPolicy(
    retry=RetryPolicy(max_attempts=4, max_total_seconds=5.0, initial_backoff=0.05, max_backoff=0.3),
    request_timeout=1.5,
    job_timeout=3.0,
    poll_interval=0.05,
    max_poll_interval=0.2,
)


@dataclass(frozen=True)
class HttpFault:
    """A fault on the service's routes: ``add_fault`` keyword arguments and the expected outcome."""

    name: str
    fault: dict[str, Any] = field(default_factory=dict)
    outcome: str = "recover"  # or "typed"
    error: str = "CloudKitError"  # the typed error's class name when outcome == "typed"


HTTP_FAULTS = [
    HttpFault("429 once with Retry-After", {"status": 429, "times": 1, "retry_after": 0.2}),
    HttpFault("429 on every request", {"status": 429, "retry_after": 0.1}, "typed", "RateLimitError"),
    HttpFault("500 twice then OK", {"status": 500, "times": 2}),
    HttpFault("503 once", {"status": 503, "times": 1}),
    HttpFault("one dropped connection", {"drop": True, "times": 1}),
    HttpFault("slower than the client's timeout", {"delay": 3.0, "times": 1}),
    HttpFault(
        "malformed JSON body", {"status": 200, "body": ["not", "an", "object"]}, "typed", "ServiceError"
    ),
]


@pytest.fixture
def fake() -> Iterator[FakeLlamaCloud]:
    """A keep-alive emulator (the default, like the real service)."""
    with FakeLlamaCloud(api_key=KEY) as server:
        yield server


def assert_typed(exc: BaseException, *, names: tuple[str, ...] = ()) -> None:
    """The error is ours, names what it concerns, and never shows the key."""
    assert isinstance(exc, CloudKitError), f"raw {type(exc).__name__} escaped: {exc}"
    assert KEY not in str(exc)
    for name in names:
        assert name in str(exc), f"{name!r} not named in: {exc}"


@pytest.fixture
def no_key_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test if any log line shows the API key."""
    caplog.set_level(logging.DEBUG)
    yield
    assert all(KEY not in record.getMessage() for record in caplog.records)
