"""The core's promises in milliseconds: shared work under cancellation, claims, deadlines, polling."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from llama_index_cloudkit.cloud.deadline import Deadline, deadline_scope
from llama_index_cloudkit.cloud.errors import JobState
from llama_index_cloudkit.cloud.inflight import InFlight, work_scope
from llama_index_cloudkit.cloud.jobs import JobRun
from llama_index_cloudkit.cloud.journal import JobJournal, claim_owner
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.transport import ResilientTransport, RetryPolicy
from llama_index_cloudkit.errors import DeadlineExceededError, JobTimeoutError

from ._drive import run_job


def test_cancelling_the_owner_cancels_only_the_owner() -> None:
    registry, runs = InFlight(), []

    async def work() -> str:
        runs.append(1)
        await asyncio.sleep(0.2)
        return "result"

    async def main() -> tuple[str, bool]:
        owner = asyncio.ensure_future(registry.share("k", work))
        await asyncio.sleep(0.01)
        waiter = asyncio.ensure_future(registry.share("k", work))
        await asyncio.sleep(0.01)
        owner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await owner
        return await waiter

    assert asyncio.run(main()) == ("result", False) and runs == [1]


def test_a_waiter_whose_owner_was_stopped_takes_the_work_over() -> None:
    """The owner's scope (its HTTP client) ends with the work unfinished: the waiter, in another
    thread and loop, runs the work itself instead of seeing CancelledError."""
    registry, runs = InFlight(), []
    started, stopped = threading.Event(), threading.Event()

    async def work() -> str:
        runs.append(threading.current_thread().name)
        await asyncio.sleep(0.3)
        return "result"

    async def owner() -> None:
        async with work_scope():
            task = asyncio.ensure_future(registry.share("k", work))
            await asyncio.sleep(0.05)
            started.set()
            await asyncio.sleep(0.05)
            task.cancel()  # the owner leaves; its scope ends under the work
        stopped.set()

    thread = threading.Thread(target=lambda: asyncio.run(owner()), name="owner")
    thread.start()
    started.wait(5)
    assert asyncio.run(registry.share("k", work)) == ("result", True)
    thread.join(5)
    assert stopped.is_set() and len(runs) == 2 and len(registry) == 0


def _owner_thread(
    registry: InFlight, work: Callable[[], Awaitable[str]], closed: dict[str, bool]
) -> threading.Thread:
    """A thread whose event loop starts ``work`` for key "k" and leaves it (its scope ends)."""

    async def owner() -> None:
        async with work_scope():
            task = asyncio.ensure_future(registry.share("k", work))
            await asyncio.sleep(0.05)
            task.cancel()
        closed["scope"] = True  # what the work used (an HTTP client) is gone now

    thread = threading.Thread(target=lambda: asyncio.run(owner()), name="owner")
    thread.start()
    return thread


def test_a_lost_cancellation_is_repeated_before_the_scope_ends() -> None:
    """Python 3.11's ``asyncio.wait_for`` loses a cancellation that arrives as its answer does:
    the scope cancels the work again, so it stops while what it uses is still open."""
    registry, closed, stopped_while_open = InFlight(), {"scope": False}, []
    started = threading.Event()

    async def work() -> str:
        if threading.current_thread().name != "owner":
            return "result"
        started.set()
        with contextlib.suppress(asyncio.CancelledError):  # the lost cancellation
            await asyncio.sleep(5)
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            stopped_while_open.append(not closed["scope"])
            raise
        return "stale"

    thread = _owner_thread(registry, work, closed)
    started.wait(5)
    thread.join(10)
    assert stopped_while_open == [True] and len(registry) == 0


def test_work_that_outlives_its_scope_is_taken_over_not_handed_its_error() -> None:
    """Work that will not stop fails once its scope ended (its client is closed); a waiter takes
    the work over instead of getting that error."""
    registry, closed, runs = InFlight(), {"scope": False}, []
    started = threading.Event()

    async def work() -> str:
        runs.append(threading.current_thread().name)
        if threading.current_thread().name != "owner":
            await asyncio.sleep(0.05)
            return "result"
        started.set()
        while not closed["scope"]:  # deaf to every cancellation
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.05)
        raise RuntimeError("the client of this work was closed")

    thread = _owner_thread(registry, work, closed)
    started.wait(5)
    assert asyncio.run(registry.share("k", work)) == ("result", True)
    thread.join(10)
    assert runs == ["owner", "MainThread"] and len(registry) == 0


def test_a_real_error_reaches_every_caller_and_is_not_kept() -> None:
    registry, runs = InFlight(), []

    async def failing() -> str:
        runs.append(1)
        await asyncio.sleep(0.05)
        raise ValueError("the service said no")

    async def main() -> list[Any]:
        return await asyncio.gather(*(registry.share("k", failing) for _ in range(3)), return_exceptions=True)

    assert [type(e) for e in asyncio.run(main())] == [ValueError] * 3 and runs == [1]
    assert len(registry) == 0  # the next call tries again


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def test_a_claim_of_a_live_owner_waits_and_a_dead_owners_claim_is_taken_over(tmp_path: Path) -> None:
    journal = JobJournal(tmp_path / "journal.sqlite")
    live = claim_owner()
    assert journal.claim("k", "a.pdf", live).action == "submit"
    assert journal.claim("k", "a.pdf", claim_owner()).action == "wait"  # another thread of this process
    host, _, _, token = live.split("|")
    dead = f"{host}|{_dead_pid()}||{token}"
    assert journal.claim("k2", "b.pdf", dead).action == "submit"
    assert journal.claim("k2", "b.pdf", claim_owner()).action == "submit"  # the owner is gone


def test_a_claim_released_after_a_failed_submission_lets_a_waiter_submit(tmp_path: Path) -> None:
    journal = JobJournal(tmp_path / "journal.sqlite")
    first, second = claim_owner(), claim_owner()
    journal.claim("k", "a.pdf", first)
    journal.release("k", first)
    assert journal.claim("k", "a.pdf", second).action == "submit"


def test_a_journal_of_another_process_is_shared_through_claims(tmp_path: Path) -> None:
    """A process holds the claim (it is alive): ours waits, then re-attaches to its job id."""
    path = tmp_path / "journal.sqlite"
    script = (
        "import sys, time; from pathlib import Path\n"
        "from llama_index_cloudkit.cloud.journal import JobJournal, claim_owner\n"
        f"j = JobJournal(Path({str(path)!r})); j.claim('k', 'a.pdf', claim_owner())\n"
        "print('claimed', flush=True); time.sleep(0.5); j.record('k', 'job-of-the-other', 'a.pdf')\n"
    )
    other = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert other.stdout is not None and other.stdout.readline().strip() == "claimed"

    class Ops:
        submitted = 0

        async def submit(self) -> str:
            Ops.submitted += 1
            return "job-of-ours"

        async def state(self, job_id: str) -> tuple[JobState, Mapping[str, Any]]:
            return JobState.SUCCESS, {"job": job_id}

    policy = CloudPolicy(job_timeout=30, poll_interval=0.1)
    outcome = asyncio.run(run_job(Ops(), key="k", label="a.pdf", policy=policy, journal=JobJournal(path)))
    other.wait(10)
    assert outcome.job_id == "job-of-the-other" and outcome.reattached and Ops.submitted == 0


def test_the_first_polls_are_prompt() -> None:
    """A one-second job is seen done soon after it is: the first waits are short."""
    waits: list[float] = []

    class Ops:
        async def submit(self) -> str:
            return "job"

        async def state(self, job_id: str) -> tuple[JobState, Mapping[str, Any]]:
            done = sum(waits) >= 1.0
            return (JobState.SUCCESS if done else JobState.PENDING), {}

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    asyncio.run(run_job(Ops(), key="k", label="a.pdf", policy=CloudPolicy(), sleep=sleep))
    assert waits[0] <= 0.1 and sum(waits) < 1.3  # seen done within 0.3 s of finishing


def test_a_retry_after_past_the_deadline_fails_at_once() -> None:
    calls: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503, headers={"Retry-After": "30"}, json={"detail": "busy"})

    transport = ResilientTransport(RetryPolicy(max_backoff=60), inner=httpx.MockTransport(answer))

    async def main() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://cloud.test") as client:
            with deadline_scope(Deadline(2)):
                await client.get("/api/parsing/job/1")

    with pytest.raises(DeadlineExceededError) as info:
        asyncio.run(asyncio.wait_for(main(), 10))
    assert isinstance(info.value, JobTimeoutError) and info.value.retry_after == 30 and calls == [1]


def test_no_process_is_left_holding_a_claim_after_an_interrupted_submission(tmp_path: Path) -> None:
    """A submission interrupted (Ctrl-C, cancellation) releases its claim: the journal is clean."""
    journal = JobJournal(tmp_path / "journal.sqlite")

    class Ops:
        async def submit(self) -> str:
            raise KeyboardInterrupt

        async def state(self, job_id: str) -> tuple[JobState, Mapping[str, Any]]:
            raise AssertionError("never polled")

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(run_job(Ops(), key="k", label="a.pdf", policy=CloudPolicy(), journal=journal))
    assert journal.entries() == []


def test_a_run_left_before_its_submission_leaves_no_claim(tmp_path: Path) -> None:
    """A caller that stops iterating a JobRun before making its submission step leaves the key
    free for others (no claim held until the process ends)."""
    journal = JobJournal(tmp_path / "journal.sqlite")

    async def leave() -> bool:
        steps = aiter(JobRun("k", label="a.pdf", policy=CloudPolicy(), journal=journal))
        step = await anext(steps)
        await steps.aclose()  # type: ignore[attr-defined]
        return step.submits

    assert asyncio.run(leave()) is True
    assert journal.entries() == []


def test_a_step_made_outside_async_with_is_refused(tmp_path: Path) -> None:
    async def misuse() -> None:
        async for step in JobRun("k", label="a.pdf", policy=CloudPolicy()):
            step.answer("job-1")

    with pytest.raises(RuntimeError, match="async with step"):
        asyncio.run(misuse())
