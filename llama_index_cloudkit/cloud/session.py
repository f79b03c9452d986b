"""CloudSession: one HTTP client for one event loop, with the core's transport and errors.

Every LlamaCloud call of the package is made inside ``async with CloudSession(...) as session``:
the AsyncClient is created in the running loop and closed before the coroutine returns, so no
client ever outlives its event loop (the SDK's trap in notebooks, FastAPI and ``asyncio.run`` in a
row). Sync entry points wrap a coroutine with :func:`run_in_session`.

Example:
    >>> import httpx
    >>> from llama_index_cloudkit.settings import CloudKitSettings
    >>> service = httpx.MockTransport(lambda request: httpx.Response(200, json=[{"id": "p-1"}]))
    >>> async def projects(settings: CloudKitSettings) -> list:
    ...     async with CloudSession(settings, inner=service) as session:
    ...         return await session.json_list("GET", "/api/v1/projects", what="Listing projects")
    >>> asyncio.run(projects(CloudKitSettings(api_key="llx-1", base_url="http://llamacloud.test")))
    [{'id': 'p-1'}]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

import httpx

from llama_index_cloudkit._loop import sync_runner
from llama_index_cloudkit.cloud.errors import json_list, json_object, map_cloud_errors
from llama_index_cloudkit.cloud.inflight import work_scope
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.transport import RateLimiter, intent, resilient_client
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["CloudSession", "run_in_session", "upload_limiter"]

T = TypeVar("T")

_LIMITERS: dict[tuple[int, float], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def upload_limiter(limit: int, window: float) -> RateLimiter:
    """The process-wide limiter for ``limit`` paid submissions per ``window`` seconds.

    Example:
        >>> upload_limiter(50, 10.0) is upload_limiter(50, 10.0)
        True
    """
    with _LIMITERS_LOCK:
        return _LIMITERS.setdefault((limit, window), RateLimiter(limit, window))


class CloudSession:
    """One AsyncClient (this loop only), bounded concurrency, typed errors.

    Args:
        settings: key, endpoint, project.
        policy: retries, timeouts, concurrency and the upload limit.
        inner: the HTTP transport under the resilient one (tests: ``httpx.MockTransport``).

    Example:
        >>> session = CloudSession(CloudKitSettings(api_key="llx-1"))
        >>> session.policy.max_concurrency
        8
    """

    def __init__(
        self,
        settings: CloudKitSettings,
        policy: CloudPolicy | None = None,
        *,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy or CloudPolicy()
        self._inner = inner
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._scope: contextlib.AsyncExitStack | None = None

    async def __aenter__(self) -> CloudSession:
        self._scope = contextlib.AsyncExitStack()
        await self._scope.enter_async_context(work_scope())  # shared work dies with this client
        self._client = resilient_client(
            self.settings.base_url,
            self.settings.require_key(),
            self.policy.retry,
            upload_limiter(self.policy.upload_limit, self.policy.upload_window),
            timeout=self.policy.request_timeout,
            inner=self._inner,
        )
        self._slots = asyncio.Semaphore(self.policy.max_concurrency)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._scope is not None:
                await self._scope.aclose()
        finally:
            self._scope = None
            if self._client is not None:
                await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The AsyncClient of this session (for an SDK that encodes requests for us)."""
        if self._client is None:
            raise RuntimeError("CloudSession is used outside 'async with'")
        return self._client

    def slot(self) -> asyncio.Semaphore:
        """The bound on requests in flight; ``async with session.slot():`` around a raw SDK call."""
        if self._slots is None:
            raise RuntimeError("CloudSession is used outside 'async with'")
        return self._slots

    def project_params(self) -> dict[str, str]:
        """``project_id`` / ``organization_id`` query parameters, where set."""
        params = {}
        if self.settings.project_id:
            params["project_id"] = self.settings.project_id
        if self.settings.organization_id:
            params["organization_id"] = self.settings.organization_id
        return params

    async def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        file: str | os.PathLike[str] | None = None,
        job_id: str | None = None,
        idempotent: bool | None = None,
        rate_limited: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request (retried per its intent); the raw response, errors typed.

        Args:
            idempotent: None: GET/PUT/DELETE are, POST is not.
            rate_limited: wait for the upload limiter (paid submissions).
        """
        if self._slots is None:
            raise RuntimeError("CloudSession is used outside 'async with'")
        if idempotent is None:
            idempotent = method.upper() != "POST"
        extensions = intent(idempotent=idempotent, rate_limited=rate_limited)
        async with self._slots:
            with map_cloud_errors(what, file=file, job_id=job_id):
                response = await self.client.request(method, path, extensions=extensions, **kwargs)
                await response.aread()
        return response

    async def json(
        self,
        method: str,
        path: str,
        *,
        what: str,
        file: str | os.PathLike[str] | None = None,
        job_id: str | None = None,
        lost_on_404: bool = False,
        idempotent: bool | None = None,
        rate_limited: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Send one request and return its JSON object (a 404 on a job: JobLostError)."""
        response = await self.request(
            method,
            path,
            what=what,
            file=file,
            job_id=job_id,
            idempotent=idempotent,
            rate_limited=rate_limited,
            **kwargs,
        )
        return json_object(response, what, file=file, job_id=job_id, lost_on_404=lost_on_404)

    async def json_list(
        self, method: str, path: str, *, what: str, idempotent: bool | None = None, **kwargs: Any
    ) -> list[Any]:
        """Send one request and return its JSON array."""
        response = await self.request(method, path, what=what, idempotent=idempotent, **kwargs)
        return json_list(response, what)

    async def content(
        self,
        path: str,
        *,
        what: str,
        file: str | os.PathLike[str] | None = None,
        job_id: str | None = None,
        **kwargs: Any,
    ) -> bytes:
        """GET raw bytes (an image, a screenshot)."""
        response = await self.request("GET", path, what=what, file=file, job_id=job_id, **kwargs)
        if response.status_code >= 400:
            json_object(response, what, file=file, job_id=job_id)  # raises the typed error
        return response.content


def run_in_session(
    settings: CloudKitSettings,
    policy: CloudPolicy | None,
    work: Callable[[CloudSession], Awaitable[T]],
) -> T:
    """Run ``work(session)`` to completion from sync code, on a fresh session in a fresh loop.

    Safe inside a running event loop (it then runs on a worker thread).

    Example:
        >>> async def noop(session):
        ...     return 1
        >>> run_in_session(CloudKitSettings(api_key="llx-1"), None, noop)
        1
    """

    async def main() -> T:
        async with CloudSession(settings, policy) as session:
            return await work(session)

    return sync_runner()(main())
