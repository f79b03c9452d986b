"""The emulator's state, with no HTTP: files, parse jobs, extraction agents, jobs and runs.

The app (:mod:`.app`) parses requests and calls this; tests can also drive it directly
(for example to script how the next jobs end).

Example:
    >>> state = EmulatorState()
    >>> job = state.create_parse_job(b"hello", "a.txt", form={}, query={})
    >>> state.poll_parse_job(job.id)["status"]
    'SUCCESS'
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llama_index_cloudkit.errors import CloudKitError
from llama_index_cloudkit.testing.parse_results import NoDataError, build_parse_result

__all__ = ["EmulatorState", "JobScript", "NotFound", "StoredFile"]

DEFAULT_PROJECT = {"id": "proj-0000-default", "name": "Default", "organization_id": "org-0000-fake"}


class NotFound(KeyError):
    """An unknown id; the app answers 404."""


@dataclass(frozen=True)
class JobScript:
    """How a job behaves: its final status and how long it stays PENDING first.

    Args:
        status: SUCCESS, ERROR, CANCELED (parse) / CANCELLED (extract), PARTIAL_SUCCESS.
        pending_polls: status polls answered PENDING before the final status.
        pending_seconds: seconds after creation during which polls answer PENDING.
        stuck: stay PENDING forever.
        error_code: reported with a failed status.
        error_message: reported with a failed status.

    Example:
        >>> JobScript(status="ERROR", error_code="PDF_IS_BROKEN").status
        'ERROR'
    """

    status: str = "SUCCESS"
    pending_polls: int = 0
    pending_seconds: float = 0.0
    stuck: bool = False
    error_code: str | None = None
    error_message: str | None = None


@dataclass
class StoredFile:
    """An uploaded file."""

    id: str
    name: str
    data: bytes
    project_id: str
    external_file_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The File model the SDK reads."""
        return {
            "id": self.id,
            "name": self.name,
            "project_id": self.project_id,
            "external_file_id": self.external_file_id,
            "file_size": len(self.data),
        }


@dataclass
class _Job:
    id: str
    script: JobScript
    created: float
    polls: int = 0

    def current_status(self) -> str:
        self.polls += 1
        if self.script.stuck:
            return "PENDING"
        if self.polls <= self.script.pending_polls:
            return "PENDING"
        if time.monotonic() - self.created < self.script.pending_seconds:
            return "PENDING"
        return self.script.status


@dataclass
class ParseJob(_Job):
    """A parse job: the uploaded bytes, the form and query it was sent with."""

    file_name: str = ""
    data: bytes = b""
    form: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    images: dict[str, bytes] = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    future: concurrent.futures.Future[None] | None = None


ExtractResponder = Callable[[dict[str, Any], dict[str, Any], str], Any]


def empty_like(schema: dict[str, Any]) -> Any:
    """Data shaped like a JSON schema: objects with every property, empty lists, nulls.

    Example:
        >>> empty_like({"type": "object", "properties": {"a": {"type": "array"}, "b": {}}})
        {'a': [], 'b': None}
    """
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: empty_like(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return []
    for key in ("anyOf", "oneOf"):
        options = [s for s in schema.get(key, []) if s.get("type") != "null"]
        if options and len(options) == len(schema[key]):
            return empty_like(options[0])
    return None


class EmulatorState:
    """Everything the emulator remembers; thread-safe.

    Example:
        >>> EmulatorState().projects[0]["name"]
        'Default'
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget every file, job, agent and run; restore the default scripts."""
        with self._lock:
            self.files: dict[str, StoredFile] = {}
            self.parse_jobs: dict[str, ParseJob] = {}
            self.parse_script = JobScript()
            self.extra_image_names: list[str] = []  # listed on every page ("{page}" expands)
            self._parse_queue: deque[JobScript] = deque()
            self.projects: list[dict[str, Any]] = [dict(DEFAULT_PROJECT)]
            self.agents: dict[str, dict[str, Any]] = {}
            self.extract_jobs: dict[str, dict[str, Any]] = {}
            self.extract_runs: dict[str, dict[str, Any]] = {}
            self.extract_script = JobScript()
            self._extract_queue: deque[JobScript] = deque()
            self.extract_responder: ExtractResponder | None = None
            self._scripts: dict[str, _Job] = {}
            if not hasattr(self, "_workers"):
                self._workers = concurrent.futures.ThreadPoolExecutor(
                    max_workers=2, thread_name_prefix="emulator-parse"
                )
            from llama_index_cloudkit.testing.pipelines import PipelineStore

            self.pipelines = PipelineStore()

    # --- scripting --------------------------------------------------------------------------

    def script_parse_jobs(self, script: JobScript, count: int | None = None) -> None:
        """Make the next ``count`` parse jobs (all future ones when None) follow ``script``."""
        with self._lock:
            if count is None:
                self.parse_script = script
            else:
                self._parse_queue.extend([script] * count)

    def script_extract_jobs(self, script: JobScript, count: int | None = None) -> None:
        """Make the next ``count`` extraction jobs (all when None) follow ``script``."""
        with self._lock:
            if count is None:
                self.extract_script = script
            else:
                self._extract_queue.extend([script] * count)

    # --- files ------------------------------------------------------------------------------

    def add_file(
        self, name: str, data: bytes, project_id: str | None, external_file_id: str | None = None
    ) -> StoredFile:
        """Store an upload and return it."""
        with self._lock:
            stored = StoredFile(
                id=f"file-{uuid.uuid4()}",
                name=name,
                data=data,
                project_id=project_id or DEFAULT_PROJECT["id"],
                external_file_id=external_file_id,
            )
            self.files[stored.id] = stored
            return stored

    def get_file(self, file_id: str) -> StoredFile:
        """A stored file, or NotFound."""
        try:
            return self.files[file_id]
        except KeyError:
            raise NotFound(file_id) from None

    # --- parse ------------------------------------------------------------------------------

    def create_parse_job(
        self, data: bytes, file_name: str, form: dict[str, str], query: dict[str, str]
    ) -> ParseJob:
        """Register a parse job and start computing its result in the background."""
        with self._lock:
            script = self._parse_queue.popleft() if self._parse_queue else self.parse_script
            job = ParseJob(
                id=str(uuid.uuid4()),
                script=script,
                created=time.monotonic(),
                file_name=file_name,
                data=data,
                form=form,
                query=query,
            )
            self.parse_jobs[job.id] = job
            job.future = self._workers.submit(self._compute, job)
            return job

    def get_parse_job(self, job_id: str) -> ParseJob:
        """A parse job, or NotFound."""
        try:
            return self.parse_jobs[job_id]
        except KeyError:
            raise NotFound(job_id) from None

    def poll_parse_job(self, job_id: str) -> dict[str, Any]:
        """The status answer for one poll (advances PENDING scripts; waits for the result)."""
        with self._lock:
            job = self.get_parse_job(job_id)
            status = job.current_status()
        if status == "SUCCESS":
            self._ready(job)
            if job.error_code:
                status = "ERROR"
        answer: dict[str, Any] = {"id": job.id, "status": status}
        if status not in ("SUCCESS", "PENDING"):
            answer["error_code"] = job.error_code or job.script.error_code or "EMULATED_FAILURE"
            answer["error_message"] = (
                job.error_message or job.script.error_message or f"The job ended {status}"
            )
        return answer

    def _ready(self, job: ParseJob) -> None:
        if job.future is not None:
            job.future.result()
        else:
            self._compute(job)

    def _compute(self, job: ParseJob) -> None:
        if job.result is not None or job.error_code:
            return
        try:
            job.result, job.images = build_parse_result(
                job.data, job.file_name, job.form, self.extra_image_names
            )
        except NoDataError:
            job.error_code, job.error_message = "NO_DATA_FOUND_IN_FILE", "No data found in file"
        except (CloudKitError, ImportError) as exc:
            job.error_code, job.error_message = "PARSE_FAILED", str(exc)

    def parse_result(self, job_id: str) -> dict[str, Any]:
        """The JSON result of a finished job."""
        job = self.get_parse_job(job_id)
        self._ready(job)
        if job.result is None:
            raise NotFound(job_id)
        return job.result

    def parse_image(self, job_id: str, name: str) -> bytes:
        """An image of a finished job, by the name listed in its result."""
        job = self.get_parse_job(job_id)
        self._ready(job)
        try:
            return job.images[name]
        except KeyError:
            raise NotFound(f"image {name!r} of job {job_id}") from None

    def parse_xlsx(self, job_id: str) -> bytes:
        """The job's tables as an XLSX workbook, one sheet per table."""
        import io

        import openpyxl

        result = self.parse_result(job_id)
        book = openpyxl.Workbook()
        book.remove(book.active)
        for page in result["pages"]:
            for number, item in enumerate(i for i in page["items"] if i["type"] == "table"):
                sheet = book.create_sheet(f"p{page['page']}-t{number + 1}")
                for row in item["rows"]:
                    sheet.append(row)
        if not book.worksheets:
            book.create_sheet("empty")
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    # --- extraction -------------------------------------------------------------------------

    def create_agent(
        self, name: str, schema: dict[str, Any], config: dict[str, Any], project_id: str | None
    ) -> dict[str, Any]:
        """Create an extraction agent; a duplicate name raises ValueError (409)."""
        with self._lock:
            if any(a["name"] == name for a in self.agents.values()):
                raise ValueError(f"An extraction agent named {name!r} already exists")
            agent_id = f"agent-{uuid.uuid4()}"
            agent: dict[str, Any] = {
                "id": agent_id,
                "name": name,
                "data_schema": schema,
                "config": config,
                "project_id": project_id or DEFAULT_PROJECT["id"],
            }
            self.agents[agent_id] = agent
            return agent

    def get_agent(self, agent_id: str) -> dict[str, Any]:
        """An agent by id, or NotFound."""
        try:
            return self.agents[agent_id]
        except KeyError:
            raise NotFound(agent_id) from None

    def agent_by_name(self, name: str) -> dict[str, Any]:
        """An agent by name, or NotFound."""
        for agent in self.agents.values():
            if agent["name"] == name:
                return agent
        raise NotFound(name)

    def create_extract_job(
        self,
        agent: dict[str, Any],
        schema: dict[str, Any],
        config: dict[str, Any],
        text: str,
        file_id: str | None,
    ) -> dict[str, Any]:
        """Register an extraction job and its run; the run's data comes from the responder."""
        with self._lock:
            script = self._extract_queue.popleft() if self._extract_queue else self.extract_script
            job_id = f"exjob-{uuid.uuid4()}"
            job = {
                "id": job_id,
                "status": "PENDING",
                "extraction_agent": agent,
                "file_id": file_id,
                "error": None,
            }
            self.extract_jobs[job_id] = job
            self._scripts[job_id] = _Job(id=job_id, script=script, created=time.monotonic())
            data: Any
            metadata: dict[str, Any]
            if self.extract_responder is not None:
                data = self.extract_responder(schema, config, text)
                metadata = {"emulated": True, "responder": True}
            else:
                data = empty_like(schema)
                metadata = {
                    "emulated": True,
                    "note": "llama_index_cloudkit emulator: data shaped like the schema",
                }
            run = {
                "id": f"run-{uuid.uuid4()}",
                "extraction_agent_id": agent["id"],
                "project_id": agent.get("project_id", DEFAULT_PROJECT["id"]),
                "config": config,
                "data_schema": schema,
                "from_ui": False,
                "status": "PENDING",
                "data": data,
                "extraction_metadata": metadata,
                "job_id": job_id,
                "file_id": file_id,
                "error": None,
            }
            self.extract_runs[run["id"]] = run
            return job

    def poll_extract_job(self, job_id: str) -> dict[str, Any]:
        """The ExtractJob answer for one poll."""
        with self._lock:
            if job_id not in self.extract_jobs:
                raise NotFound(job_id)
            job = self.extract_jobs[job_id]
            status = self._scripts[job_id].current_status()
            job["status"] = status
            if status not in ("PENDING", "SUCCESS"):
                job["error"] = self._scripts[job_id].script.error_message or f"Job {status}"
            return job

    def run_for_job(self, job_id: str) -> dict[str, Any]:
        """The ExtractRun of a job, with its status following the job's."""
        with self._lock:
            for run in self.extract_runs.values():
                if run["job_id"] == job_id:
                    job_status = self.extract_jobs[job_id]["status"]
                    run["status"] = {"SUCCESS": "SUCCESS", "PENDING": "PENDING"}.get(job_status, "ERROR")
                    if run["status"] == "ERROR":
                        run["error"] = self.extract_jobs[job_id]["error"]
                        run["data"] = None
                    return run
            raise NotFound(job_id)
