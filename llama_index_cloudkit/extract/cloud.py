"""LlamaExtract over the cloud core: plain HTTP for the v1 extraction routes, loop-safe.

Every request goes through :class:`~llama_index_cloudkit.cloud.CloudSession` (one AsyncClient
per event loop, retries, typed errors) and every job through
:func:`~llama_index_cloudkit.cloud.run_job` (submit once, journal before polling, a deadline
that never restarts, one resubmission of a lost job). Routes, as numbered in the reference:

| call | requests |
|---|---|
| stateless extraction | E1 (once per schema) -> E2 (file as base64 + mime type, or text) -> E3... -> E4 |
| agent by name / id / list | E6 / E7 / E8 |
| agent extraction | F1 (``upload_file``) -> E11 -> E3... -> E4 |
| queue | F1 -> E11 per file (journaled); results: E3 (+ E4 when done) |

With ``settings.api_version == "v2"``, :meth:`ExtractClient.extract` goes to Extract v2
(:mod:`.cloud_v2`: a file upload, then ``POST /api/v2/extract``); config is then an Extract v2
configuration. Agents, queues and job results stay on the v1 routes (v2 has no agent routes).

Paid submissions (E2, E11) are never repeated when their outcome is unknown
(:class:`SubmissionUnknownError`); for E11 the agent's runs are listed (E12) first, and a run
made from our upload is re-attached instead. Jobs are journaled under a content key (sha256 of
schema, config, agent and input), so a re-run re-attaches instead of paying again.

The SDK is used for one thing only: checking an ExtractConfig's values before anything is sent.
Request and answer shapes (inputs, agents, content keys, usage) live in :mod:`.wire`.

Example:
    >>> client = ExtractClient(CloudKitSettings(api_key="llx-..."))  # doctest: +SKIP
    >>> client.extract(schema, {"extraction_mode": "FAST"}, text="Invoice 42 ...").data  # doctest: +SKIP
    {'number': '42'}
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from llama_index_cloudkit._imports import require
from llama_index_cloudkit._loop import run_sync
from llama_index_cloudkit.cloud.errors import JobState, job_state, map_cloud_errors
from llama_index_cloudkit.cloud.jobs import JobOutcome, raise_for_state, run_job
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import (
    CloudKitError,
    ConfigError,
    ExtractionError,
    JobFailedError,
    JobLostError,
    SchemaError,
    ServiceError,
    SubmissionUnknownError,
)
from llama_index_cloudkit.extract.wire import (
    MIME_TYPES,
    AgentInfo,
    ExtractInput,
    ExtractResult,
    agent_info,
    agent_summary,
    content_key,
    job_id_of,
    usage_of,
)
from llama_index_cloudkit.settings import CloudKitSettings, check_keywords

__all__ = [
    "MIME_TYPES",
    "AgentInfo",
    "ExtractClient",
    "ExtractResult",
    "agent_info",
    "check_config",
    "content_key",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_WHAT = "LlamaExtract job"
_RUNS = "/api/v1/extraction/runs"


def check_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """An ExtractConfig as a dict, its keys and values checked before anything is sent.

    Raises:
        ConfigError: an unknown key ("did you mean ...?") or a value LlamaExtract refuses.

    Example:
        >>> check_config({"extraction_mode": "FAST"})
        {'extraction_mode': 'FAST'}
    """
    model = require("llama_cloud.types", "core", package="llama-cloud").ExtractConfig
    check_keywords(config, model.__fields__, "ExtractConfig")
    try:
        model(**config)
    except ValueError as exc:  # pydantic.v1's ValidationError
        text = " ".join(str(exc).split())
        raise ConfigError(
            f"ExtractConfig refused: {text[:400]}", hint="Fix config=...; nothing was sent"
        ) from None
    return {str(k): getattr(v, "value", v) for k, v in config.items()}


class _Ops:
    """The job lifecycle's view of one extraction: submit once, read the job's state."""

    def __init__(self, session: CloudSession, submit: Callable[[], Awaitable[str]], label: str) -> None:
        self._session = session
        self._submit = submit
        self._label = label

    async def submit(self) -> str:
        return await self._submit()

    async def state(self, job_id: str) -> tuple[JobState, Mapping[str, Any]]:
        body = await self._session.json(
            "GET",
            f"/api/v1/extraction/jobs/{job_id}",
            what="Reading the extraction job's status",
            file=self._label,
            job_id=job_id,
            lost_on_404=True,
        )
        return job_state(body.get("status")), body


class ExtractClient:
    """LlamaExtract calls with our settings, our transport, our journal and our errors.

    Each public coroutine opens its own :class:`CloudSession` in the running loop; each sync
    method runs the coroutine on a fresh loop (safe inside a running one). No client outlives
    its loop, so calls from any number of event loops and threads work.

    Args:
        settings: key, endpoint, project and organization.
        policy: retries, timeouts, job deadline and polling (default: :class:`CloudPolicy`).
        journal: where job ids are written before polling (default: ``journal.sqlite`` in the
            cache directory; None disables re-attaching).
        transport: the HTTP transport under the core's resilient one (tests:
            ``httpx.MockTransport``); default: a real connection pool per event loop.

    Example:
        >>> client = ExtractClient(CloudKitSettings(api_key="llx-..."))  # doctest: +SKIP
        >>> client.list_agents()  # doctest: +SKIP
        [{'name': 'terms', 'id': 'agent-...', 'fields': ['days']}]
    """

    def __init__(
        self,
        settings: CloudKitSettings,
        policy: CloudPolicy | None = None,
        *,
        journal: JobJournal | str | None = "default",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        settings.require_key()
        self.settings = settings
        self._transport = transport
        self.policy = policy or CloudPolicy()
        self._journal_choice = journal
        self._journal: JobJournal | None = None
        self._validated: dict[str, dict[str, Any]] = {}
        self._project_id: str | None = settings.project_id
        self._v2: Any = None  # the Extract v2 client, when settings.api_version == "v2"

    # --- plumbing ------------------------------------------------------------------------------

    @property
    def journal(self) -> JobJournal | None:
        """The job journal (created on first use)."""
        if self._journal_choice == "default":
            if self._journal is None:
                self._journal = JobJournal(self.settings.cache_path("journal.sqlite"))
            return self._journal
        return self._journal_choice if isinstance(self._journal_choice, JobJournal) else None

    def _sync(self, work: Callable[[CloudSession], Awaitable[T]]) -> T:
        return run_sync(lambda: self._async(work))  # a fresh loop, safe inside a running one

    async def _async(self, work: Callable[[CloudSession], Awaitable[T]]) -> T:
        async with CloudSession(self.settings, self.policy, inner=self._transport) as session:
            return await work(session)

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
        memo = json.dumps(schema, sort_keys=True)
        if memo not in self._validated:
            try:
                body = await session.json(
                    "POST",
                    "/api/v1/extraction/extraction-agents/schema/validation",
                    what="Validating the extraction schema",
                    idempotent=True,  # read-only: nothing is created or billed
                    json={"data_schema": schema},
                )
            except ConfigError as exc:
                raise SchemaError(
                    [exc.message], hint="LlamaExtract rejected the schema; nothing was extracted"
                ) from exc
            answer = body.get("data_schema")
            self._validated[memo] = answer if isinstance(answer, dict) and answer else schema
        return self._validated[memo]

    def _reattach(self, config: Mapping[str, Any]) -> bool:
        return not bool(config.get("invalidate_cache"))

    async def _finish(
        self, session: CloudSession, outcome: JobOutcome, key: str, label: str
    ) -> ExtractResult:
        """E4 for a finished job; a failed job or a run without data is a typed error."""
        raise_for_state(outcome, what=_WHAT, file=label)
        try:
            run = await session.json(
                "GET",
                f"{_RUNS}/by-job/{outcome.job_id}",
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
                f"The {_WHAT} did not succeed: {run.get('error') or 'no message'}",
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

    def _mark(self, key: str, status: str) -> None:
        if self.journal is not None:
            self.journal.mark(key, status)

    # --- stateless extraction ------------------------------------------------------------------

    async def _extract(
        self,
        session: CloudSession,
        schema: dict[str, Any],
        config: Mapping[str, Any],
        source: ExtractInput,
    ) -> ExtractResult:
        if self.settings.api_version == "v2":  # Extract v2: same call, the v2 routes
            from llama_index_cloudkit.extract.cloud_v2 import ExtractV2Client

            if self._v2 is None:
                self._v2 = ExtractV2Client(self.settings, self.policy, journal=self.journal)
            return await self._v2.extract_in_session(session, schema, config, source)
        body: dict[str, Any] = {"config": dict(config)}
        if source.is_text:
            body["text"] = source.data.decode()
        else:
            body["file"] = {"data": base64.b64encode(source.data).decode(), "mime_type": source.mime_type()}
        key = content_key("stateless", schema, config, source.data)
        file = source.label

        async def submit() -> str:
            body["data_schema"] = await self._validated_schema(session, schema)
            answer = await session.json(
                "POST",
                "/api/v1/extraction/run",
                what="Submitting the extraction",
                file=file,
                idempotent=False,  # paid: never repeated blindly
                rate_limited=True,
                json=body,
                params=await self._params(session),
            )
            return job_id_of(answer, "Submitting the extraction", source.label)

        with map_cloud_errors("Extraction", file=source.label):  # every error names the input
            outcome = await run_job(
                _Ops(session, submit, source.label),
                key=key,
                label=source.label,
                policy=self.policy,
                journal=self.journal,
                reattach=self._reattach(config),
                what=_WHAT,
            )
            return await self._finish(session, outcome, key, source.label)

    def extract(
        self,
        schema: dict[str, Any],
        config: Mapping[str, Any],
        *,
        file_path: str | os.PathLike[str] | None = None,
        text: str | None = None,
    ) -> ExtractResult:
        """Stateless extraction of a file or a text with a JSON schema and an ExtractConfig dict.

        Example:
            >>> client.extract({"type": "object", "properties": {}}, {}, text="x")  # doctest: +SKIP
        """
        source = ExtractInput.of(file_path, text)
        return self._sync(lambda s: self._extract(s, schema, config, source))

    async def aextract(
        self,
        schema: dict[str, Any],
        config: Mapping[str, Any],
        *,
        file_path: str | os.PathLike[str] | None = None,
        text: str | None = None,
    ) -> ExtractResult:
        """:meth:`extract` in the running event loop."""
        source = ExtractInput.of(file_path, text)
        return await self._async(lambda s: self._extract(s, schema, config, source))

    # --- agents --------------------------------------------------------------------------------

    async def _agent(self, session: CloudSession, name_or_id: str) -> AgentInfo:
        by_id = bool(_ID.search(name_or_id))
        path = "/api/v1/extraction/extraction-agents/" + (name_or_id if by_id else f"by-name/{name_or_id}")
        params = {} if by_id else await self._params(session)
        try:
            body = await session.json(
                "GET", path, what=f"Looking up extraction agent {name_or_id!r}", params=params
            )
        except CloudKitError as exc:
            if getattr(exc, "status_code", None) != 404:
                raise
            known = [a.name for a in await self._agents(session)]
            raise ConfigError(
                f"No extraction agent named {name_or_id!r}",
                hint=("Known agents: " + ", ".join(known))
                if known
                else "The project has no extraction agents",
            ) from None
        return agent_info(body)

    async def _agents(self, session: CloudSession) -> list[AgentInfo]:
        bodies = await session.json_list(
            "GET",
            "/api/v1/extraction/extraction-agents",
            what="Listing extraction agents",
            params=await self._params(session),
        )
        return [agent_info(b) for b in bodies if isinstance(b, Mapping)]

    def agent(self, name_or_id: str) -> AgentInfo:
        """The extraction agent with this name (or id).

        Raises:
            ConfigError: no such agent (the message lists the known ones).

        Example:
            >>> client.agent("terms").id  # doctest: +SKIP
            'agent-...'
        """
        return self._sync(lambda s: self._agent(s, name_or_id))

    async def aagent(self, name_or_id: str) -> AgentInfo:
        """:meth:`agent` in the running event loop."""
        return await self._async(lambda s: self._agent(s, name_or_id))

    def list_agents(self) -> list[dict[str, Any]]:
        """Every agent of the project: name, id and field names."""
        return [agent_summary(a) for a in self._sync(self._agents)]

    async def alist_agents(self) -> list[dict[str, Any]]:
        """:meth:`list_agents` in the running event loop."""
        return [agent_summary(a) for a in await self._async(self._agents)]

    async def _upload(self, session: CloudSession, source: ExtractInput) -> str:
        """F1: one file, multipart part ``upload_file``; returns the file id.

        An upload is free and creates nothing billable, so it is retried like a read.
        """
        params = await self._params(session)
        params["external_file_id"] = source.file_name if source.is_text else source.label
        body = await session.json(
            "POST",
            "/api/v1/files",
            what="Uploading the file for extraction",
            file=source.label,
            idempotent=True,
            files={"upload_file": (source.file_name, source.data)},
            params=params,
        )
        file_id = body.get("id")
        if not isinstance(file_id, str) or not file_id:
            raise ServiceError("The upload was answered without a file id", file=source.label)
        return file_id

    async def _agent_job(self, session: CloudSession, agent: AgentInfo, source: ExtractInput) -> str:
        """F1 + E11: submit one agent extraction; an unknown outcome is looked up (E12) first."""
        file_id = await self._upload(session, source)
        file = source.label
        try:
            answer = await session.json(
                "POST",
                "/api/v1/extraction/jobs",
                what=f"Submitting the extraction with agent {agent.name!r}",
                file=file,
                idempotent=False,  # paid: never repeated blindly
                rate_limited=True,
                json={
                    "extraction_agent_id": agent.id,
                    "file_id": file_id,
                    "config_override": agent.config,
                    "data_schema_override": agent.data_schema,
                },
            )
        except SubmissionUnknownError:
            found = await self._job_for_file(session, agent, file_id)
            if found is None:
                raise
            logger.info("the lost answer's job %s was found among the agent's runs", found)
            return found
        return job_id_of(answer, "Submitting the extraction", source.label)

    async def _job_for_file(self, session: CloudSession, agent: AgentInfo, file_id: str) -> str | None:
        """The job an agent made from ``file_id``, if the service has one (E12)."""
        try:
            page = await session.json(
                "GET",
                _RUNS,
                what="Looking for the submitted extraction",
                params={"extraction_agent_id": agent.id, "skip": 0, "limit": 100},
            )
        except CloudKitError:
            return None
        for run in page.get("items") or []:
            if isinstance(run, Mapping) and run.get("file_id") == file_id and run.get("job_id"):
                return str(run["job_id"])
        return None

    def _agent_key(self, agent: AgentInfo, source: ExtractInput) -> str:
        return content_key(f"agent:{agent.id}", agent.data_schema, agent.config, source.data)

    async def _extract_with_agent(
        self, session: CloudSession, agent: AgentInfo, source: ExtractInput
    ) -> ExtractResult:
        key = self._agent_key(agent, source)
        with map_cloud_errors("Extraction", file=source.label):  # every error names the input
            outcome = await run_job(
                _Ops(session, lambda: self._agent_job(session, agent, source), source.label),
                key=key,
                label=source.label,
                policy=self.policy,
                journal=self.journal,
                reattach=self._reattach(agent.config),
                what=_WHAT,
            )
            return await self._finish(session, outcome, key, source.label)

    def extract_with_agent(
        self, agent: Any, *, file_path: str | os.PathLike[str] | None = None, text: str | None = None
    ) -> ExtractResult:
        """Extraction with a saved agent (an AgentInfo, an SDK ExtractionAgent, or a name).

        Example:
            >>> client.extract_with_agent("terms", text="Returns within 30 days").data  # doctest: +SKIP
            {'refund_window_days': 30}
        """
        source = ExtractInput.of(file_path, text)
        return self._sync(lambda s: self._with_agent(s, agent, source))

    async def aextract_with_agent(
        self, agent: Any, *, file_path: str | os.PathLike[str] | None = None, text: str | None = None
    ) -> ExtractResult:
        """:meth:`extract_with_agent` in the running event loop."""
        source = ExtractInput.of(file_path, text)
        return await self._async(lambda s: self._with_agent(s, agent, source))

    async def _with_agent(self, session: CloudSession, agent: Any, source: ExtractInput) -> ExtractResult:
        info = await self._agent(session, agent) if isinstance(agent, str) else agent_info(agent)
        return await self._extract_with_agent(session, info, source)

    # --- queue ---------------------------------------------------------------------------------

    async def _queue(
        self, session: CloudSession, agent: Any, file_paths: Sequence[str]
    ) -> list[dict[str, Any]]:
        info = await self._agent(session, agent) if isinstance(agent, str) else agent_info(agent)

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
        ops = _Ops(session, _no_submit, label)
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
        info = await self._agent(session, agent) if isinstance(agent, str) else agent_info(agent)
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
