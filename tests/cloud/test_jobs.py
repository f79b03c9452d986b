"""The job lifecycle in milliseconds: one deadline, bounded resubmission, journal before poll."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from llama_index_cloudkit.cloud import Budget, CloudPolicy, Deadline, JobJournal, JobState
from llama_index_cloudkit.errors import (
    CreditLimitError,
    JobLostError,
    JobTimeoutError,
    ServiceError,
    SubmissionUnknownError,
)

from ._drive import run_job

POLICY = CloudPolicy(job_timeout=10, poll_interval=1, max_poll_interval=2)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


class _Ops:
    """A service whose answers are scripted per job: a list of states, or 'lost'."""

    def __init__(
        self, journal: JobJournal | None, *scripts: list[Any], submit_error: Exception | None = None
    ) -> None:
        self.scripts = list(scripts)
        self.submitted: list[str] = []
        self.polls: dict[str, int] = {}
        self.journal = journal
        self.submit_error = submit_error
        self.journaled_at_first_poll: list[bool] = []

    async def submit(self) -> str:
        if self.submit_error is not None:
            raise self.submit_error
        job_id = f"job-{len(self.submitted) + 1}"
        self.submitted.append(job_id)
        return job_id

    async def state(self, job_id: str) -> tuple[JobState, Mapping[str, Any]]:
        count = self.polls.get(job_id, 0)
        if count == 0 and self.journal is not None:
            self.journaled_at_first_poll.append(self.journal.pending_job("k") == job_id)
        self.polls[job_id] = count + 1
        script = self.scripts[min(len(self.submitted), len(self.scripts)) - 1]
        answer = script[min(count, len(script) - 1)]
        if answer == "lost":
            raise JobLostError("gone", job_id=job_id)
        return answer, {"status": answer.value}


def _run(ops: _Ops, clock: _Clock, **kwargs: Any) -> Any:
    return asyncio.run(
        run_job(
            ops,
            key="k",
            label="a.pdf",
            policy=POLICY,
            deadline=Deadline(10, clock=clock),
            sleep=clock.sleep,
            **kwargs,
        )
    )


def test_the_job_id_is_journaled_before_the_first_poll(tmp_path: Path) -> None:
    journal = JobJournal(tmp_path / "j.sqlite")
    ops = _Ops(journal, [JobState.PENDING, JobState.SUCCESS])
    outcome = _run(ops, _Clock(), journal=journal)
    assert outcome.state is JobState.SUCCESS and ops.journaled_at_first_poll == [True]


def test_the_deadline_never_restarts_across_a_resubmission(tmp_path: Path) -> None:
    clock = _Clock()
    ops = _Ops(JobJournal(tmp_path / "j.sqlite"), [JobState.PENDING] * 4 + ["lost"], [JobState.PENDING])
    with pytest.raises(JobTimeoutError) as info:
        _run(ops, clock, journal=ops.journal)
    assert len(ops.submitted) == 2 and clock.now <= 10.0 + 1e-9
    assert info.value.job_id == "job-2" and info.value.file == "a.pdf"


def test_a_lost_job_is_submitted_again_once_then_typed(tmp_path: Path) -> None:
    journal = JobJournal(tmp_path / "j.sqlite")
    ops = _Ops(journal, ["lost"])
    with pytest.raises(JobLostError) as info:
        _run(ops, _Clock(), journal=journal)
    assert ops.submitted == ["job-1", "job-2"] and info.value.resubmissions == 1
    assert journal.resubmissions("k") == 1


def test_a_lost_job_recovers_with_one_resubmission(tmp_path: Path) -> None:
    ops = _Ops(JobJournal(tmp_path / "j.sqlite"), ["lost"], [JobState.SUCCESS])
    outcome = _run(ops, _Clock(), journal=ops.journal)
    assert outcome.state is JobState.SUCCESS and outcome.resubmissions == 1


def test_a_journaled_job_is_reattached_not_paid_again(tmp_path: Path) -> None:
    journal = JobJournal(tmp_path / "j.sqlite")
    journal.record("k", "job-earlier", "a.pdf")
    ops = _Ops(journal, [JobState.SUCCESS])
    outcome = _run(ops, _Clock(), journal=journal)
    assert outcome.reattached and outcome.job_id == "job-earlier" and ops.submitted == []


def test_reattach_false_is_a_fresh_job(tmp_path: Path) -> None:
    journal = JobJournal(tmp_path / "j.sqlite")
    journal.record("k", "job-earlier", "a.pdf")
    ops = _Ops(journal, [JobState.SUCCESS])
    assert _run(ops, _Clock(), journal=journal, reattach=False).job_id == "job-1"


def test_the_budget_refuses_before_any_submission() -> None:
    ops = _Ops(None, [JobState.SUCCESS])
    with pytest.raises(CreditLimitError):
        _run(ops, _Clock(), budget=Budget(15), credits=20)
    assert ops.submitted == []


def test_a_refused_submission_gives_its_credits_back_and_an_unknown_one_keeps_them() -> None:
    budget = Budget(100)
    with pytest.raises(ServiceError):
        _run(
            _Ops(None, [JobState.SUCCESS], submit_error=ServiceError("503")),
            _Clock(),
            budget=budget,
            credits=30,
        )
    assert budget.spent == 0
    with pytest.raises(SubmissionUnknownError):
        _run(
            _Ops(None, [JobState.SUCCESS], submit_error=SubmissionUnknownError("?")),
            _Clock(),
            budget=budget,
            credits=30,
        )
    assert budget.spent == 30


@pytest.mark.parametrize("state", [JobState.FAILED, JobState.CANCELLED, JobState.PARTIAL])
def test_a_failed_job_is_marked_failed_so_the_next_run_submits_anew(tmp_path: Path, state: JobState) -> None:
    journal = JobJournal(tmp_path / "j.sqlite")
    outcome = _run(_Ops(journal, [state]), _Clock(), journal=journal)
    assert outcome.state is state and journal.pending_job("k") is None


def test_many_readers_open_one_new_journal_at_once(tmp_path: Path) -> None:
    import threading

    path, errors = tmp_path / "shared.sqlite", []

    def open_it(i: int) -> None:
        try:
            JobJournal(path).record(f"k-{i}", "job", "a.pdf")
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(JobJournal(path).entries()) == 12


def test_a_journal_of_0_1_0_gains_the_resubmission_count(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE jobs (key TEXT PRIMARY KEY, job_id TEXT NOT NULL, file_name TEXT, "
            "status TEXT NOT NULL, created REAL, updated REAL)"
        )
        db.execute("INSERT INTO jobs VALUES ('k', 'job-old', 'a.pdf', 'PENDING', 0, 0)")
    journal = JobJournal(path)
    assert journal.pending_job("k") == "job-old" and journal.resubmissions("k") == 0
