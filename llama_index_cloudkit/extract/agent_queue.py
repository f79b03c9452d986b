"""Queued extractions with a saved agent (v1 routes): submit many, collect results later.

| call | requests |
|---|---|
| queue | F1 -> E11 per file (journaled); results: E3 (+ E4 when done) |

Every queued job is journaled: queueing the same file again returns the same job. A job the
service lost is submitted again once, from the journal, when its results are asked for (the
old id then answers with ``resubmitted_as``).

Example:
    >>> client = ExtractClient(CloudKitSettings(api_key="llx-..."))  # doctest: +SKIP
    >>> [entry["job_id"] for entry in client.queue("terms", ["a.pdf"])]  # doctest: +SKIP
    ['exjob-...']
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from llama_index_cloudkit.cloud.errors import JobState, map_cloud_errors
from llama_index_cloudkit.cloud.jobs import JobOutcome
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import CloudKitError, ExtractionError, JobFailedError, JobLostError
from llama_index_cloudkit.extract.agents import AgentExtraction
from llama_index_cloudkit.extract.wire import ExtractInput

__all__ = ["QueuedExtraction"]

# The name these messages were always logged under (the code moved here from .cloud).
logger = logging.getLogger("llama_index_cloudkit.extract.cloud")


class QueuedExtraction(AgentExtraction):
    """Queue extractions of files with an agent, and read the queued jobs' results later.

    :class:`~llama_index_cloudkit.extract.cloud.ExtractClient` builds on it; the arguments are
    those of :class:`~llama_index_cloudkit.extract.client_base.ExtractClientBase`.

    Example:
        >>> client = ExtractClient(CloudKitSettings(api_key="llx-..."))  # doctest: +SKIP
        >>> client.job_results("terms", ["exjob-1"])  # doctest: +SKIP
        [{'job_id': 'exjob-1', 'status': 'PENDING'}]
    """

    async def _queue(
        self, session: CloudSession, agent: Any, file_paths: Sequence[str]
    ) -> list[dict[str, Any]]:
        info = await self._agent_of(session, agent)

        async def one(path: str) -> dict[str, Any]:
            source = ExtractInput.of(path, None)
            key = self._agent_key(info, source)
            journal = self.journal
            known = journal.pending_job(key) if journal is not None and self._reattach(info.config) else None
            if known is not None:
                return {"file": path, "job_id": known, "reattached": True}
            with map_cloud_errors("Queueing the extraction", file=path):
                job_id = await self._agent_job(session, info, source)
            if journal is not None:
                journal.record(key, job_id, source.label)  # before anyone polls it
            return {"file": path, "job_id": job_id}

        results = await asyncio.gather(*(one(p) for p in file_paths), return_exceptions=True)
        entries: list[dict[str, Any]] = []
        errors: list[CloudKitError] = []
        for path, result in zip(file_paths, results, strict=True):
            if isinstance(result, CloudKitError):
                errors.append(result)
                entries.append({"file": path, "error": str(result), "error_type": type(result).__name__})
            elif isinstance(result, BaseException):
                raise result
            else:
                entries.append(result)
        if errors and len(errors) == len(entries):
            raise errors[0]  # nothing was queued: the error is the answer
        return entries

    def queue(self, agent: Any, file_paths: Sequence[str]) -> list[dict[str, Any]]:
        """Queue extractions of files with an agent; one entry per file (``job_id`` or ``error``).

        Every queued job is journaled: queueing the same file again returns the same job.

        Raises:
            CloudKitError: no file could be queued (the first file's error).

        Example:
            >>> client.queue("terms", ["a.pdf", "b.pdf"])  # doctest: +SKIP
            [{'file': 'a.pdf', 'job_id': '...'}, {'file': 'b.pdf', 'job_id': '...'}]
        """
        return self._sync(lambda s: self._queue(s, agent, list(file_paths)))

    async def aqueue(self, agent: Any, file_paths: Sequence[str]) -> list[dict[str, Any]]:
        """:meth:`queue` in the running event loop."""
        return await self._async(lambda s: self._queue(s, agent, list(file_paths)))

    def _journaled(self, job_id: str) -> dict[str, Any] | None:
        journal = self.journal
        if journal is None:
            return None
        for row in journal.entries():
            if row["job_id"] == job_id and str(row["key"]).startswith("extract:"):
                return row
        return None

    async def _job_result(self, session: CloudSession, agent: Any, job_id: str) -> dict[str, Any]:
        """E3 (+ E4 when done); a job the service lost is submitted again once, from the journal."""
        row = self._journaled(job_id)
        label = str(row["file_name"]) if row else job_id
        ops = self._ops(session, _no_submit, label)
        try:
            state, body = await ops.state(job_id)
        except JobLostError as exc:
            return await self._resubmit_lost(session, agent, job_id, row, exc)
        status = str(body.get("status") or state.value).upper()
        if state is JobState.PENDING:
            return {"job_id": job_id, "status": status}
        key = str(row["key"]) if row else ""
        try:
            result = await self._finish(session, JobOutcome(job_id, state, body), key, label)
        except (JobFailedError, ExtractionError) as exc:
            return {"job_id": job_id, "status": status, "error": str(exc), "error_type": type(exc).__name__}
        entry = {"job_id": job_id, "status": status, "data": result.data}
        if result.usage:
            entry["usage"] = result.usage
        return entry

    async def _resubmit_lost(
        self,
        session: CloudSession,
        agent: Any,
        job_id: str,
        row: Mapping[str, Any] | None,
        lost: JobLostError,
    ) -> dict[str, Any]:
        journal = self.journal
        budget = self.policy.max_resubmissions
        if row is None or journal is None or int(row["resubmissions"]) >= budget:
            again = (
                "" if row is None else f" and it was already submitted again {row['resubmissions']} time(s)"
            )
            error = JobLostError(
                "LlamaCloud does not know this extraction job" + again,
                resubmissions=int(row["resubmissions"]) if row else 0,
                file=row["file_name"] if row else None,
                job_id=job_id,
                hint="Queue the file again" if row is None else None,
            )
            if row is not None and journal is not None:
                journal.mark(str(row["key"]), "LOST")
            return {"job_id": job_id, "status": "LOST", "error": str(error), "error_type": "JobLostError"}
        info = await self._agent_of(session, agent)
        source = ExtractInput.of(str(row["file_name"]), None)
        new_id = await self._agent_job(session, info, source)
        journal.record(str(row["key"]), new_id, source.label, resubmissions=int(row["resubmissions"]) + 1)
        journal.record(f"extract-alias:{job_id}", new_id, source.label)
        logger.warning("LlamaCloud lost job %s of %s; submitted it again as %s", job_id, source.label, new_id)
        entry = await self._job_result(session, agent, new_id)
        return {**entry, "job_id": job_id, "resubmitted_as": new_id}

    async def _results(
        self, session: CloudSession, agent: Any, job_ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        async def one(job_id: str) -> dict[str, Any]:
            alias = self.journal.pending_job(f"extract-alias:{job_id}") if self.journal else None
            if alias is not None:
                entry = await self._job_result(session, agent, alias)
                return {**entry, "job_id": job_id, "resubmitted_as": alias}
            return await self._job_result(session, agent, job_id)

        return list(await asyncio.gather(*(one(j) for j in job_ids)))

    def job_results(self, agent: Any, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Status of queued jobs (``PENDING``, ``SUCCESS`` with ``data``, or an ``error``).

        A job the service lost is submitted again once from the journal (``resubmitted_as``).

        Example:
            >>> client.job_results("terms", ["job-1"])  # doctest: +SKIP
            [{'job_id': 'job-1', 'status': 'SUCCESS', 'data': {...}}]
        """
        return self._sync(lambda s: self._results(s, agent, list(job_ids)))

    async def ajob_results(self, agent: Any, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        """:meth:`job_results` in the running event loop."""
        return await self._async(lambda s: self._results(s, agent, list(job_ids)))


async def _no_submit() -> str:
    raise RuntimeError("results never submit")  # pragma: no cover - never called
