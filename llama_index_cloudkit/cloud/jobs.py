"""One job lifecycle for parse, extract and ingestion: submit once, journal, poll to a deadline.

:func:`run_job` is the loop every LlamaCloud job of this package goes through:

1. re-attach to the journaled job of the same content key, if there is one (and it may);
2. otherwise reserve the credits in the budget, submit once, and journal the job id **before**
   the first poll;
3. poll with a growing interval until the job is terminal or the :class:`Deadline` passes
   (:class:`JobTimeoutError`; the job stays journaled, a re-run re-attaches). The deadline is made
   once and never restarts;
4. a job the service forgot (404, :class:`JobLostError`) is submitted again at most
   ``policy.max_resubmissions`` times, counted in the journal, so the bound holds across runs.

Clock and sleep are injectable, so the lifecycle is tested in milliseconds without a server.

Example:
    >>> deadline = Deadline(10, clock=lambda: 0.0)
    >>> deadline.remaining()
    10.0
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from llama_index_cloudkit.cloud.budget import Budget
from llama_index_cloudkit.cloud.errors import JobState
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.errors import (
    CloudKitError,
    JobFailedError,
    JobLostError,
    JobTimeoutError,
    SubmissionUnknownError,
)

__all__ = ["Deadline", "JobOps", "JobOutcome", "raise_for_state", "run_job"]

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]


class Deadline:
    """A point in time made once; it never restarts.

    Example:
        >>> now = [0.0]
        >>> deadline = Deadline(5, clock=lambda: now[0])
        >>> now[0] = 6.0
        >>> deadline.expired(), deadline.remaining()
        (True, 0.0)
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = float(seconds)
        self._clock = clock
        self._end = clock() + self.seconds

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self._end - self._clock())

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return self.remaining() <= 0.0


class JobOps(Protocol):
    """What a service adapter gives the lifecycle: submit once, read a job's state."""

    async def submit(self) -> str:
        """Submit the input once; return the job id (raises typed errors)."""
        ...

    async def state(self, job_id: str) -> tuple[JobState, Mapping[str, Any]]:
        """The job's state and the status body (raises JobLostError on 404)."""
        ...


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended: its id, final state, last status body and bookkeeping."""

    job_id: str
    state: JobState
    body: Mapping[str, Any]
    reattached: bool = False
    resubmissions: int = 0
    submitted: bool = False


def raise_for_state(outcome: JobOutcome, *, what: str, file: str | None) -> None:
    """Raise JobFailedError unless the job succeeded.

    Example:
        >>> raise_for_state(JobOutcome("j", JobState.SUCCESS, {}), what="parse job", file="a.pdf")
    """
    if outcome.state is JobState.SUCCESS:
        return
    body = outcome.body
    message = body.get("error_message") or body.get("error") or "no message"
    raise JobFailedError(
        f"The {what} did not succeed: {message}",
        status=str(body.get("status") or outcome.state.value).upper(),
        code=body.get("error_code"),
        file=file,
        job_id=outcome.job_id,
        hint="Nothing was kept for it; the next run submits it again",
    )


async def _poll(
    ops: JobOps,
    job_id: str,
    deadline: Deadline,
    policy: CloudPolicy,
    sleep: Sleep,
    *,
    label: str,
    what: str,
) -> tuple[JobState, Mapping[str, Any]]:
    interval = policy.poll_interval
    while True:
        state, body = await ops.state(job_id)
        if state.terminal:
            return state, body
        if deadline.remaining() < 0.05:  # no time left for another wait and poll
            raise JobTimeoutError(
                f"The {what} was still running after {deadline.seconds:g} s",
                file=label,
                job_id=job_id,
            )
        await sleep(min(interval, deadline.remaining()))
        interval = min(interval * 1.5, policy.max_poll_interval)


async def run_job(
    ops: JobOps,
    *,
    key: str,
    label: str,
    policy: CloudPolicy,
    journal: JobJournal | None = None,
    budget: Budget | None = None,
    credits: float = 0.0,
    reattach: bool = True,
    what: str = "LlamaCloud job",
    deadline: Deadline | None = None,
    sleep: Sleep = asyncio.sleep,
) -> JobOutcome:
    """Run one job to a terminal state (see the module docstring for the steps).

    Args:
        ops: the service adapter (submit, state).
        key: the content key of the input (journal row).
        label: the file or input it concerns, for messages and the journal.
        policy: deadlines, polling and the resubmission bound.
        journal: where job ids are written before polling (None: not journaled).
        budget: reserve ``credits`` in it before each submission.
        credits: the estimated cost of one submission.
        reattach: re-attach to a journaled job (False: always a fresh job).
        what: the job's kind, for messages ("LlamaParse job").
        deadline: a deadline shared with the caller (default: ``policy.job_timeout`` from now).
        sleep: injectable for tests.

    Raises:
        JobTimeoutError: still running at the deadline (the job stays journaled).
        JobLostError: the service lost the job after every allowed resubmission.
        CreditLimitError: the budget refused the submission.
        SubmissionUnknownError, ServiceError, AuthError, RateLimitError: from the transport.
    """
    deadline = deadline or Deadline(policy.job_timeout)
    job_id = journal.pending_job(key) if journal is not None and reattach else None
    reattached = job_id is not None
    resubmissions = journal.resubmissions(key) if journal is not None else 0
    submitted = False
    while True:
        if job_id is None:
            if budget is not None:
                budget.reserve(credits, file=label)
            try:
                job_id = await ops.submit()
            except SubmissionUnknownError:
                raise  # may have been billed: the budget keeps it
            except CloudKitError:
                if budget is not None:  # refused by the service (or before sending): not billed
                    budget.release(credits)
                raise
            submitted = True
            if journal is not None:
                journal.record(key, job_id, label, resubmissions=resubmissions)  # before polling
        else:
            logger.info("re-attaching %s to job %s", label, job_id)
        try:
            state, body = await _poll(ops, job_id, deadline, policy, sleep, label=label, what=what)
        except JobLostError as exc:
            if journal is not None:
                journal.mark(key, "LOST")
            if resubmissions >= policy.max_resubmissions or deadline.expired():
                raise JobLostError(
                    f"LlamaCloud lost the {what} and it was already submitted again {resubmissions} time(s)",
                    resubmissions=resubmissions,
                    file=label,
                    job_id=job_id,
                ) from exc
            resubmissions += 1
            logger.warning("LlamaCloud lost job %s of %s; submitting it again (once)", job_id, label)
            job_id, reattached = None, False
            continue
        if state is not JobState.SUCCESS and journal is not None:
            journal.mark(key, "FAILED")
        return JobOutcome(job_id, state, body, reattached, resubmissions, submitted)
