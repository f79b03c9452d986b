"""What Parse v2 and Extract v2 share on the wire: the Files API upload and the paid submission.

- :func:`upload_file`: ``POST /api/v1/beta/files`` (multipart ``file`` and ``purpose``). It creates
  a file record and bills nothing, so it is retried like a read.
- :func:`submit_job`: one paid ``POST`` (never repeated blindly, rate-limited). An answer that
  cannot be read, or that has no job id, means the service may have accepted and billed the job:
  :class:`~llama_index_cloudkit.errors.SubmissionUnknownError`, never a second submission.

Example:
    >>> import asyncio
    >>> from llama_index_cloudkit.cloud.session import CloudSession
    >>> from llama_index_cloudkit.settings import CloudKitSettings
    >>> from llama_index_cloudkit.testing import FakeLlamaCloud
    >>> async def parse_job(fake):
    ...     settings = CloudKitSettings(api_key=fake.api_key, base_url=fake.base_url)
    ...     async with CloudSession(settings) as session:
    ...         file_id = await upload_file(session, b"# Hi", "a.md", purpose="parse")
    ...         body = {"tier": "agentic", "version": "latest", "file_id": file_id}
    ...         return await submit_job(session, "/api/v2/parse", body, what="parsing", label="a.md")
    >>> with FakeLlamaCloud() as fake:
    ...     asyncio.run(parse_job(fake)).startswith("pjb-")
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llama_index_cloudkit.cloud.errors import error_for_status
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import ServiceError, SubmissionUnknownError

__all__ = ["job_id_in", "submit_job", "upload_file"]

_FILES = "/api/v1/beta/files"


async def upload_file(
    session: CloudSession,
    data: bytes,
    file_name: str,
    *,
    purpose: str,
    label: str | None = None,
    mime_type: str | None = None,
) -> str:
    """Upload one file to the Files API; its ``dfl-...`` id.

    Raises:
        ServiceError: an answer without a file id (nothing was billed; the next run uploads again).
    """
    part: tuple[Any, ...] = (file_name, data, mime_type) if mime_type else (file_name, data)
    body = await session.json(
        "POST",
        _FILES,
        what=f"uploading the file for {purpose}",
        file=label or file_name,
        idempotent=True,  # a file record; nothing billed
        files={"file": part},
        data={"purpose": purpose},
        params=session.project_params(),
    )
    file_id = body.get("id")
    if not isinstance(file_id, str) or not file_id:
        raise ServiceError("The file upload was answered without a file id", file=label or file_name)
    return file_id


def job_id_in(body: Any) -> str | None:
    """The job id of a v2 submission's answer (``{id}`` or ``{job: {id}}``), if it has one.

    Example:
        >>> job_id_in({"id": "pjb-1"}), job_id_in({"job": {"id": "pjb-2"}}), job_id_in([1])
        ('pjb-1', 'pjb-2', None)
    """
    if not isinstance(body, Mapping):
        return None
    job = body.get("job")
    job_id = (job if isinstance(job, Mapping) else body).get("id")
    return job_id if isinstance(job_id, str) and job_id else None


async def submit_job(
    session: CloudSession, path: str, body: Mapping[str, Any], *, what: str, label: str
) -> str:
    """One paid submission; its job id. An unreadable 2xx answer is SubmissionUnknownError.

    Raises:
        SubmissionUnknownError: the outcome is unknown (lost, timed out, or unreadable answer).
        ConfigError, AuthError, RateLimitError, ServiceError: the service refused it.
    """
    response = await session.request(
        "POST",
        path,
        what=what,
        file=label,
        idempotent=False,  # paid: never repeated blindly
        rate_limited=True,
        json=dict(body),
        params=session.project_params(),
    )
    if response.status_code >= 400:
        raise error_for_status(response.status_code, what, response.text, file=label)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    job_id = job_id_in(answer)
    if job_id is None:
        raise SubmissionUnknownError(
            f"{what} was answered with something that is not a job (HTTP {response.status_code})",
            file=label,
        )
    return job_id
