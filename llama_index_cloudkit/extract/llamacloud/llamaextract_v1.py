"""LlamaExtract v1 over the cloud core: stateless extraction, saved agents and their queue.

Every request goes through :class:`~llama_index_cloudkit.cloud.CloudSession` (one AsyncClient
per event loop, retries, typed errors) and every job through
:class:`~llama_index_cloudkit.cloud.JobRun` (submit once, journal before polling, a deadline
that never restarts, one resubmission of a lost job). Routes, as numbered in the reference
(reference/llamacloud-api.md):

| call | requests |
|---|---|
| stateless extraction | E1 (once per schema) -> E2 (file as base64 + mime type, or text) -> E3... -> E4 |
| agent by name / id / list | E6 / E7 / E8 |
| agent extraction | F1 (``upload_file``) -> E11 -> E3... -> E4 |
| queue | F1 -> E11 per file (journaled); results: E3 (+ E4 when done) |

The v1 routes name the project with ``project_id`` / ``organization_id`` query parameters; a
project given by name is looked up once per adapter. Paid submissions (E2, E11) are never
repeated when their outcome is unknown (:class:`~llama_index_cloudkit.errors.SubmissionUnknownError`);
for E11 the agent's runs are listed (E12) first, and a run made from our upload is re-attached
instead. Jobs are journaled under a content key (sha256 of schema, config, agent and input), so
a re-run re-attaches instead of paying again. Every queued job is journaled: queueing the same
file again returns the same job; a job the service lost is submitted again once, from the
journal, when its results are asked for (the old id then answers with ``resubmitted_as``).

The SDK is used for one thing only: checking an ExtractConfig's values before anything is sent.

Example:
    >>> from llama_index_cloudkit.settings import CloudKitSettings
    >>> LlamaExtractV1(CloudKitSettings(api_key="llx-test")).policy.max_resubmissions
    1
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from llama_index_cloudkit._imports import require
from llama_index_cloudkit.cloud.errors import JobState, checked_answer, map_cloud_errors
from llama_index_cloudkit.cloud.jobs import JobOutcome, raise_for_state, submit_once
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import (
    CloudKitError,
    ConfigError,
    ExtractionError,
    JobFailedError,
    JobLostError,
    ServiceError,
    SubmissionUnknownError,
    UnsupportedFileError,
)
from llama_index_cloudkit.extract.llamacloud._client import (
    ExtractInput,
    ExtractJobOps,
    ServiceClient,
    content_key,
)
from llama_index_cloudkit.extract.llamacloud.answers import V1Run
from llama_index_cloudkit.extract.model import ExtractResult, SavedExtraction
from llama_index_cloudkit.settings import CloudKitSettings, check_keywords

__all__ = ["MIME_TYPES", "LlamaExtractV1", "agent_info", "usage_of"]

logger = logging.getLogger(__name__)

RUNS = "/api/v1/extraction/runs"
AGENTS = "/api/v1/extraction/extraction-agents"
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)

# What stateless LlamaExtract accepts inline (the SDK's own map).
MIME_TYPES = {
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".json": "application/json",
    ".html": "text/html",
    ".htm": "text/html",
    ".md": "text/markdown",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


def _plain(value: Any) -> Any:
    """An SDK model, enum or mapping as plain JSON-ready data."""
    for method in ("model_dump", "dict"):
        dump = getattr(value, method, None)
        if callable(dump) and not isinstance(value, dict):
            try:
                return _plain(dump(exclude_unset=True))
            except TypeError:
                return _plain(dump())
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return getattr(value, "value", value)


def agent_info(agent: Any) -> SavedExtraction:
    """A saved agent from an SDK ExtractionAgent, an ExtractAgent body or a dict.

    Raises:
        ConfigError: the object has no agent id.

    Example:
        >>> agent_info({"id": "agent-1", "name": "terms", "data_schema": {}, "config": {}}).id
        'agent-1'
    """
    if isinstance(agent, SavedExtraction):
        return agent

    def read(name: str) -> Any:
        return agent.get(name) if isinstance(agent, Mapping) else getattr(agent, name, None)

    agent_id = read("id")
    if not agent_id:
        raise ConfigError(
            f"{type(agent).__name__} is not an extraction agent (it has no id)",
            hint="Pass an ExtractionAgent, an agent's name, or schema=...",
        )
    schema = _plain(read("data_schema") or {})
    config = _plain(read("config") or {})
    return SavedExtraction(str(agent_id), str(read("name") or agent_id), dict(schema), dict(config))


def _summary(agent: SavedExtraction) -> dict[str, Any]:
    """An agent as the LLM sees it in a listing: name, id, field names."""
    fields = agent.data_schema.get("properties", {}) if isinstance(agent.data_schema, dict) else {}
    return {"name": agent.name, "id": agent.id, "fields": sorted(fields)}


def _mime_type(source: ExtractInput) -> str:
    """The mime type stateless LlamaExtract needs (UnsupportedFileError for other suffixes)."""
    suffix = Path(source.file_name).suffix.lower()
    if suffix not in MIME_TYPES:
        raise UnsupportedFileError(
            f"LlamaExtract does not read {suffix or 'files without a suffix'} inline",
            file=source.label,
            hint="Supported: " + ", ".join(sorted(s[1:] for s in MIME_TYPES)),
        )
    return MIME_TYPES[suffix]


def _job_id_of(body: Mapping[str, Any], what: str, label: str) -> str:
    """The job id of a submission's answer; an answer without one is a ServiceError."""
    job_id = body.get("id")
    if not isinstance(job_id, str) or not job_id:
        raise ServiceError(f"{what} got an answer without a job id", file=label)
    return job_id


def usage_of(run: Mapping[str, Any]) -> dict[str, Any] | None:
    """Usage and credits the service reported for a run (``usage`` merged with credit fields).

    Example:
        >>> usage_of({"extraction_metadata": {"usage": {"num_pages_extracted": 2}}, "credits": 3})
        {'num_pages_extracted': 2, 'credits': 3}
    """
    metadata = run.get("extraction_metadata")
    sources = [run, metadata] if isinstance(metadata, Mapping) else [run]
    found: dict[str, Any] = {}
    for source in sources:
        usage = source.get("usage")
        if isinstance(usage, Mapping):
            found.update(usage)
    for source in sources:
        for key in ("credits", "credits_used", "num_pages_extracted"):
            if source.get(key) is not None:
                found[key] = source[key]
    return found or None


def _reattach(config: Mapping[str, Any]) -> bool:
    return not bool(config.get("invalidate_cache"))


def _agent_key(agent: SavedExtraction, source: ExtractInput) -> str:
    return content_key(f"agent:{agent.id}", agent.data_schema, agent.config, source.data)


async def _no_submit() -> str:
    raise RuntimeError("results never submit")  # pragma: no cover - never called


class LlamaExtractV1:
    """LlamaExtract v1 with our settings, transport, journal and errors (see the module).

    Each public coroutine opens its own :class:`CloudSession` in the running loop; each sync
    method runs the coroutine on a fresh loop (safe inside a running one). No client outlives
    its loop, so calls from any number of event loops and threads work.

    Args:
        settings: key, endpoint, project and organization.
        policy: retries, timeouts, job deadline and polling (default: :class:`CloudPolicy`).
        journal: where job ids are written before polling (``"default"``: ``journal.sqlite`` in
            the cache directory; None disables re-attaching).
        transport: the HTTP transport under the core's resilient one (tests:
            ``httpx.MockTransport``); default: a real connection pool per event loop.

    Example:
        >>> from llama_index_cloudkit.settings import CloudKitSettings
        >>> service = LlamaExtractV1(CloudKitSettings(api_key="llx-test"))
        >>> service.check_config({"extraction_mode": "FAST"})
        {'extraction_mode': 'FAST'}
    """

    def __init__(
        self,
        settings: CloudKitSettings,
        policy: CloudPolicy | None = None,
        *,
        journal: JobJournal | str | None = "default",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = ServiceClient(
            settings, policy, journal=journal, transport=transport, what="LlamaExtract job"
        )
        self.settings = settings
        self.policy = self._client.policy
        self._project_id: str | None = settings.project_id  # a project name is looked up once

    @staticmethod
    def check_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
        """An ExtractConfig as a dict, its keys and values checked before anything is sent.

        None is LlamaExtract's balanced default.

        Raises:
            ConfigError: an unknown key ("did you mean ...?") or a value LlamaExtract refuses.

        Example:
            >>> LlamaExtractV1.check_config({"extraction_mode": "FAST"})
            {'extraction_mode': 'FAST'}
        """
        if config is None:
            config = {"extraction_mode": "BALANCED"}
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

    # --- what every v1 call needs: project parameters, polls (E3) and results (E4) ------------

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

    def _ops(self, session: CloudSession, submit: Callable[[], Awaitable[str]], label: str) -> ExtractJobOps:
        """The job lifecycle's view of one v1 extraction: E3 reads its state."""
        return ExtractJobOps(
            session,
            submit,
            label,
            status_path=lambda job_id: f"/api/v1/extraction/jobs/{job_id}",
            what="Reading the extraction job's status",
        )

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
            outcome = await self._client.run(
                self._ops(session, submit, label), key=key, label=label, reattach=reattach
            )
            return await self._finish(session, outcome, key, label)

    async def _finish(
        self, session: CloudSession, outcome: JobOutcome, key: str, label: str
    ) -> ExtractResult:
        """E4 for a finished job; a failed job or a run without data is a typed error."""
        what = self._client.what
        raise_for_state(outcome, what=what, file=label)
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
            self._client.mark(key, "LOST")  # a re-run submits again instead of re-attaching to nothing
            raise
        # A malformed answer is not the job's fault: the journal keeps it, a re-run reads it again.
        checked_answer(V1Run, run, service="LlamaExtract", file=label, job_id=outcome.job_id)
        status = str(run.get("status") or "").upper()
        if status == "ERROR":
            self._client.mark(key, "FAILED")
            raise JobFailedError(
                f"The {what} did not succeed: {run.get('error') or 'no message'}",
                status=status,
                file=label,
                job_id=outcome.job_id,
            )
        if run.get("data") is None:
            self._client.mark(key, "FAILED")
            raise ExtractionError(
                "LlamaExtract returned no data",
                file=label,
                job_id=outcome.job_id,
                hint="Check the schema's descriptions and the document; run again to retry",
            )
        self._client.mark(key, "SUCCESS")
        metadata = run.get("extraction_metadata")
        return ExtractResult(
            data=run["data"],
            metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
            job_id=outcome.job_id,
            run_id=run.get("id"),
            reattached=outcome.reattached,
            usage=usage_of(run),
        )

    # --- stateless extraction (E1, E2) --------------------------------------------------------

    async def _extract(
        self,
        session: CloudSession,
        schema: Mapping[str, Any],
        config: Mapping[str, Any],
        source: ExtractInput,
    ) -> ExtractResult:
        body: dict[str, Any] = {"config": dict(config)}
        if source.is_text:
            body["text"] = source.data.decode()
        else:
            body["file"] = {"data": base64.b64encode(source.data).decode(), "mime_type": _mime_type(source)}
        key = content_key("stateless", schema, config, source.data)

        async def submit() -> str:
            body["data_schema"] = await self._client.checked_schema(
                session, schema, path=f"{AGENTS}/schema/validation", service="LlamaExtract"
            )
            answer = await session.json(
                "POST",
                "/api/v1/extraction/run",
                what="Submitting the extraction",
                file=source.label,
                idempotent=False,  # paid: never repeated blindly
                rate_limited=True,
                json=body,
                params=await self._params(session),
            )
            return _job_id_of(answer, "Submitting the extraction", source.label)

        return await self._extract_job(
            session, submit, key=key, label=source.label, reattach=_reattach(config)
        )

    def extract(
        self,
        schema: Mapping[str, Any] | None,
        config: Mapping[str, Any],
        *,
        file_path: str | os.PathLike[str] | None = None,
        text: str | None = None,
    ) -> ExtractResult:
        """Stateless extraction of a file or a text with a JSON schema and an ExtractConfig dict."""
        source = ExtractInput.of(file_path, text)
        return self._client.sync(lambda s: self._extract(s, schema or {}, config, source))

    async def aextract(
        self,
        schema: Mapping[str, Any] | None,
        config: Mapping[str, Any],
        *,
        file_path: str | os.PathLike[str] | None = None,
        text: str | None = None,
    ) -> ExtractResult:
        """:meth:`extract` in the running event loop."""
        source = ExtractInput.of(file_path, text)
        return await self._client.in_loop(lambda s: self._extract(s, schema or {}, config, source))

    # --- saved agents (E6, E7, E8) ------------------------------------------------------------

    async def _agent(self, session: CloudSession, name_or_id: str) -> SavedExtraction:
        by_id = bool(_ID.search(name_or_id))
        path = f"{AGENTS}/" + (name_or_id if by_id else f"by-name/{name_or_id}")
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

    async def _agents(self, session: CloudSession) -> list[SavedExtraction]:
        bodies = await session.json_list(
            "GET", AGENTS, what="Listing extraction agents", params=await self._params(session)
        )
        return [agent_info(b) for b in bodies if isinstance(b, Mapping)]

    async def _saved(self, session: CloudSession, agent: Any) -> SavedExtraction:
        """An agent given by name or id (looked up), or as a SavedExtraction, SDK agent or dict."""
        return await self._agent(session, agent) if isinstance(agent, str) else agent_info(agent)

    def saved(self, agent: Any) -> SavedExtraction:
        """The extraction agent with this name or id (or an SDK agent's or dict's fields).

        Raises:
            ConfigError: no such agent (the message lists the known ones).

        Example:
            >>> from llama_index_cloudkit.settings import CloudKitSettings
            >>> service = LlamaExtractV1(CloudKitSettings(api_key="llx-test"))
            >>> service.saved({"id": "agent-1", "name": "terms"}).name
            'terms'
        """
        if not isinstance(agent, str):
            return agent_info(agent)
        return self._client.sync(lambda s: self._agent(s, agent))

    def list_agents(self) -> list[dict[str, Any]]:
        """Every agent of the project: name, id and field names."""
        return [_summary(a) for a in self._client.sync(self._agents)]

    async def alist_agents(self) -> list[dict[str, Any]]:
        """:meth:`list_agents` in the running event loop."""
        return [_summary(a) for a in await self._client.in_loop(self._agents)]

    # --- extraction with an agent (F1, E11, E12) ----------------------------------------------

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

    async def _agent_job(self, session: CloudSession, agent: SavedExtraction, source: ExtractInput) -> str:
        """F1 + E11: submit one agent extraction; an unknown outcome is looked up (E12) first."""
        file_id = await self._upload(session, source)
        try:
            answer = await session.json(
                "POST",
                "/api/v1/extraction/jobs",
                what=f"Submitting the extraction with agent {agent.name!r}",
                file=source.label,
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
        return _job_id_of(answer, "Submitting the extraction", source.label)

    async def _job_for_file(self, session: CloudSession, agent: SavedExtraction, file_id: str) -> str | None:
        """The job an agent made from ``file_id``, if the service has one (E12)."""
        try:
            page = await session.json(
                "GET",
                RUNS,
                what="Looking for the submitted extraction",
                params={"extraction_agent_id": agent.id, "skip": 0, "limit": 100},
            )
        except CloudKitError:
            return None
        for run in page.get("items") or []:
            if isinstance(run, Mapping) and run.get("file_id") == file_id and run.get("job_id"):
                return str(run["job_id"])
        return None

    async def _extract_saved(self, session: CloudSession, agent: Any, source: ExtractInput) -> ExtractResult:
        info = await self._saved(session, agent)
        return await self._extract_job(
            session,
            lambda: self._agent_job(session, info, source),
            key=_agent_key(info, source),
            label=source.label,
            reattach=_reattach(info.config),
        )

    def extract_saved(
        self, agent: Any, *, file_path: str | os.PathLike[str] | None = None, text: str | None = None
    ) -> ExtractResult:
        """Extraction with a saved agent (a SavedExtraction, an SDK ExtractionAgent, or a name or id)."""
        source = ExtractInput.of(file_path, text)
        return self._client.sync(lambda s: self._extract_saved(s, agent, source))

    async def aextract_saved(
        self, agent: Any, *, file_path: str | os.PathLike[str] | None = None, text: str | None = None
    ) -> ExtractResult:
        """:meth:`extract_saved` in the running event loop."""
        source = ExtractInput.of(file_path, text)
        return await self._client.in_loop(lambda s: self._extract_saved(s, agent, source))

    # --- the queue (F1 + E11 per file; results: E3, + E4 when done) ---------------------------

    async def _queue(
        self, session: CloudSession, agent: Any, file_paths: Sequence[str]
    ) -> list[dict[str, Any]]:
        info = await self._saved(session, agent)

        async def one(path: str) -> dict[str, Any]:
            source = ExtractInput.of(path, None)
            # The same file twice (in this call, in another call, in another process sharing the
            # cache directory) is one paid job: the first claims it, the others get its job id.
            with map_cloud_errors("Queueing the extraction", file=source.label):
                job_id, reattached = await submit_once(
                    lambda: self._agent_job(session, info, source),
                    key=_agent_key(info, source),
                    label=source.label,
                    policy=self.policy,
                    journal=self._client.journal,
                    claims=_reattach(info.config),
                )
            return {"file": path, "job_id": job_id, **({"reattached": True} if reattached else {})}

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
        """
        return self._client.sync(lambda s: self._queue(s, agent, list(file_paths)))

    async def aqueue(self, agent: Any, file_paths: Sequence[str]) -> list[dict[str, Any]]:
        """:meth:`queue` in the running event loop."""
        return await self._client.in_loop(lambda s: self._queue(s, agent, list(file_paths)))

    def _journaled(self, job_id: str) -> dict[str, Any] | None:
        journal = self._client.journal
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
        journal = self._client.journal
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
        info = await self._saved(session, agent)
        source = ExtractInput.of(str(row["file_name"]), None)
        key = str(row["key"])
        journal.mark(key, "LOST", job_id=job_id)  # unless another caller resubmitted it meanwhile

        async def resubmit() -> str:
            if journal.resubmissions(key) >= budget:  # counted across callers and runs
                raise JobLostError(
                    "LlamaCloud lost this extraction job again after it was submitted again",
                    resubmissions=budget,
                    file=source.label,
                    job_id=job_id,
                )
            return await self._agent_job(session, info, source)

        # Every caller asking for the lost job at once (threads, processes) gets one new job.
        try:
            with map_cloud_errors("Queueing the extraction again", file=source.label):
                new_id, reattached = await submit_once(
                    resubmit,
                    key=key,
                    label=source.label,
                    policy=self.policy,
                    journal=journal,
                    resubmissions=int(row["resubmissions"]) + 1,
                )
        except JobLostError as exc:  # another caller's resubmission was lost too: the bound holds
            journal.mark(key, "LOST")
            return {"job_id": job_id, "status": "LOST", "error": str(exc), "error_type": "JobLostError"}
        journal.record(f"extract-alias:{job_id}", new_id, source.label)
        if not reattached:
            logger.warning(
                "LlamaCloud lost job %s of %s; submitted it again as %s", job_id, source.label, new_id
            )
        entry = await self._job_result(session, agent, new_id)
        return {**entry, "job_id": job_id, "resubmitted_as": new_id}

    async def _results(
        self, session: CloudSession, agent: Any, job_ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        journal = self._client.journal

        async def one(job_id: str) -> dict[str, Any]:
            alias = journal.pending_job(f"extract-alias:{job_id}") if journal else None
            if alias is not None:
                entry = await self._job_result(session, agent, alias)
                return {**entry, "job_id": job_id, "resubmitted_as": alias}
            return await self._job_result(session, agent, job_id)

        return list(await asyncio.gather(*(one(j) for j in job_ids)))

    def job_results(self, agent: Any, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Status of queued jobs (``PENDING``, ``SUCCESS`` with ``data``, or an ``error``).

        A job the service lost is submitted again once from the journal (``resubmitted_as``).
        """
        return self._client.sync(lambda s: self._results(s, agent, list(job_ids)))

    async def ajob_results(self, agent: Any, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        """:meth:`job_results` in the running event loop."""
        return await self._client.in_loop(lambda s: self._results(s, agent, list(job_ids)))
