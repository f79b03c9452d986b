"""What the Extract v1 and Extract v2 clients share: one session per call, the journal, the
schema check memo, and the job lifecycle's view of one extraction.

:class:`ExtractClientBase` holds the settings, the policy and the journal, opens one
:class:`~llama_index_cloudkit.cloud.CloudSession` per public call (sync calls on a fresh loop,
safe inside a running one), asks the service to check a schema once per schema and client, and
runs a job through :func:`~llama_index_cloudkit.cloud.run_job`. :class:`ExtractJobOps` is what
``run_job`` submits and polls. The routes themselves live in :mod:`.cloud` (v1) and
:mod:`.cloud_v2` (v2).

Example:
    >>> client = ExtractV2Client(CloudKitSettings(api_key="llx-..."))  # doctest: +SKIP
    >>> client.journal  # doctest: +SKIP
    <llama_index_cloudkit.cloud.journal.JobJournal object at ...>
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

import httpx

from llama_index_cloudkit._loop import run_sync
from llama_index_cloudkit.cloud.errors import JobState, job_state
from llama_index_cloudkit.cloud.jobs import JobOutcome, run_job
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import ConfigError, SchemaError
from llama_index_cloudkit.extract.wire import ExtractInput, ExtractResult
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["ExtractClientBase", "ExtractJobOps"]

T = TypeVar("T")
SchemaT = TypeVar("SchemaT")
"""What a client's ``extract`` takes as a schema (v2: None with a saved configuration)."""


class ExtractJobOps:
    """The job lifecycle's view of one extraction: submit once, read the job's state.

    Args:
        session: the open session of the running event loop.
        submit: the one paid submission; returns the job id.
        label: the input's name, for errors.
        status_path: the status route of a job id.
        what: what a status read is called in errors.
        project_params: send the project's ``project_id`` / ``organization_id`` with each read.

    Example:
        >>> ops = ExtractJobOps(session, submit, "a.pdf", status_path=lambda j: f"/jobs/{j}",
        ...                     what="Reading the job's status")  # doctest: +SKIP
        >>> await ops.state("job-1")  # doctest: +SKIP
        (<JobState.PENDING: ...>, {'id': 'job-1', 'status': 'PENDING'})
    """

    def __init__(
        self,
        session: CloudSession,
        submit: Callable[[], Awaitable[str]],
        label: str,
        *,
        status_path: Callable[[str], str],
        what: str,
        project_params: bool = False,
    ) -> None:
        self._session = session
        self._submit = submit
        self._label = label
        self._status_path = status_path
        self._what = what
        self._project_params = project_params

    async def submit(self) -> str:
        """Submit the job once; its id."""
        return await self._submit()

    async def state(self, job_id: str) -> tuple[JobState, Mapping[str, Any]]:
        """One status read: the job's state and the answer's body."""
        extra: dict[str, Any] = {"params": self._session.project_params()} if self._project_params else {}
        body = await self._session.json(
            "GET",
            self._status_path(job_id),
            what=self._what,
            file=self._label,
            job_id=job_id,
            lost_on_404=True,
            **extra,
        )
        return job_state(body.get("status")), body


class ExtractClientBase(Generic[SchemaT]):
    """Settings, policy, journal and one :class:`CloudSession` per call, for an extraction client.

    Each public coroutine of a subclass opens its own session in the running loop
    (:meth:`_async`); each sync method runs it on a fresh loop (:meth:`_sync`, safe inside a
    running one). No client outlives its loop.

    Args:
        settings: key, endpoint, project and organization.
        policy: retries, timeouts, job deadline and polling (default: :class:`CloudPolicy`).
        journal: where job ids are written before polling (``"default"``: ``journal.sqlite`` in
            the cache directory; None disables re-attaching).
        transport: the HTTP transport under the core's resilient one (tests:
            ``httpx.MockTransport``); default: a real connection pool per event loop.

    Example:
        >>> client = ExtractClient(CloudKitSettings(api_key="llx-..."))  # doctest: +SKIP
        >>> client.extract(schema, {"extraction_mode": "FAST"}, text="Invoice 42").data  # doctest: +SKIP
        {'number': '42'}
    """

    _what: ClassVar[str] = "LlamaExtract job"
    """What a job of this client is called in errors."""

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
        self.policy = policy or CloudPolicy()
        self._transport = transport
        self._journal_choice = journal
        self._journal: JobJournal | None = None
        self._validated: dict[str, dict[str, Any]] = {}
        self._project_id: str | None = settings.project_id  # v1 looks a project name up once

    @property
    def journal(self) -> JobJournal | None:
        """The job journal (created on first use)."""
        if self._journal_choice == "default":
            if self._journal is None:
                self._journal = JobJournal.for_settings(self.settings)
            return self._journal
        return self._journal_choice if isinstance(self._journal_choice, JobJournal) else None

    def _sync(self, work: Callable[[CloudSession], Awaitable[T]]) -> T:
        return run_sync(lambda: self._async(work))  # a fresh loop, safe inside a running one

    async def _async(self, work: Callable[[CloudSession], Awaitable[T]]) -> T:
        async with CloudSession(self.settings, self.policy, inner=self._transport) as session:
            return await work(session)

    def _mark(self, key: str, status: str) -> None:
        if self.journal is not None:
            self.journal.mark(key, status)

    async def _checked_schema(
        self,
        session: CloudSession,
        schema: Mapping[str, Any],
        *,
        path: str,
        service: str,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The service's own check of a schema, once per schema and client; its answer is what
        the submission sends (the schema itself when the answer has none)."""
        memo = json.dumps(schema, sort_keys=True)
        if memo not in self._validated:
            try:
                body = await session.json(
                    "POST",
                    path,
                    what="Validating the extraction schema",
                    idempotent=True,  # read-only: nothing is created or billed
                    json={"data_schema": dict(schema)},
                    params=params,
                )
            except ConfigError as exc:
                raise SchemaError(
                    [exc.message], hint=f"{service} rejected the schema; nothing was extracted"
                ) from exc
            answer = body.get("data_schema")
            self._validated[memo] = dict(answer) if isinstance(answer, Mapping) and answer else dict(schema)
        return self._validated[memo]

    async def _run(self, ops: ExtractJobOps, *, key: str, label: str, reattach: bool) -> JobOutcome:
        """One job to a terminal state: journaled before polling, re-attached when known."""
        return await run_job(
            ops,
            key=key,
            label=label,
            policy=self.policy,
            journal=self.journal,
            reattach=reattach,
            what=self._what,
        )

    async def _extract(
        self,
        session: CloudSession,
        schema: SchemaT,
        config: Mapping[str, Any],
        source: ExtractInput,
    ) -> ExtractResult:
        """One extraction in an open session (each client its own routes)."""
        raise NotImplementedError

    def extract(
        self,
        schema: SchemaT,
        config: Mapping[str, Any],
        *,
        file_path: str | os.PathLike[str] | None = None,
        text: str | None = None,
    ) -> ExtractResult:
        """Extraction of a file or a text with a JSON schema and a configuration.

        On v1 the configuration is an ExtractConfig dict and the extraction is stateless; on
        Extract v2 it is an inline configuration, or a ``configuration_id`` (then ``schema``
        may be None).

        Example:
            >>> client.extract({"type": "object", "properties": {}}, {}, text="x")  # doctest: +SKIP
        """
        source = ExtractInput.of(file_path, text)
        return self._sync(lambda s: self._extract(s, schema, config, source))

    async def aextract(
        self,
        schema: SchemaT,
        config: Mapping[str, Any],
        *,
        file_path: str | os.PathLike[str] | None = None,
        text: str | None = None,
    ) -> ExtractResult:
        """:meth:`extract` in the running event loop."""
        source = ExtractInput.of(file_path, text)
        return await self._async(lambda s: self._extract(s, schema, config, source))
