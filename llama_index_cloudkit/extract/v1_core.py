"""What every Extract v1 call needs: the project's parameters, the job's polls, its result.

The v1 routes (reference/llamacloud-api.md) name the project with ``project_id`` /
``organization_id`` query parameters; a project given by name is looked up once per client.
A job is polled at E3 (``GET /api/v1/extraction/jobs/{id}``) and its result read at E4
(``GET /api/v1/extraction/runs/by-job/{id}``); a failed job or a run without data is a typed
error, and the journal is marked so a re-run knows what became of it.

Example:
    >>> client = ExtractClient(CloudKitSettings(api_key="llx-...", project_name="docs"))  # doctest: +SKIP
    >>> client.extract(schema, {}, text="Invoice 42").job_id  # doctest: +SKIP
    'exjob-...'
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from llama_index_cloudkit.cloud.errors import map_cloud_errors
from llama_index_cloudkit.cloud.jobs import JobOutcome, raise_for_state
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import (
    ConfigError,
    ExtractionError,
    JobFailedError,
    JobLostError,
    ServiceError,
)
from llama_index_cloudkit.extract.client_base import ExtractClientBase, ExtractJobOps
from llama_index_cloudkit.extract.wire import ExtractResult, usage_of

__all__ = ["RUNS", "ExtractV1Core"]

RUNS = "/api/v1/extraction/runs"


class ExtractV1Core(ExtractClientBase[dict[str, Any]]):
    """The Extract v1 client's core: project parameters, job polls (E3) and results (E4).

    :class:`~llama_index_cloudkit.extract.cloud.ExtractClient` builds on it; the arguments are
    those of :class:`~llama_index_cloudkit.extract.client_base.ExtractClientBase`.

    Example:
        >>> client = ExtractClient(CloudKitSettings(api_key="llx-..."))  # doctest: +SKIP
        >>> client.list_agents()  # doctest: +SKIP
        [{'name': 'terms', 'id': 'agent-...', 'fields': ['days']}]
    """

    async def _params(self, session: CloudSession) -> dict[str, str]:
        """``project_id`` / ``organization_id``; a project given by name is looked up once."""
        if self._project_id is None and self.settings.project_name not in ("", "Default"):
            query = {"project_name": self.settings.project_name}
            if self.settings.organization_id:
                query = {"organization_id": self.settings.organization_id, **query}
            projects = await session.json_list(
                "GET", "/api/v1/projects", what="Looking up the LlamaCloud project", params=query
            )
            if len(projects) != 1:
                raise ConfigError(
                    f"{len(projects)} LlamaCloud projects are named {self.settings.project_name!r}",
                    hint="Pass project_id=... (or LLAMA_CLOUD_PROJECT_ID) instead of project_name",
                )
            found = projects[0].get("id") if isinstance(projects[0], dict) else None
            if not found:
                raise ServiceError("Looking up the LlamaCloud project got an answer without an id")
            self._project_id = str(found)
        params = {}
        if self._project_id:
            params["project_id"] = self._project_id
        if self.settings.organization_id:
            params["organization_id"] = self.settings.organization_id
        return params

    async def _validated_schema(self, session: CloudSession, schema: dict[str, Any]) -> dict[str, Any]:
        """E1, once per schema and client: LlamaExtract's own check; its answer is what E2 sends."""
        return await self._checked_schema(
            session,
            schema,
            path="/api/v1/extraction/extraction-agents/schema/validation",
            service="LlamaExtract",
        )

    def _ops(self, session: CloudSession, submit: Callable[[], Awaitable[str]], label: str) -> ExtractJobOps:
        """The job lifecycle's view of one v1 extraction: E3 reads its state."""
        return ExtractJobOps(
            session,
            submit,
            label,
            status_path=lambda job_id: f"/api/v1/extraction/jobs/{job_id}",
            what="Reading the extraction job's status",
        )

    def _reattach(self, config: Mapping[str, Any]) -> bool:
        return not bool(config.get("invalidate_cache"))

    async def _extract_job(
        self,
        session: CloudSession,
        submit: Callable[[], Awaitable[str]],
        *,
        key: str,
        label: str,
        reattach: bool,
    ) -> ExtractResult:
        """One v1 extraction job: submitted once, journaled, polled, its result read (E4)."""
        with map_cloud_errors("Extraction", file=label):  # every error names the input
            outcome = await self._run(
                self._ops(session, submit, label), key=key, label=label, reattach=reattach
            )
            return await self._finish(session, outcome, key, label)

    async def _finish(
        self, session: CloudSession, outcome: JobOutcome, key: str, label: str
    ) -> ExtractResult:
        """E4 for a finished job; a failed job or a run without data is a typed error."""
        raise_for_state(outcome, what=self._what, file=label)
        try:
            run = await session.json(
                "GET",
                f"{RUNS}/by-job/{outcome.job_id}",
                what="Reading the extraction result",
                file=label,
                job_id=outcome.job_id,
                lost_on_404=True,
                params=await self._params(session),
            )
        except JobLostError:
            self._mark(key, "LOST")  # a re-run submits again instead of re-attaching to nothing
            raise
        status = str(run.get("status") or "").upper()
        if status == "ERROR":
            self._mark(key, "FAILED")
            raise JobFailedError(
                f"The {self._what} did not succeed: {run.get('error') or 'no message'}",
                status=status,
                file=label,
                job_id=outcome.job_id,
            )
        if run.get("data") is None:
            self._mark(key, "FAILED")
            raise ExtractionError(
                "LlamaExtract returned no data",
                file=label,
                job_id=outcome.job_id,
                hint="Check the schema's descriptions and the document; run again to retry",
            )
        self._mark(key, "SUCCESS")
        metadata = run.get("extraction_metadata")
        return ExtractResult(
            data=run["data"],
            metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
            job_id=outcome.job_id,
            run_id=run.get("id"),
            reattached=outcome.reattached,
            usage=usage_of(run),
        )
