"""The emulator's state for LlamaCloud's current API (v2), with no HTTP: ``EmulatorState.v2``.

It keeps Parse v2 jobs, Extract v2 jobs, saved configurations, the purpose of files uploaded
through ``/api/v1/beta/files``, Index v2 fields, the v2 job scripts and the v2-shaped served
fixtures. Files live in the shared file store (``EmulatorState.files``, ids ``dfl-...``), indexes
are the v1 pipelines, and the v1 served fixtures (``serve_fixture``) apply to v2 jobs too, mapped
to v2 shapes.

Every v2 job keeps what the client sent (``request``: the JSON body, or the parsed
``configuration`` part of a multipart upload) and, for parse jobs, the ``expand`` list of each
``GET`` (``gets``), so a test can assert them exactly. The job records are defined with their
service (:class:`~llama_index_cloudkit.testing.v2.parse.V2ParseJob`,
:class:`~llama_index_cloudkit.testing.v2.extract.V2ExtractJob`).

Example:
    >>> from llama_index_cloudkit.testing.state import EmulatorState
    >>> request = {"tier": "fast", "version": "latest"}
    >>> from llama_index_cloudkit.testing.state import EmulatorState
    >>> job = EmulatorState().v2.create_parse_job(request, b"hello", "a.txt", None)
    >>> job.job_json()["status"], job.version
    ('PENDING', '2026-06-15')
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

from llama_index_cloudkit.testing.fixtures import ServedFixtures
from llama_index_cloudkit.testing.jobs import DEFAULT_PROJECT, NotFound
from llama_index_cloudkit.testing.storage import StoredFile
from llama_index_cloudkit.testing.v2.extract import V2ExtractJob
from llama_index_cloudkit.testing.v2.jobs import TERMINAL, JobStateError, V2Job, V2JobScript, now_iso
from llama_index_cloudkit.testing.v2.parse import V2ParseJob, resolve_version

if TYPE_CHECKING:
    from llama_index_cloudkit.testing.state import EmulatorState

__all__ = ["V2State"]


class V2State:
    """The v2 half of the emulator's state; thread-safe.

    Example:
        >>> from llama_index_cloudkit.testing.state import EmulatorState
        >>> V2State(EmulatorState()).parse_jobs
        {}
    """

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget every v2 job, configuration, script and v2 fixture."""
        with self._lock:
            self.parse_jobs: dict[str, V2ParseJob] = {}
            self.extract_jobs: dict[str, V2ExtractJob] = {}
            self.configurations: dict[str, dict[str, Any]] = {}
            self.file_purposes: dict[str, dict[str, Any]] = {}
            self.index_meta: dict[str, dict[str, Any]] = {}  # Index v2 fields, by pipeline id
            self.parse_script = V2JobScript()
            self.extract_script = V2JobScript()
            self._parse_queue: deque[V2JobScript] = deque()
            self._extract_queue: deque[V2JobScript] = deque()
            self.fixtures = ServedFixtures()  # v2-shaped bodies, by kind parse / extract / retrieve

    # --- scripting ------------------------------------------------------------------------------

    def script_jobs(self, kind: str, script: V2JobScript, count: int | None = None) -> None:
        """Make the next ``count`` v2 ``parse`` / ``extract`` jobs (all later when None) follow ``script``."""
        if kind not in ("parse", "extract"):
            raise ValueError(f"kind must be 'parse' or 'extract', not {kind!r}")
        with self._lock:
            if count is None:
                setattr(self, f"{kind}_script", script)
            else:
                (self._parse_queue if kind == "parse" else self._extract_queue).extend([script] * count)

    def _next_script(self, kind: str) -> V2JobScript:
        queue = self._parse_queue if kind == "parse" else self._extract_queue
        if queue:
            return queue.popleft()
        script: V2JobScript = getattr(self, f"{kind}_script")
        return script

    # --- files ----------------------------------------------------------------------------------

    def add_file(
        self,
        name: str,
        data: bytes,
        project_id: str | None,
        purpose: str | None,
        external_file_id: str | None,
    ) -> StoredFile:
        """Store an upload of ``POST /api/v1/beta/files`` (id ``dfl-...``) in the shared file store."""
        stored = StoredFile(
            id=f"dfl-{uuid.uuid4()}",
            name=name,
            data=data,
            project_id=project_id or DEFAULT_PROJECT["id"],
            external_file_id=external_file_id,
        )
        with self._lock:
            self.state.files[stored.id] = stored
            self.file_purposes[stored.id] = {"purpose": purpose, "created_at": now_iso()}
        return stored

    def file_json(self, stored: StoredFile) -> dict[str, Any]:
        """The v2 File answer ``{id, name, project_id, file_type, purpose, external_file_id, ...}``."""
        info = self.file_purposes.get(stored.id, {})
        suffix = stored.name.rsplit(".", 1)[-1].lower() if "." in stored.name else None
        return {
            "id": stored.id,
            "name": stored.name,
            "project_id": stored.project_id,
            "file_type": suffix,
            "purpose": info.get("purpose"),
            "external_file_id": stored.external_file_id,
            "created_at": info.get("created_at"),
            "expires_at": None,
        }

    # --- parse ----------------------------------------------------------------------------------

    def create_parse_job(
        self,
        request: dict[str, Any],
        data: bytes,
        file_name: str,
        project_id: str | None,
        file_id: str | None = None,
    ) -> V2ParseJob:
        """Register a Parse v2 job (``tier`` and ``version`` checked; ``latest`` resolved)."""
        tier = str(request.get("tier"))
        version = resolve_version(tier, str(request.get("version")))
        with self._lock:
            v2_fixture = self.fixtures.next("parse")
            job = V2ParseJob(
                life=V2Job(f"pjb-{uuid.uuid4()}", self._next_script("parse")),
                request=request,
                tier=tier,
                version=version,
                project_id=project_id or DEFAULT_PROJECT["id"],
                file_name=file_name,
                data=data,
                file_id=file_id,
                v2_fixture=v2_fixture,
                v1_fixture=None if v2_fixture is not None else self.state.fixtures.next("parse"),
            )
            self.parse_jobs[job.id] = job
            return job

    def get_parse_job(self, job_id: str) -> V2ParseJob:
        """A Parse v2 job, or NotFound."""
        try:
            return self.parse_jobs[job_id]
        except KeyError:
            raise NotFound(job_id) from None

    def poll_parse_job(self, job_id: str, expand: list[str]) -> V2ParseJob:
        """One ``GET`` of a job: advance its lifecycle, compute its result once it completes."""
        with self._lock:
            job = self.get_parse_job(job_id)
            job.gets.append(list(expand))
            status = job.life.poll()
        if status == "COMPLETED":
            job.compute(self.state.extra_image_names)
            if job.failure is not None:
                job.life.set_status("FAILED")
        return job

    def delete_parse_job(self, job_id: str) -> V2ParseJob:
        """Forget an ended job; JobStateError (400) while it runs."""
        with self._lock:
            job = self.get_parse_job(job_id)
            if job.life.status not in TERMINAL:
                raise JobStateError(f"Job {job_id} is {job.life.status}: cancel it before deleting it")
            del self.parse_jobs[job_id]
            return job

    # --- extract --------------------------------------------------------------------------------

    def add_extract_job(
        self,
        request: dict[str, Any],
        project_id: str | None,
        file_input: str,
        configuration: dict[str, Any],
        configuration_id: str | None,
    ) -> V2ExtractJob:
        """Register an Extract v2 job (its result is filled in by :mod:`.extract`)."""
        with self._lock:
            job = V2ExtractJob(
                life=V2Job(f"exj-{uuid.uuid4()}", self._next_script("extract")),
                request=request,
                project_id=project_id or DEFAULT_PROJECT["id"],
                file_input=file_input,
                configuration=configuration,
                configuration_id=configuration_id,
            )
            self.extract_jobs[job.id] = job
            return job

    def get_extract_job(self, job_id: str) -> V2ExtractJob:
        """An Extract v2 job, or NotFound."""
        try:
            return self.extract_jobs[job_id]
        except KeyError:
            raise NotFound(job_id) from None

    def delete_extract_job(self, job_id: str) -> V2ExtractJob:
        """Forget an ended job; JobStateError (400) while it runs."""
        with self._lock:
            job = self.get_extract_job(job_id)
            if job.life.status not in TERMINAL:
                raise JobStateError(f"Job {job_id} is {job.life.status}: cancel it before deleting it")
            del self.extract_jobs[job_id]
            return job

    # --- configurations -------------------------------------------------------------------------

    def upsert_configuration(
        self, name: str, parameters: dict[str, Any], project_id: str | None
    ) -> dict[str, Any]:
        """``POST /api/v1/beta/configurations``: an upsert keyed by name, product type and project."""
        product_type = parameters.get("product_type")
        project = project_id or DEFAULT_PROJECT["id"]
        with self._lock:
            for saved in self.configurations.values():
                if (saved["name"], saved["product_type"], saved["project_id"]) == (
                    name,
                    product_type,
                    project,
                ):
                    saved.update(parameters=parameters, version=saved["version"] + 1, updated_at=now_iso())
                    return saved
            saved = {
                "id": f"cfg-{uuid.uuid4()}",
                "name": name,
                "product_type": product_type,
                "version": 1,
                "parameters": parameters,
                "project_id": project,
                "created_at": now_iso(),
                "updated_at": now_iso(),
            }
            self.configurations[saved["id"]] = saved
            return saved

    def get_configuration(self, config_id: str) -> dict[str, Any]:
        """A saved configuration, or NotFound."""
        try:
            return self.configurations[config_id]
        except KeyError:
            raise NotFound(config_id) from None
