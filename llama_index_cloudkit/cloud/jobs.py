"""One job lifecycle for parse, extract and ingestion: submit once, journal, poll to a deadline.

A :class:`JobRun` decides every step of a LlamaCloud job; its caller makes the service calls
(the core calls no service: the sans-I/O shape of h11). The run yields :class:`JobStep` s, and
the caller answers each with one call of its adapter inside ``async with step``:

1. the content key is claimed in the journal (:meth:`JobJournal.claim`, across threads and
   processes sharing the cache directory): a journaled job is re-attached to; while another live
   caller is submitting it, the run waits, then re-attaches to its job (never pay twice);
2. otherwise the run yields a **submission** step: entering it reserves the credits in the
   budget; the caller submits once; leaving it journals the job id **before** the first poll
   (which ends the claim); a failed or interrupted submission releases the claim (and the credits,
   unless the outcome is unknown: it may have been billed);
3. then **status** steps (promptly at first, then less often) until the job is terminal or the
   :class:`~llama_index_cloudkit.cloud.deadline.Deadline` passes (:class:`JobTimeoutError`; the
   job stays journaled, a re-run re-attaches). The deadline is made once, never restarts, and
   bounds every status request: a status step makes it the ambient deadline of the transport
   (retries, ``Retry-After`` waits and body reads; see :func:`deadline_scope`; callers bound the
   result download with ``deadline_scope(outcome.deadline)``). The paid submission is bounded by
   its retry policy, not cut by the deadline mid-flight (which would leave a job that may be
   billed but is not journaled);
4. a job the service forgot (404, :class:`JobLostError` out of a status step) is submitted again
   at most ``policy.max_resubmissions`` times, counted in the journal, so the bound holds across
   runs.

:func:`submit_once` is step 1 and 2 alone, for a paid submission that is not polled here (a queued
extraction, the resubmission of a lost queued job). Clock and sleep are injectable, so the
lifecycle is tested in milliseconds without a server.

Example:
    >>> async def parse() -> JobOutcome:
    ...     run = JobRun("content-key", label="a.pdf", policy=CloudPolicy())
    ...     async for step in run:
    ...         async with step:
    ...             if step.submits:
    ...                 step.answer("job-1")  # the adapter's submission: the job id
    ...             else:
    ...                 step.answer((JobState.SUCCESS, {"status": "SUCCESS"}))  # a status read
    ...     return run.outcome
    >>> outcome = asyncio.run(parse())
    >>> outcome.job_id, outcome.state.value, outcome.submitted
    ('job-1', 'success', True)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

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

__all__ = ["JobOutcome", "JobRun", "JobStep", "poll_schedule", "raise_for_state", "submit_once"]

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]


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


class JobStep:
    """One service call of a job, made by the caller of :class:`JobRun` inside ``async with``.

    ``submits`` is True for the paid submission (answer with the new job id) and False for a
    status read of ``job_id`` (answer with ``(JobState, body)``). Entering a submission reserves
    its credits; leaving it journals the job, or releases the claim (and the credits, when the
    service refused) if the call failed. A status step binds the job's deadline on the request;
    a :class:`DeadlineExceededError` out of it becomes :class:`JobTimeoutError`, and a
    :class:`JobLostError` is kept for the run, which submits the job again (within its bound).

    Example:
        >>> async def answered() -> str | None:
        ...     step = JobStep(_Submission("k", "a.pdf"))
        ...     async with step:
        ...         step.answer("job-9")
        ...     return step.job_id
        >>> asyncio.run(answered())
        'job-9'
    """

    def __init__(self, submission: _Submission | None = None, *, poll: _Poll | None = None) -> None:
        self._submission = submission
        self._poll = poll
        self.job_id: str | None = poll.job_id if poll is not None else None
        self.state: tuple[JobState, Mapping[str, Any]] | None = None
        self.lost: JobLostError | None = None
        self._entered = False
        self._scope: contextlib.ExitStack | None = None

    @property
    def submits(self) -> bool:
        """Whether this step is the paid submission (else: a status read of ``job_id``)."""
        return self._submission is not None

    def answer(self, value: Any) -> None:
        """What the adapter's call returned: a job id (submission) or ``(JobState, body)``."""
        if self.submits:
            self.job_id = str(value)
        else:
            state, body = value
            self.state = (state, body)

    async def __aenter__(self) -> JobStep:
        self._entered = True
        if self._submission is not None:
            self._submission.reserve()
        elif self._poll is not None:
            self._scope = contextlib.ExitStack()
            self._scope.enter_context(deadline_scope(self._poll.deadline))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if self._submission is not None:
            if exc is None and self.job_id is None:
                exc = RuntimeError("a submission step was left without step.answer(job_id)")
                self._submission.failed(exc)
                raise exc
            if exc is not None:
                self._submission.failed(exc)
                return False
            assert self.job_id is not None
            self._submission.done(self.job_id)
            return False
        assert self._poll is not None and self._scope is not None
        self._scope.close()
        if isinstance(exc, DeadlineExceededError):
            poll = self._poll
            raise JobTimeoutError(
                f"The {poll.what} was not finished by its deadline "
                f"({poll.deadline.seconds:g} s): {exc.message}",
                file=poll.label,
                job_id=poll.job_id,
            ) from exc
        if isinstance(exc, JobLostError):
            self.lost = exc  # the run decides: submit again, or give up typed
            return True
        if exc is None and self.state is None:
            raise RuntimeError("a status step was left without step.answer((state, body))")
        return False


@dataclass
class _Submission:
    """The claim, the budget and the journal around one paid submission."""

    key: str
    label: str
    journal: JobJournal | None = None
    claimed: bool = False
    owner: str = ""
    budget: Budget | None = None
    credits: float = 0.0
    resubmissions: int | None = None

    def reserve(self) -> None:
        try:
            if self.budget is not None:
                self.budget.reserve(self.credits, file=self.label)
        except BaseException:
            self.release_claim()
            raise

    def failed(self, exc: BaseException) -> None:
        refused = isinstance(exc, CloudKitError) and not isinstance(exc, SubmissionUnknownError)
        if self.budget is not None and refused:  # refused, or never sent: not billed
            self.budget.release(self.credits)
        self.release_claim()  # waiters submit themselves

    def done(self, job_id: str) -> None:
        if self.journal is not None:  # ends the claim
            self.journal.record(self.key, job_id, self.label, resubmissions=self.resubmissions)

    def release_claim(self) -> None:
        if self.claimed and self.journal is not None:
            self.journal.release(self.key, self.owner)


@dataclass(frozen=True)
class _Poll:
    job_id: str
    deadline: Deadline
    label: str
    what: str


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


async def _submission(
    *,
    key: str,
    label: str,
    policy: CloudPolicy,
    journal: JobJournal | None,
    claims: bool,
    resubmissions: int | None,
    budget: Budget | None,
    credits: float,
    deadline: Deadline,
    sleep: Sleep,
) -> str | _Submission:
    """The job id to re-attach to, or the submission this caller must make (it holds the claim)."""
    owner = claim_owner()
    claimed = journal is not None and claims
    if claimed:
        assert journal is not None
        job_id = await _claimed_job(journal, key, label, owner, deadline, policy, sleep)
        if job_id is not None:
            return job_id
    return _Submission(key, label, journal, claimed, owner, budget, credits, resubmissions)


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

    Steps 1 and 2 of :class:`JobRun` for a paid submission that is not polled here (a queued
    extraction, the resubmission of a lost queued job): a journaled job, or one another live
    caller is submitting, is re-attached to; otherwise ``submit`` is called once and its job
    journaled before this returns.

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
    found = await _submission(
        key=key,
        label=label,
        policy=policy,
        journal=journal,
        claims=claims,
        resubmissions=resubmissions,
        budget=budget,
        credits=credits,
        deadline=deadline or Deadline(policy.job_timeout),
        sleep=sleep,
    )
    if isinstance(found, str):
        return found, True
    step = JobStep(found)
    async with step:
        step.answer(await submit())
    assert step.job_id is not None
    return step.job_id, False


class JobRun:
    """One job to a terminal state, its steps made by the caller (see the module docstring).

    Iterate it for the :class:`JobStep` s and answer each inside ``async with step``; after the
    loop, :attr:`outcome` says how the job ended.

    Args:
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

    Raises (out of the iteration):
        JobTimeoutError: still running at the deadline (the job stays journaled).
        JobLostError: the service lost the job after every allowed resubmission.
        CreditLimitError: the budget refused the submission.

    Example:
        >>> run = JobRun("k", label="a.pdf", policy=CloudPolicy(), what="LlamaParse job")
        >>> run.outcome is None
        True
    """

    def __init__(
        self,
        key: str,
        *,
        label: str,
        policy: CloudPolicy,
        journal: JobJournal | None = None,
        budget: Budget | None = None,
        credits: float = 0.0,
        reattach: bool = True,
        what: str = "LlamaCloud job",
        deadline: Deadline | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.key = key
        self.label = label
        self.policy = policy
        self.journal = journal
        self.budget = budget
        self.credits = credits
        self.reattach = reattach
        self.what = what
        self.deadline = deadline or Deadline(policy.job_timeout)
        self.sleep = sleep
        self.outcome: JobOutcome | None = None
        """How the job ended; set when the iteration ends without an error."""

    def __aiter__(self) -> AsyncIterator[JobStep]:
        return self._steps()

    async def _steps(self) -> AsyncIterator[JobStep]:
        started = time.monotonic()
        journal, deadline = self.journal, self.deadline
        resubmissions: int | None = None  # the journal's count, read once the key is ours
        submitted = False
        while True:
            found = await _submission(
                key=self.key,
                label=self.label,
                policy=self.policy,
                journal=journal,
                claims=journal is not None and self.reattach,
                resubmissions=resubmissions,
                budget=self.budget,
                credits=self.credits,
                deadline=deadline,
                sleep=self.sleep,
            )
            reattached = isinstance(found, str)
            if isinstance(found, str):
                job_id = found
                logger.info("re-attaching %s to job %s", self.label, job_id)
                logger.debug("re-attached %s to %s %s", self.label, self.what, job_id)
            else:
                step = JobStep(found)
                try:
                    yield step
                finally:
                    if not step._entered:  # closed before the step was made: others may submit
                        found.release_claim()
                _check_answered(step)
                assert step.job_id is not None
                job_id, submitted = step.job_id, True
                elapsed = time.monotonic() - started
                logger.debug("submitted %s as %s %s (%.2f s)", self.label, self.what, job_id, elapsed)
            if resubmissions is None:
                resubmissions = journal.resubmissions(self.key) if journal is not None else 0
            poll = _Poll(job_id, deadline, self.label, self.what)
            for interval in poll_schedule(self.policy):
                step = JobStep(poll=poll)
                yield step
                _check_answered(step)
                if step.lost is not None or step.state is None:
                    break
                state, body = step.state
                if state.terminal:
                    if state is not JobState.SUCCESS and journal is not None:
                        journal.mark(self.key, "FAILED", job_id=job_id)
                    logger.debug(
                        "%s %s of %s finished %s in %.2f s",
                        self.what,
                        job_id,
                        self.label,
                        state.value,
                        time.monotonic() - started,
                    )
                    self.outcome = JobOutcome(
                        job_id, state, body, reattached, resubmissions, submitted, deadline
                    )
                    return
                if deadline.remaining() < 0.05:  # no time left for another wait and poll
                    raise JobTimeoutError(
                        f"The {self.what} was still running after {deadline.seconds:g} s",
                        file=self.label,
                        job_id=job_id,
                    )
                await self.sleep(min(interval, deadline.remaining()))
            if journal is not None:
                journal.mark(self.key, "LOST", job_id=job_id)
            if resubmissions >= self.policy.max_resubmissions or deadline.expired():
                raise JobLostError(
                    f"LlamaCloud lost the {self.what} and it was already submitted again "
                    f"{resubmissions} time(s)",
                    resubmissions=resubmissions,
                    file=self.label,
                    job_id=job_id,
                ) from step.lost
            resubmissions += 1
            logger.warning("LlamaCloud lost job %s of %s; submitting it again (once)", job_id, self.label)
            # another process may be resubmitting it already: the claim decides


def _check_answered(step: JobStep) -> None:
    if not step._entered:
        raise RuntimeError("each JobStep is made inside 'async with step:'")
