"""One job lifecycle for parse, extract and ingestion: submit once, journal, poll to a deadline.

:func:`run_job` is the loop every LlamaCloud job of this package goes through:

1. claim the content key in the journal (:meth:`JobJournal.claim`, across threads and processes
   sharing the cache directory): re-attach to its journaled job if there is one; wait while
   another live caller is submitting it (then re-attach to its job: never pay twice);
2. otherwise reserve the credits in the budget, submit once, and journal the job id **before**
   the first poll (which ends the claim); a failed or interrupted submission releases the claim;
3. poll (promptly at first, then less often) until the job is terminal or the
   :class:`~llama_index_cloudkit.cloud.deadline.Deadline` passes (:class:`JobTimeoutError`; the job
   stays journaled, a re-run re-attaches). The deadline is made once, never restarts, and bounds
   every status request under it: retries, ``Retry-After`` waits and body reads (it is the
   ambient deadline of the transport while polling, see :func:`deadline_scope`; callers bound the
   result download with ``deadline_scope(outcome.deadline)``). The paid submission itself is
   bounded by its retry policy, not cut by the deadline mid-flight (which would leave a job
   that may be billed but is not journaled);
4. a job the service forgot (404, :class:`JobLostError`) is submitted again at most
   ``policy.max_resubmissions`` times, counted in the journal, so the bound holds across runs.

Clock and sleep are injectable, so the lifecycle is tested in milliseconds without a server.

Example:
    >>> JobOutcome("job-1", JobState.SUCCESS, {}).submitted
    False
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from llama_index_cloudkit.cloud.budget import Budget
from llama_index_cloudkit.cloud.deadline import Deadline, deadline_scope
from llama_index_cloudkit.cloud.errors import JobState
from llama_index_cloudkit.cloud.journal import JobJournal, claim_owner
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.errors import (
    CloudKitError,
    DeadlineExceededError,
    JobFailedError,
    JobLostError,
    JobTimeoutError,
    SubmissionUnknownError,
)

__all__ = ["JobOps", "JobOutcome", "poll_schedule", "raise_for_state", "run_job", "submit_once"]

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]


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
    deadline: Deadline | None = None
    """The job's deadline: bound the result download with ``deadline_scope(outcome.deadline)``."""


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
    for interval in poll_schedule(policy):
        try:
            state, body = await ops.state(job_id)
        except DeadlineExceededError as exc:
            raise JobTimeoutError(
                f"The {what} was not finished by its deadline ({deadline.seconds:g} s): {exc.message}",
                file=label,
                job_id=job_id,
            ) from exc
        if state.terminal:
            return state, body
        if deadline.remaining() < 0.05:  # no time left for another wait and poll
            raise JobTimeoutError(
                f"The {what} was still running after {deadline.seconds:g} s",
                file=label,
                job_id=job_id,
            )
        await sleep(min(interval, deadline.remaining()))
    raise AssertionError("the poll schedule never ends")  # pragma: no cover


def poll_schedule(policy: CloudPolicy) -> Iterator[float]:
    """The waits between polls: a job is seen done at most about 15% after it is, never more
    often than every fifth of ``policy.poll_interval``, never less often than
    ``policy.max_poll_interval``.

    Each wait is 0.15x the time polled so far, at least ``poll_interval / 5`` (0.1 s by default)
    and at most ``max_poll_interval``: a one-second job is seen done by about 1.07 s (it was 1.1 s
    with waits growing 1.5x from 0.5 s), a minute-long one by about 66 s, for about 40 polls
    in its first minute, and every 5 s after that.

    Example:
        >>> from itertools import islice
        >>> [round(w, 2) for w in islice(poll_schedule(CloudPolicy()), 10)]
        [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.12, 0.14]
    """
    floor = policy.poll_interval * 0.2
    elapsed = 0.0
    while True:
        wait = min(max(floor, elapsed * 0.15), policy.max_poll_interval)
        yield wait
        elapsed += wait


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
    return await _run_job(
        ops,
        key=key,
        label=label,
        policy=policy,
        journal=journal,
        budget=budget,
        credits=credits,
        reattach=reattach,
        what=what,
        deadline=deadline,
        sleep=sleep,
    )


async def _claimed_job(
    journal: JobJournal,
    key: str,
    label: str,
    owner: str,
    deadline: Deadline,
    policy: CloudPolicy,
    sleep: Sleep,
) -> str | None:
    """The job id to re-attach to, or None when this caller now owns the key and must submit."""
    waited = False
    while True:
        claim = journal.claim(key, label, owner)
        if claim.action == "submit":
            return None
        if claim.action == "reattach":
            if waited:
                logger.info("%s was submitted by another caller meanwhile: re-attaching to its job", label)
            return claim.job_id
        if not waited:
            logger.info(
                "%s is being submitted by another caller (thread or process); waiting for its job", label
            )
            waited = True
        if deadline.remaining() < 0.05:
            raise JobTimeoutError(
                f"Another caller was still submitting {label} after {deadline.seconds:g} s",
                file=label,
                hint="Run the same call again: it re-attaches to that caller's job",
            )
        await sleep(min(policy.poll_interval * 0.2, deadline.remaining()))


async def submit_once(
    submit: Callable[[], Awaitable[str]],
    *,
    key: str,
    label: str,
    policy: CloudPolicy,
    journal: JobJournal | None,
    claims: bool = True,
    resubmissions: int | None = None,
    budget: Budget | None = None,
    credits: float = 0.0,
    deadline: Deadline | None = None,
    sleep: Sleep = asyncio.sleep,
) -> tuple[str, bool]:
    """The job of ``key``, paid at most once by everyone who asks at the same time.

    With a journal (and ``claims``), the key is claimed first, across threads and processes
    sharing the cache directory: a journaled job, or one another live caller is submitting, is
    re-attached to. Otherwise this caller reserves ``credits`` in the budget, submits, and
    journals the job id before returning; a failed or interrupted submission releases the claim
    (its waiters then submit themselves) and the reserved credits (unless the outcome is unknown:
    it may have been billed). :func:`run_job` submits through this; so does any paid submission
    that is not polled here (a queued extraction, the resubmission of a lost queued job).

    Args:
        submit: the one paid submission; returns the job id.
        key: the content key (journal row).
        label: the file or input, for messages and the journal.
        policy: how long to wait for another caller's submission (``job_timeout``) and how often.
        journal: None: no claims, nothing journaled.
        claims: False: always submit (``invalidate_cache``), still journaled.
        resubmissions: the count to journal with the job (None: keep the row's count).
        budget: reserve ``credits`` in it before submitting.
        credits: the estimated cost of one submission.
        deadline: how long to wait for another caller's submission (default: ``job_timeout``).
        sleep: injectable for tests.

    Returns:
        ``(job_id, reattached)``: ``reattached`` is True when someone else paid for the job.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> journal = JobJournal(Path(tempfile.mkdtemp()) / "journal.sqlite")
        >>> async def pay() -> str:
        ...     return "job-1"
        >>> def once():
        ...     return submit_once(pay, key="k", label="a.pdf", policy=CloudPolicy(), journal=journal)
        >>> async def twice():
        ...     return await once(), await once()
        >>> asyncio.run(twice())
        (('job-1', False), ('job-1', True))
    """
    claiming = journal is not None and claims
    owner = claim_owner()
    if claiming:
        assert journal is not None
        deadline = deadline or Deadline(policy.job_timeout)
        job_id = await _claimed_job(journal, key, label, owner, deadline, policy, sleep)
        if job_id is not None:
            return job_id, True
    try:
        if budget is not None:
            budget.reserve(credits, file=label)
        try:
            job_id = await submit()
        except SubmissionUnknownError:
            raise  # may have been billed: the budget keeps it
        except CloudKitError:
            if budget is not None:  # refused by the service (or before sending): not billed
                budget.release(credits)
            raise
    except BaseException:
        if claiming:
            assert journal is not None
            journal.release(key, owner)  # waiters submit themselves
        raise
    if journal is not None:
        journal.record(key, job_id, label, resubmissions=resubmissions)  # ends the claim
    return job_id, False


async def _run_job(
    ops: JobOps,
    *,
    key: str,
    label: str,
    policy: CloudPolicy,
    journal: JobJournal | None,
    budget: Budget | None,
    credits: float,
    reattach: bool,
    what: str,
    deadline: Deadline,
    sleep: Sleep,
) -> JobOutcome:
    started = time.monotonic()
    claims = journal is not None and reattach
    resubmissions: int | None = None  # the journal's count, read once the key is ours
    submitted = False
    while True:
        job_id, reattached = await submit_once(
            ops.submit,
            key=key,
            label=label,
            policy=policy,
            journal=journal,
            claims=claims,
            resubmissions=resubmissions,
            budget=budget,
            credits=credits,
            deadline=deadline,
            sleep=sleep,
        )
        if resubmissions is None:
            resubmissions = journal.resubmissions(key) if journal is not None else 0
        if reattached:
            logger.info("re-attaching %s to job %s", label, job_id)
            logger.debug("re-attached %s to %s %s", label, what, job_id)
        else:
            submitted = True
            logger.debug("submitted %s as %s %s (%.2f s)", label, what, job_id, time.monotonic() - started)
        try:
            with deadline_scope(deadline):  # binding on every status request, its retries and waits
                state, body = await _poll(ops, job_id, deadline, policy, sleep, label=label, what=what)
        except JobLostError as exc:
            if journal is not None:
                journal.mark(key, "LOST", job_id=job_id)
            if resubmissions >= policy.max_resubmissions or deadline.expired():
                raise JobLostError(
                    f"LlamaCloud lost the {what} and it was already submitted again {resubmissions} time(s)",
                    resubmissions=resubmissions,
                    file=label,
                    job_id=job_id,
                ) from exc
            resubmissions += 1
            logger.warning("LlamaCloud lost job %s of %s; submitting it again (once)", job_id, label)
            continue  # another process may be resubmitting it already: the claim decides
        if state is not JobState.SUCCESS and journal is not None:
            journal.mark(key, "FAILED", job_id=job_id)
        logger.debug(
            "%s %s of %s finished %s in %.2f s",
            what,
            job_id,
            label,
            state.value,
            time.monotonic() - started,
        )
        return JobOutcome(job_id, state, body, reattached, resubmissions, submitted, deadline)
