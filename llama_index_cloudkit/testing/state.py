"""The emulator's state, with no HTTP: files, projects, v1 parse jobs, and each service's store.

The routes (:mod:`.v1`, :mod:`.v2`) parse requests and call this; tests can also drive it
directly (for example to script how the next jobs end). Besides the files, projects, served
fixtures and v1 parse jobs kept here, it holds the v1 extraction state (``extraction``), the
indexes (``pipelines``) and the v2 state (``v2``).

Example:
    >>> state = EmulatorState()
    >>> job = state.create_parse_job(b"hello", "a.txt", form={}, query={})
    >>> state.poll_parse_job(job.id)["status"]
    'SUCCESS'
"""

from __future__ import annotations

import concurrent.futures
import io
import threading
import time
import uuid
from collections import deque
from typing import Any

from llama_index_cloudkit.errors import CloudKitError
from llama_index_cloudkit.testing._pages import (
    TINY_PNG,
    NoDataError,
    build_parse_result,
    embedded_pictures,
    page_screenshot,
    tiny_jpeg,
)
from llama_index_cloudkit.testing.fixtures import ServedFixtures
from llama_index_cloudkit.testing.jobs import DEFAULT_PROJECT, JobScript, NotFound
from llama_index_cloudkit.testing.storage import PresignedUrls, StoredFile
from llama_index_cloudkit.testing.v1.extract import Extraction
from llama_index_cloudkit.testing.v1.parse import ParseJob
from llama_index_cloudkit.testing.v1.pipelines import PipelineStore
from llama_index_cloudkit.testing.v2.state import V2State

__all__ = ["EmulatorState"]


class EmulatorState:
    """Everything the emulator remembers; thread-safe.

    Example:
        >>> EmulatorState().projects[0]["name"]
        'Default'
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._workers = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="emulator-parse"
        )
        self.fixtures = ServedFixtures()
        self.pipelines = PipelineStore(self.fixtures)
        self.v2 = V2State(self)
        self.reset()

    def reset(self) -> None:
        """Forget every file, job, agent, run and index, v1 and v2; restore the default scripts.

        The stores the routers hold (fixtures, pipelines, v2) are emptied, not replaced.

        Example:
            >>> state = EmulatorState()
            >>> _ = state.pipelines.upsert_pipeline("handbook", "proj-0000-default")
            >>> state.reset()
            >>> state.pipelines.pipelines
            {}
        """
        with self._lock:
            self.files: dict[str, StoredFile] = {}
            self.parse_jobs: dict[str, ParseJob] = {}
            self.parse_script = JobScript()
            self.extra_image_names: list[str] = []  # listed on every page ("{page}" expands)
            self._parse_queue: deque[JobScript] = deque()
            self.projects: list[dict[str, Any]] = [dict(DEFAULT_PROJECT)]
            self.fixtures.clear()
            self.extraction = Extraction(self.fixtures)
            self.presigned = PresignedUrls()
            self.url_contents: dict[str, bytes] = {}  # what upload_from_url stores per URL
            self._screenshots: dict[tuple[str, int], bytes] = {}
            self._figures: dict[tuple[str, int], dict[str, bytes]] = {}
            self.pipelines.clear()
            self.v2.reset()

    # --- scripting --------------------------------------------------------------------------

    def script_parse_jobs(self, script: JobScript, count: int | None = None) -> None:
        """Make the next ``count`` parse jobs (all future ones when None) follow ``script``."""
        with self._lock:
            if count is None:
                self.parse_script = script
            else:
                self._parse_queue.extend([script] * count)

    # --- projects ---------------------------------------------------------------------------

    def add_project(self, name: str, project_id: str | None = None) -> dict[str, Any]:
        """Add a project (in the default organization); ValueError when the name is taken.

        Example:
            >>> EmulatorState().add_project("research", "proj-research")["id"]
            'proj-research'
        """
        with self._lock:
            if any(p["name"] == name for p in self.projects):
                raise ValueError(f"A project named {name!r} already exists")
            project = {
                "id": project_id or f"proj-{uuid.uuid4()}",
                "name": name,
                "organization_id": DEFAULT_PROJECT["organization_id"],
            }
            self.projects.append(project)
            return project

    # --- files ------------------------------------------------------------------------------

    def add_file(
        self,
        name: str,
        data: bytes,
        project_id: str | None,
        external_file_id: str | None = None,
        *,
        uploaded: bool = True,
        source_url: str | None = None,
    ) -> StoredFile:
        """Store an upload (or the record of a presigned one still to come) and return it."""
        with self._lock:
            stored = StoredFile(
                id=f"file-{uuid.uuid4()}",
                name=name,
                data=data,
                project_id=project_id or DEFAULT_PROJECT["id"],
                external_file_id=external_file_id,
                uploaded=uploaded,
                source_url=source_url,
            )
            self.files[stored.id] = stored
            return stored

    def store_upload(self, file_id: str, data: bytes) -> StoredFile:
        """The bytes of a presigned upload, sent to its URL."""
        with self._lock:
            stored = self.get_file(file_id)
            stored.data, stored.uploaded = data, True
            self._screenshots = {k: v for k, v in self._screenshots.items() if k[0] != file_id}
            self._figures = {k: v for k, v in self._figures.items() if k[0] != file_id}
            return stored

    def page_figures(self, file_id: str, page_index: int) -> dict[str, bytes]:
        """The pictures drawn on page ``page_index`` (0-based) of a stored PDF, by figure name.

        Names follow the parse results (``img_p{page_index}_{n}.png``); not a PDF: none.
        """
        stored = self.get_file(file_id)
        if not stored.name.lower().endswith(".pdf"):
            return {}
        key = (file_id, page_index)
        if key not in self._figures:
            pictures = embedded_pictures(stored.data, page_index) if stored.data else []
            self._figures[key] = {
                f"img_p{page_index}_{n}.png": p.data for n, p in enumerate(pictures, start=1)
            }
        return self._figures[key]

    def page_screenshot(self, file_id: str, page_index: int) -> bytes:
        """F3: a JPEG of page ``page_index`` (0-based) of a stored PDF, or NotFound.

        Files named only by a served retrieve fixture's image nodes get a 1x1 JPEG.
        """
        if file_id not in self.files and file_id in self.fixtures.file_ids:
            return tiny_jpeg()
        stored = self.get_file(file_id)
        if not stored.name.lower().endswith(".pdf"):
            raise NotFound(f"page screenshots of {stored.name} (only PDFs are rendered)")
        key = (file_id, page_index)
        if key not in self._screenshots:
            try:
                self._screenshots[key] = page_screenshot(stored.data, page_index).data
            except IndexError:
                raise NotFound(f"page {page_index} of {stored.name}") from None
        return self._screenshots[key]

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
                fixture=self.fixtures.next("parse"),
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
        if job.fixture is not None:
            job.result = job.fixture.fresh()
            job.images = {name: TINY_PNG for name in _image_names(job.result)} | job.fixture.images
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
        import openpyxl

        result = self.parse_result(job_id)
        book = openpyxl.Workbook()
        book.remove(book.active)
        for page in result["pages"]:
            tables = [i for i in page.get("items") or [] if i.get("type") == "table"]
            for number, item in enumerate(tables):
                sheet = book.create_sheet(f"p{page.get('page')}-t{number + 1}")
                for row in item.get("rows") or []:
                    sheet.append([str(cell) if cell is not None else None for cell in row])
        if not book.worksheets:
            book.create_sheet("empty")
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


def _image_names(result: dict[str, Any]) -> list[str]:
    """Every image name a parse result lists (pages' images and charts, layout images)."""
    names: list[str] = []
    for page in result.get("pages") or []:
        for key in ("images", "charts"):
            names += [str(i["name"]) for i in page.get(key) or [] if isinstance(i, dict) and i.get("name")]
        names += [str(i["image"]) for i in page.get("layout") or [] if isinstance(i, dict) and i.get("image")]
    return names
