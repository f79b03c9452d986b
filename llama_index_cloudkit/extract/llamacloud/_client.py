"""What both LlamaExtract adapters share: one session per call, the journal, the schema memo,
the job lifecycle's view of one extraction, its input and its content key.

Each adapter holds one :class:`ServiceClient` (composed, not inherited) and keeps its own routes,
body fields and status words.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from llama_index_cloudkit._loop import sync_runner
from llama_index_cloudkit.cloud.errors import JobState, job_state
from llama_index_cloudkit.cloud.jobs import JobOutcome, JobRun
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import ConfigError, SchemaError
from llama_index_cloudkit.settings import CloudKitSettings

T = TypeVar("T")


@dataclass(frozen=True)
class ExtractInput:
    """One extraction input: a file (path and bytes) or a text (sent as ``text_input_<8hex>.txt``)."""

    label: str
    data: bytes
    file_name: str
    is_text: bool

    @classmethod
    def of(cls, file_path: str | os.PathLike[str] | None, text: str | None) -> ExtractInput:
        """Read exactly one of a file and a text (ConfigError otherwise)."""
        if (file_path is None) == (text is None):
            raise ConfigError("Pass exactly one of file_path and text")
        if text is not None:
            digest = hashlib.sha256(text.encode()).hexdigest()[:8]
            return cls("text input", text.encode(), f"text_input_{digest}.txt", True)
        path = Path(file_path)  # type: ignore[arg-type]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"Cannot read the file: {exc.strerror or exc}", file=path) from None
        return cls(os.fspath(path), data, path.name, False)


def content_key(kind: str, schema: Mapping[str, Any], config: Mapping[str, Any], payload: bytes) -> str:
    """The journal key of one extraction: sha256 of what decides its result."""
    head = json.dumps({"kind": kind, "schema": schema, "config": config}, sort_keys=True, default=str)
    digest = hashlib.sha256(head.encode() + b"\0" + payload).hexdigest()
    return f"extract:{digest}"


class ExtractJobOps:
    """The job lifecycle's view of one extraction: submit once, read the job's state.

    Args:
        session: the open session of the running event loop.
        submit: the one paid submission; returns the job id.
        label: the input's name, for errors.
        status_path: the status route of a job id.
        what: what a status read is called in errors.
        project_params: send the project's ``project_id`` / ``organization_id`` with each read.
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


class ServiceClient:
    """Settings, policy, journal and one :class:`CloudSession` per call, for an extraction adapter.

    Each public coroutine of an adapter opens its own session in the running loop
    (:meth:`in_loop`); each sync method runs it on a fresh loop (:meth:`sync`, safe inside a
    running one). No HTTP client outlives its loop.

    Args:
        settings: key, endpoint, project and organization.
        policy: retries, timeouts, job deadline and polling (default: :class:`CloudPolicy`).
        journal: where job ids are written before polling (``"default"``: ``journal.sqlite`` in
            the cache directory; None disables re-attaching).
        transport: the HTTP transport under the core's resilient one (tests:
            ``httpx.MockTransport``); default: a real connection pool per event loop.
        what: what a job is called in errors.
    """

    def __init__(
        self,
        settings: CloudKitSettings,
        policy: CloudPolicy | None,
        *,
        journal: JobJournal | str | None,
        transport: httpx.AsyncBaseTransport | None,
        what: str,
    ) -> None:
        settings.require_key()
        self.settings = settings
        self.policy = policy or CloudPolicy()
        self.what = what
        self._transport = transport
        self._journal_choice = journal
        self._journal: JobJournal | None = None
        self._validated: dict[str, dict[str, Any]] = {}

    @property
    def journal(self) -> JobJournal | None:
        """The job journal (created on first use)."""
        if self._journal_choice == "default":
            if self._journal is None:
                self._journal = JobJournal.for_settings(self.settings)
            return self._journal
        return self._journal_choice if isinstance(self._journal_choice, JobJournal) else None

    def sync(self, work: Callable[[CloudSession], Awaitable[T]]) -> T:
        """``work`` in its own session on a fresh loop (safe inside a running one)."""
        return sync_runner()(self.in_loop(work))

    async def in_loop(self, work: Callable[[CloudSession], Awaitable[T]]) -> T:
        """``work`` in its own session in the running loop."""
        async with CloudSession(self.settings, self.policy, inner=self._transport) as session:
            return await work(session)

    def mark(self, key: str, status: str) -> None:
        """Record what became of a journaled job."""
        if self.journal is not None:
            self.journal.mark(key, status)

    async def checked_schema(
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

    async def run(self, ops: ExtractJobOps, *, key: str, label: str, reattach: bool) -> JobOutcome:
        """One job to a terminal state: journaled before polling, re-attached when known."""
        run = JobRun(
            key, label=label, policy=self.policy, journal=self.journal, reattach=reattach, what=self.what
        )
        async for step in run:
            async with step:
                step.answer(await (ops.submit() if step.job_id is None else ops.state(step.job_id)))
        assert run.outcome is not None
        return run.outcome
