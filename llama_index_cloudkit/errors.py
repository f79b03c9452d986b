"""One exception hierarchy for llama-index-cloudkit.

Every error names what it concerns (the file, the job id) and says what to do next. None of
them ever carries the API key: messages are built from explicit fields, and
:func:`redact` scrubs anything that looks like a key from text we did not write ourselves
(for example the body of an HTTP error).

```
CloudKitError
├── ConfigError             settings or arguments that cannot work (missing key, bad value)
├── AuthError               LlamaCloud refused the key (HTTP 401/403)
├── RateLimitError          HTTP 429 after every retry
├── ServiceError            any other HTTP or network failure after every retry
│   └── SubmissionUnknownError  a paid submission whose outcome is unknown (never repeated blindly)
├── JobError
│   ├── JobFailedError      the job ended ERROR / CANCELED / PARTIAL_SUCCESS
│   ├── JobLostError        the service no longer knows the job (and one resubmission did not help)
│   └── JobTimeoutError     the job stayed PENDING past its deadline
│       └── DeadlineExceededError  a request, retry or Retry-After wait would pass the deadline
├── CreditLimitError        a run would spend more than ``max_credits``
├── SchemaError             an extraction schema LlamaExtract would reject
├── ExtractionError         extraction produced nothing valid after its retries
└── DocumentError
    ├── UnsupportedFileError   a suffix we do not read, or a missing optional engine
    └── ParseError             a file that is corrupt, empty, encrypted or gone
```

Example:
    >>> from llama_index_cloudkit.errors import ParseError
    >>> err = ParseError("the PDF is encrypted", file="report.pdf", hint="pass password=...")
    >>> str(err)
    'the PDF is encrypted (file: report.pdf). pass password=...'
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence

__all__ = [
    "AuthError",
    "CloudKitError",
    "ConfigError",
    "CreditLimitError",
    "DeadlineExceededError",
    "DocumentError",
    "ExtractionError",
    "JobError",
    "JobFailedError",
    "JobLostError",
    "JobTimeoutError",
    "ParseError",
    "RateLimitError",
    "SchemaError",
    "ServiceError",
    "SubmissionUnknownError",
    "UnsupportedFileError",
    "redact",
    "register_secret",
]

_KEY_PATTERN = re.compile(r"llx-[A-Za-z0-9_\-]{6,}|Bearer\s+[^\s\"',]+")


_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()


def register_secret(value: str | None) -> None:
    """Make :func:`redact` scrub ``value`` from now on, whatever its format (a configured key).

    Settings call this when they resolve a key, so a key in any format (not only ``llx-``)
    never shows in a message, a log line or a traceback this package writes.

    Example:
        >>> register_secret("sk-custom-format-0042")
        >>> redact("service said: bad key sk-custom-format-0042")
        'service said: bad key ***'
    """
    if value and len(value.strip()) >= 4:
        with _SECRETS_LOCK:
            _SECRETS.add(value.strip())


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """Remove API keys from ``text``: LlamaCloud-style keys, bearer tokens and ``secrets``.

    The key in ``LLAMA_CLOUD_API_KEY`` and every key given to :func:`register_secret` are
    always scrubbed too.

    Example:
        >>> redact("401: bad key llx-abcdefghijkl")
        '401: bad key ***'
    """
    with _SECRETS_LOCK:
        known = tuple(_SECRETS)
    candidates = [s for s in (*secrets, *known, os.environ.get("LLAMA_CLOUD_API_KEY", "")) if s]
    for secret in sorted(candidates, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_PATTERN.sub("***", text)


class CloudKitError(Exception):
    """Root of every error this package raises.

    Args:
        message: what went wrong, in one sentence.
        file: the file concerned, if any.
        job_id: the LlamaCloud job concerned, if any.
        hint: what the user should do about it.

    Example:
        >>> try:
        ...     raise CloudKitError("something failed", file="a.pdf", hint="try again")
        ... except CloudKitError as err:
        ...     err.file
        'a.pdf'
    """

    default_hint: str = ""

    def __init__(
        self,
        message: str,
        *,
        file: str | os.PathLike[str] | None = None,
        job_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = redact(message)
        self.file = os.fspath(file) if file is not None else None
        self.job_id = job_id
        self.hint = hint if hint is not None else self.default_hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = [f"file: {self.file}"] if self.file else []
        if self.job_id:
            where.append(f"job: {self.job_id}")
        text = self.message + (f" ({', '.join(where)})" if where else "")
        if self.hint:
            text += f". {self.hint}"
        return text

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments do not survive the default pickling, and multiprocessing
        # (SimpleDirectoryReader's num_workers) pickles errors: restore the fields as they are.
        return (_restore, (type(self), str(self), dict(self.__dict__)))


def _restore(cls: type[CloudKitError], text: str, fields: dict[str, object]) -> CloudKitError:
    error = cls.__new__(cls)
    Exception.__init__(error, text)
    error.__dict__.update(fields)
    return error


class ConfigError(CloudKitError, ValueError):
    """Settings or arguments that cannot work, for example ``backend="cloud"`` without a key.

    Example:
        >>> try:
        ...     raise ConfigError("backend='cloud' needs an API key")
        ... except ValueError as error:  # a ConfigError is also a ValueError
        ...     print(type(error).__name__, error)
        ConfigError backend='cloud' needs an API key
    """


class AuthError(CloudKitError):
    """LlamaCloud refused the API key (HTTP 401 or 403).

    Example:
        >>> AuthError("LlamaCloud answered 401").hint.startswith("Check LLAMA_CLOUD_API_KEY")
        True
    """

    default_hint = (
        "Check LLAMA_CLOUD_API_KEY (or api_key=...) and that it belongs to this region's "
        "base URL (LLAMA_CLOUD_BASE_URL)"
    )


class ServiceError(CloudKitError):
    """An HTTP or network failure that outlived every retry.

    Attributes:
        status_code: the last HTTP status, or None for network errors.
        attempts: how many attempts were made.

    Example:
        >>> ServiceError("upload failed", status_code=503, attempts=5).attempts
        5
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        attempts: int = 1,
        file: str | os.PathLike[str] | None = None,
        job_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.attempts = attempts
        super().__init__(message, file=file, job_id=job_id, hint=hint)


class RateLimitError(ServiceError):
    """HTTP 429 from LlamaCloud after every retry.

    Example:
        >>> RateLimitError("too many requests", status_code=429).status_code
        429
    """

    default_hint = "Lower max_concurrency or requests_per_second, or retry later"


class SubmissionUnknownError(ServiceError):
    """A paid submission (upload, extraction run) whose outcome is unknown: it was not repeated.

    The request reached LlamaCloud, but the answer was lost (a dropped connection, a read
    timeout, a gateway error). LlamaCloud may have accepted it and billed it, so it is not sent
    again blindly; a later run submits it again only when the user runs it again.

    Example:
        >>> SubmissionUnknownError("upload outcome unknown", file="a.pdf").hint.startswith("It may")
        True
    """

    default_hint = (
        "It may have been accepted (and billed): check the LlamaCloud dashboard, then run the "
        "same call again to submit it anew"
    )


class JobError(CloudKitError):
    """A LlamaCloud job that did not end in success."""


class JobLostError(JobError):
    """LlamaCloud no longer knows a job (HTTP 404 on its status), even after one resubmission.

    Attributes:
        resubmissions: how many times the input was submitted again after a job was lost.

    Example:
        >>> JobLostError("job unknown", job_id="j1", resubmissions=1).resubmissions
        1
    """

    default_hint = "The job expired or belongs to another project; run the same call again later"

    def __init__(
        self,
        message: str,
        *,
        resubmissions: int = 0,
        file: str | os.PathLike[str] | None = None,
        job_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.resubmissions = resubmissions
        super().__init__(message, file=file, job_id=job_id, hint=hint)


class JobFailedError(JobError):
    """A job that ended ERROR, CANCELED or PARTIAL_SUCCESS.

    Example:
        >>> err = JobFailedError("parse job failed", job_id="j1", status="ERROR", code="E1")
        >>> err.status, err.code
        ('ERROR', 'E1')
    """

    def __init__(
        self,
        message: str,
        *,
        status: str,
        code: str | None = None,
        file: str | os.PathLike[str] | None = None,
        job_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        detail = f"{message} [status {status}" + (f", code {code}]" if code else "]")
        super().__init__(detail, file=file, job_id=job_id, hint=hint)


class JobTimeoutError(JobError):
    """A job still PENDING at its deadline. It stays in the journal and can be re-attached.

    Example:
        >>> JobTimeoutError("still pending after 600 s", job_id="j1").job_id
        'j1'
    """

    default_hint = "The job was kept in the journal: run the same call again to re-attach to it"


class DeadlineExceededError(JobTimeoutError):
    """The call's deadline passed (or would pass) while a request was running or waiting to retry.

    Raised instead of sleeping through a ``Retry-After`` or a backoff that would end past the
    deadline, and when a request (its whole body included) runs into it.

    Attributes:
        retry_after: the wait the service asked for, when that is what would have crossed it.

    Example:
        >>> DeadlineExceededError("no time left for a retry", retry_after=30.0).retry_after
        30.0
    """

    default_hint = "Raise job_timeout, or run the same call again later (submitted jobs stay journaled)"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        file: str | os.PathLike[str] | None = None,
        job_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, file=file, job_id=job_id, hint=hint)


class CreditLimitError(CloudKitError):
    """A run that would spend more credits than ``max_credits`` allows.

    Example:
        >>> CreditLimitError("estimated 450 credits > max_credits=100").hint != ""
        True
    """

    default_hint = "Raise max_credits, pick a cheaper preset, or parse fewer pages"


class SchemaError(CloudKitError, ValueError):
    """An extraction schema LlamaExtract would reject; ``problems`` lists each with its path.

    Example:
        >>> err = SchemaError(["$.properties.age: 'minimum' is not supported"])
        >>> len(err.problems)
        1
    """

    def __init__(self, problems: Sequence[str], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        message = f"{len(self.problems)} schema problem(s):\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message, hint=hint)


class ExtractionError(CloudKitError):
    """Extraction gave no valid result after every attempt.

    Attributes:
        attempts: how many attempts were made.
        last_output: the last raw output, for debugging.

    Example:
        >>> ExtractionError("no valid JSON", attempts=3, last_output="{").attempts
        3
    """

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 1,
        last_output: str | None = None,
        file: str | os.PathLike[str] | None = None,
        job_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.attempts = attempts
        self.last_output = last_output
        super().__init__(message, file=file, job_id=job_id, hint=hint)


class DocumentError(CloudKitError):
    """A document that could not be read."""


class UnsupportedFileError(DocumentError, ValueError):
    """A file type we do not read, or one that needs an optional extra that is not installed.

    Example:
        >>> str(UnsupportedFileError("no reader for '.xyz'", file="a.xyz"))
        "no reader for '.xyz' (file: a.xyz)"
    """


class ParseError(DocumentError):
    """A file that is corrupt, empty, encrypted or vanished.

    Example:
        >>> ParseError("the file is empty", file="empty.pdf").file
        'empty.pdf'
    """
