"""CloudPolicy: every knob of how this package talks to LlamaCloud, as one frozen value.

| field | meaning | default |
|---|---|---|
| ``retry`` | per-request attempts, total time and backoff (:class:`RetryPolicy`) | 6 attempts, 120 s |
| ``request_timeout`` | seconds per phase of a request (connect, each read); 3x for a whole answer | 60 |
| ``max_concurrency`` | requests in flight at once (uploads, polls, downloads) | 8 |
| ``max_jobs`` | jobs of one batch running at once (LlamaParse's ``num_workers``); None: no bound | None |
| ``upload_limit`` / ``upload_window`` | paid submissions per window (LlamaCloud: 50 per 10 s) | 50 / 10 s |
| ``job_timeout`` | seconds a job may run before :class:`JobTimeoutError`; never restarts | 1800 |
| ``poll_interval`` / ``max_poll_interval`` | a fifth: the shortest wait between polls; the cap | 0.5 / 5 s |
| ``max_resubmissions`` | times a job the service lost is submitted again | 1 |

Example:
    >>> policy = CloudPolicy(job_timeout=60)
    >>> policy.job_timeout, policy.max_resubmissions
    (60.0, 1)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from llama_index_cloudkit.cloud.transport import RetryPolicy

__all__ = ["CloudPolicy"]


class CloudPolicy(BaseModel):
    """How hard, how fast and how long to talk to LlamaCloud (see the module's table).

    Example:
        >>> CloudPolicy(max_concurrency=2).max_concurrency
        2
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")

    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    request_timeout: float = Field(default=60.0, gt=0)
    max_concurrency: int = Field(default=8, ge=1, le=64)
    max_jobs: int | None = Field(default=None, ge=1)
    upload_limit: int = Field(default=50, ge=1)
    upload_window: float = Field(default=10.0, gt=0)
    job_timeout: float = Field(default=1800.0, gt=0)
    poll_interval: float = Field(default=0.5, gt=0, le=60)
    max_poll_interval: float = Field(default=5.0, gt=0, le=300)
    max_resubmissions: int = Field(default=1, ge=0, le=3)
