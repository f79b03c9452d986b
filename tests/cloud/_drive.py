"""Drive a :class:`JobRun` with a scripted adapter, the way the parse engine and the extraction
client drive it with theirs: each step's call made inside ``async with step``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from llama_index_cloudkit.cloud.errors import JobState
from llama_index_cloudkit.cloud.jobs import JobOutcome, JobRun


class ScriptedService(Protocol):
    async def submit(self) -> str: ...

    async def state(self, job_id: str) -> tuple[JobState, Mapping[str, Any]]: ...


async def run_job(service: ScriptedService, *, key: str, **options: Any) -> JobOutcome:
    """The job's outcome; errors of the run and of the service calls propagate."""
    run = JobRun(key, **options)
    async for step in run:
        async with step:
            if step.submits:
                step.answer(await service.submit())
            else:
                assert step.job_id is not None
                step.answer(await service.state(step.job_id))
    assert run.outcome is not None
    return run.outcome
