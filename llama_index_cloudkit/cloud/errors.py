"""The one translation point from HTTP, JSON and SDK failures to this package's typed errors.

Three tables, one context manager, one answer check:

- :data:`STATUS_ERRORS`: an HTTP status to the error class raised for it.
- :func:`map_cloud_errors`: wraps a send, a ``.json()`` or an SDK call; httpx, JSON, pydantic and
  SDK exceptions become :class:`~llama_index_cloudkit.errors.CloudKitError` subclasses (``from``
  the original), and errors that do not yet name the file or job get them.
- :func:`checked_answer`: a result answer checked against the adapter's typed model of it, or a
  ServiceError naming the fields of the wrong type (never the values: a result holds the user's
  document), so nothing malformed is cached or handed on.
- :data:`JOB_STATES`: every job status word of the v1 and v2 APIs to a neutral :class:`JobState`.

Example:
    >>> job_state("PARTIAL_SUCCESS"), job_state("COMPLETED")
    (<JobState.PARTIAL: 'partial'>, <JobState.SUCCESS: 'success'>)
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from llama_index_cloudkit.errors import (
    AuthError,
    CloudKitError,
    ConfigError,
    JobLostError,
    RateLimitError,
    ServiceError,
    redact,
)

__all__ = [
    "JOB_STATES",
    "STATUS_ERRORS",
    "JobState",
    "checked_answer",
    "error_for_status",
    "job_state",
    "json_list",
    "json_object",
    "map_cloud_errors",
]


class JobState(str, Enum):
    """A job's state, the same for parse, extract and ingestion, v1 and v2."""

    PENDING = "pending"
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """Whether the job will not change any more."""
        return self is not JobState.PENDING


JOB_STATES: dict[str, JobState] = {
    # v1 (parse, extract, pipelines)
    "PENDING": JobState.PENDING,
    "NOT_STARTED": JobState.PENDING,
    "IN_PROGRESS": JobState.PENDING,
    "SUCCESS": JobState.SUCCESS,
    "PARTIAL_SUCCESS": JobState.PARTIAL,
    "ERROR": JobState.FAILED,
    "CANCELED": JobState.CANCELLED,
    "CANCELLED": JobState.CANCELLED,
    # v2
    "RUNNING": JobState.PENDING,
    "QUEUED": JobState.PENDING,
    "COMPLETED": JobState.SUCCESS,
    "FAILED": JobState.FAILED,
}


def job_state(word: Any) -> JobState:
    """The neutral state of a status word (an enum's ``.value`` is read too).

    Raises:
        ServiceError: a word no API generation uses (a malformed answer).

    Example:
        >>> job_state("IN_PROGRESS")
        <JobState.PENDING: 'pending'>
    """
    text = str(getattr(word, "value", word) or "").strip().upper()
    try:
        return JOB_STATES[text]
    except KeyError:
        raise ServiceError(
            f"LlamaCloud answered an unknown job status {text or '(none)'!r}",
            hint="This is a malformed answer; if it persists, report it with the job id",
        ) from None


STATUS_ERRORS: dict[int, type[CloudKitError]] = {
    400: ConfigError,
    401: AuthError,
    403: AuthError,
    404: ServiceError,
    409: ServiceError,
    422: ConfigError,
    429: RateLimitError,
}


def error_for_status(
    status: int,
    what: str,
    body: str = "",
    *,
    file: str | os.PathLike[str] | None = None,
    job_id: str | None = None,
    lost_on_404: bool = False,
) -> CloudKitError:
    """The typed error for an HTTP error answer to ``what``.

    A 404 on something that names a job (``lost_on_404``) is a :class:`JobLostError`.

    Example:
        >>> type(error_for_status(404, "polling", job_id="j", lost_on_404=True)).__name__
        'JobLostError'
        >>> type(error_for_status(422, "upload")).__name__
        'ConfigError'
    """
    detail = redact(body[:300])
    message = f"{what} answered HTTP {status}" + (f": {detail}" if detail else "")
    if status == 404 and lost_on_404:
        return JobLostError(f"LlamaCloud does not know this job ({message})", file=file, job_id=job_id)
    cls = STATUS_ERRORS.get(status, ServiceError)
    if issubclass(cls, ServiceError):
        return cls(message, status_code=status, file=file, job_id=job_id)
    if cls is ConfigError:
        return ConfigError(
            message, file=file, job_id=job_id, hint="LlamaCloud rejected the request's parameters"
        )
    return cls(message, file=file, job_id=job_id)


def _with_context(
    exc: CloudKitError, file: str | os.PathLike[str] | None, job_id: str | None
) -> CloudKitError:
    """Fill in the file and job an error concerns when the raiser did not know them."""
    changed = False
    if exc.file is None and file is not None:
        exc.file, changed = os.fspath(file), True
    if exc.job_id is None and job_id is not None:
        exc.job_id, changed = job_id, True
    if changed:
        exc.args = (exc._render(),)
    return exc


def _is_sdk_api_error(exc: BaseException) -> bool:
    return type(exc).__name__ == "ApiError" and hasattr(exc, "status_code")


@contextlib.contextmanager
def map_cloud_errors(
    what: str,
    *,
    file: str | os.PathLike[str] | None = None,
    job_id: str | None = None,
    lost_on_404: bool = False,
) -> Iterator[None]:
    """Translate every failure inside the block into a typed error that names file and job.

    Example:
        >>> with map_cloud_errors("reading a result", file="a.pdf"):
        ...     json.loads("{not json")
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ServiceError: reading a result got a malformed answer: ...
    """
    try:
        yield
    except CloudKitError as exc:
        raise _with_context(exc, file, job_id) from exc.__cause__
    except httpx.HTTPStatusError as exc:
        response = exc.response
        raise error_for_status(
            response.status_code, what, response.text, file=file, job_id=job_id, lost_on_404=lost_on_404
        ) from exc
    except httpx.HTTPError as exc:
        raise ServiceError(
            f"{what} failed: {type(exc).__name__}: {redact(str(exc))}", file=file, job_id=job_id
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ServiceError(
            f"{what} got a malformed answer: {exc}",
            file=file,
            job_id=job_id,
            hint="LlamaCloud answered something that is not JSON; try again later",
        ) from exc
    except Exception as exc:
        if _is_sdk_api_error(exc):
            status = int(getattr(exc, "status_code", 0) or 0)
            body = str(getattr(exc, "body", ""))
            raise error_for_status(
                status, what, body, file=file, job_id=job_id, lost_on_404=lost_on_404
            ) from exc
        if type(exc).__name__ == "ValidationError":  # pydantic, from an SDK response model
            raise ServiceError(
                f"{what} got an answer of an unexpected shape: {redact(str(exc))[:300]}",
                file=file,
                job_id=job_id,
            ) from exc
        raise


def _decode(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ServiceError(
            f"{what} got a malformed answer (HTTP {response.status_code}, not JSON): "
            f"{redact(response.text[:120])!r}",
            hint="LlamaCloud answered something that is not JSON; try again later",
        ) from exc


def json_object(
    response: httpx.Response,
    what: str,
    *,
    file: str | os.PathLike[str] | None = None,
    job_id: str | None = None,
    lost_on_404: bool = False,
) -> dict[str, Any]:
    """The JSON object of a successful answer; any other answer is a typed error.

    Example:
        >>> json_object(httpx.Response(200, json={"id": "j"}), "upload")
        {'id': 'j'}
        >>> json_object(httpx.Response(200, json=[1]), "upload")
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ServiceError: upload got a malformed answer: ...
    """
    with map_cloud_errors(what, file=file, job_id=job_id):
        if response.status_code >= 400:
            raise error_for_status(
                response.status_code, what, response.text, file=file, job_id=job_id, lost_on_404=lost_on_404
            )
        body = _decode(response, what)
        if not isinstance(body, dict):
            raise ServiceError(
                f"{what} got a malformed answer: a JSON {type(body).__name__} where an object was expected",
                hint="LlamaCloud answered an unexpected shape; try again later",
            )
        return body


def json_list(
    response: httpx.Response,
    what: str,
    *,
    file: str | os.PathLike[str] | None = None,
    job_id: str | None = None,
) -> list[Any]:
    """The JSON array of a successful answer; any other answer is a typed error.

    Example:
        >>> json_list(httpx.Response(200, json=[{"id": "p"}]), "listing")
        [{'id': 'p'}]
    """
    with map_cloud_errors(what, file=file, job_id=job_id):
        if response.status_code >= 400:
            raise error_for_status(response.status_code, what, response.text, file=file, job_id=job_id)
        body = _decode(response, what)
        if not isinstance(body, list):
            raise ServiceError(
                f"{what} got a malformed answer: a JSON {type(body).__name__} where a list was expected"
            )
        return body


_Model = TypeVar("_Model", bound=BaseModel)


def _where(error: Mapping[str, Any]) -> str:
    return ".".join(str(part) for part in error.get("loc", ())) or "the answer"


def checked_answer(
    model: type[_Model], body: Any, *, service: str, file: str | None = None, job_id: str | None = None
) -> _Model:
    """``body`` as ``model``, or a ServiceError naming the fields of the wrong type.

    The message lists where and what was expected (at most three fields), never the values.

    Raises:
        ServiceError: the answer does not fit the model.

    Example:
        >>> from pydantic import BaseModel
        >>> class Run(BaseModel):
        ...     data: dict
        >>> checked_answer(Run, {"data": {"a": 1}}, service="LlamaExtract").data
        {'a': 1}
        >>> checked_answer(Run, {"data": "text"}, service="LlamaExtract", job_id="j")
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ServiceError: LlamaExtract answered a result of the wrong shape (data: ...
    """
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        fields = "; ".join(f"{_where(e)}: {e.get('msg')}" for e in errors[:3])
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        raise ServiceError(
            f"{service} answered a result of the wrong shape ({fields}{more})",
            file=file,
            job_id=job_id,
            hint="The result was not kept; the next run fetches it again. If it persists, "
            "report the job id to LlamaCloud support",
        ) from exc
