"""LlamaExtract v1 (``/api/v1/extraction``, E1-E13 of the reference): agents, jobs, runs, routes.

Jobs answer ``PENDING`` when created and then follow their script (``SUCCESS`` by default);
the run of a job follows it (``ERROR`` with ``data: null`` when the job failed). Unknown ids
are a JSON 404; a body without a required field is a FastAPI-shaped 422. A run's data comes
from a served fixture, the test's ``on_extract`` responder, or is shaped like the schema.

Example:
    >>> from llama_index_cloudkit.testing.state import EmulatorState
    >>> router = extract_router(EmulatorState())
    >>> any(r.path == "/api/v1/extraction/jobs/{job_id}" for r in router.routes)
    True
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from llama_index_cloudkit.parse.local.text import decode_text
from llama_index_cloudkit.testing.fixtures import ServedFixtures
from llama_index_cloudkit.testing.jobs import DEFAULT_PROJECT, JobScript, NotFound, ScriptedJob
from llama_index_cloudkit.testing.wire import BadRequest, detail, json_body, require_field

if TYPE_CHECKING:
    from llama_index_cloudkit.testing.state import EmulatorState

__all__ = [
    "ExtractResponder",
    "Extraction",
    "empty_like",
    "extract_router",
    "field_metadata",
    "source_pages",
]

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


def _citation(value: Any, pages: list[str]) -> list[dict[str, Any]]:
    if value is None or isinstance(value, (dict, list)) or str(value).strip() == "":
        return []
    needle = str(value).strip().lower()
    for number, page in enumerate(pages, start=1):
        if needle in page.lower():
            return [{"page": number, "matching_text": str(value).strip()}]
    return []


def field_metadata(data: Any, pages: list[str], config: dict[str, Any]) -> dict[str, Any]:
    """``extraction_metadata.field_metadata`` as LlamaExtract reports it, for the flags set.

    Per top-level field: ``citation`` (``cite_sources``: the page where the value's text
    occurs), ``confidence`` and ``extraction_confidence`` (``confidence_scores``: 0.95 when the
    value is found in the document, else 0.5) and ``reasoning`` (``use_reasoning``).

    Example:
        >>> field_metadata({"title": "Care"}, ["Llama Care"], {"cite_sources": True})
        {'title': {'citation': [{'page': 1, 'matching_text': 'Care'}]}}
    """
    if not isinstance(data, dict):
        return {}
    answer: dict[str, Any] = {}
    for name, value in data.items():
        found = _citation(value, pages)
        entry: dict[str, Any] = {}
        if config.get("cite_sources"):
            entry["citation"] = found
        if config.get("confidence_scores"):
            entry["confidence"] = entry["extraction_confidence"] = 0.95 if found else 0.5
        if config.get("use_reasoning"):
            where = f"page {found[0]['page']}" if found else "no page of the document"
            entry["reasoning"] = f"Emulated: the value was found on {where}."
        answer[name] = entry
    return answer


_METADATA_FLAGS = ("cite_sources", "confidence_scores", "use_reasoning")


class Extraction:
    """Extraction agents, jobs and runs (``EmulatorState.extraction``); thread-safe.

    Example:
        >>> extraction = Extraction(ServedFixtures())
        >>> agent = extraction.create_agent("invoices", {"type": "object"}, {}, None)
        >>> job = extraction.create_extract_job(agent, {"type": "object"}, {}, "text", None)
        >>> extraction.poll_extract_job(job["id"])["status"]
        'SUCCESS'
    """

    def __init__(self, fixtures: ServedFixtures) -> None:
        self._lock = threading.RLock()
        self.fixtures = fixtures
        self.agents: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.script = JobScript()
        self._queue: deque[JobScript] = deque()
        self.responder: ExtractResponder | None = None
        self._scripts: dict[str, ScriptedJob] = {}

    def script_jobs(self, script: JobScript, count: int | None = None) -> None:
        """Make the next ``count`` extraction jobs (all when None) follow ``script``."""
        with self._lock:
            if count is None:
                self.script = script
            else:
                self._queue.extend([script] * count)

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
        pages: list[str] | None = None,
    ) -> dict[str, Any]:
        """Register an extraction job and its run; the run's data comes from the responder.

        ``pages`` (the document's pages, default ``[text]``) place citations on pages.
        """
        with self._lock:
            script = self._queue.popleft() if self._queue else self.script
            job_id = f"exjob-{uuid.uuid4()}"
            job = {
                "id": job_id,
                "status": "PENDING",
                "extraction_agent": agent,
                "file_id": file_id,
                "error": None,
            }
            self.jobs[job_id] = job
            self._scripts[job_id] = ScriptedJob(id=job_id, script=script, created=time.monotonic())
            data: Any
            metadata: dict[str, Any]
            fixture = self.fixtures.next("extract")
            if fixture is not None:
                body = fixture.fresh()
                data = body.get("data")
                metadata = dict(body.get("extraction_metadata") or {})
            elif self.responder is not None:
                data = self.responder(schema, config, text)
                metadata = {"emulated": True, "responder": True}
            else:
                data = empty_like(schema)
                metadata = {
                    "emulated": True,
                    "note": "llama_index_cloudkit emulator: data shaped like the schema",
                }
            if fixture is None and any(config.get(flag) for flag in _METADATA_FLAGS):
                metadata["field_metadata"] = field_metadata(data, pages or [text], config)
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
            self.runs[run["id"]] = run
            return job

    def poll_extract_job(self, job_id: str) -> dict[str, Any]:
        """The ExtractJob answer for one poll."""
        with self._lock:
            if job_id not in self.jobs:
                raise NotFound(job_id)
            job = self.jobs[job_id]
            status = self._scripts[job_id].current_status()
            job["status"] = status
            if status not in ("PENDING", "SUCCESS"):
                job["error"] = self._scripts[job_id].script.error_message or f"Job {status}"
            return job

    def run_for_job(self, job_id: str) -> dict[str, Any]:
        """The ExtractRun of a job, with its status following the job's."""
        with self._lock:
            for run in self.runs.values():
                if run["job_id"] == job_id:
                    job_status = self.jobs[job_id]["status"]
                    run["status"] = {"SUCCESS": "SUCCESS", "PENDING": "PENDING"}.get(job_status, "ERROR")
                    if run["status"] == "ERROR":
                        run["error"] = self.jobs[job_id]["error"]
                        run["data"] = None
                    return run
            raise NotFound(job_id)


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(["query", name], "Input should be a valid integer", "int_parsing") from None
    if value < 0:
        raise BadRequest(["query", name], "Input should be greater than or equal to 0", "greater_than_equal")
    return value


def source_pages(state: EmulatorState, body: dict[str, Any]) -> list[str]:
    """The document's pages as text (one page for text inputs and unparsed types).

    Example:
        >>> from llama_index_cloudkit.testing.state import EmulatorState
        >>> source_pages(EmulatorState(), {"text": "Llamas eat hay."})
        ['Llamas eat hay.']
    """
    if body.get("text"):
        return [str(body["text"])]
    data: bytes | None = None
    name = "upload.txt"
    if isinstance(body.get("file"), dict) and body["file"].get("data"):
        try:
            data = base64.b64decode(body["file"]["data"], validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(
                ["body", "file", "data"], "Invalid base64-encoded string", "value_error"
            ) from None
        name = "upload" + _suffix_for_mime(str(body["file"].get("mime_type", "")))
    elif body.get("file_id"):
        stored = state.get_file(body["file_id"])
        data, name = stored.data, stored.name
    if data is None:
        return [""]
    from llama_index_cloudkit.errors import CloudKitError
    from llama_index_cloudkit.parse.local import LocalParser

    parser = LocalParser(ocr="off")
    if not parser.supports(name):
        return [decode_text(data)]
    try:
        return [p.markdown() for p in parser.parse(data, name).pages] or [""]
    except CloudKitError as exc:  # the responder gets a readable note instead of the text
        return [f"<emulator could not read {name}: {exc}>"]


def _suffix_for_mime(mime: str) -> str:
    from llama_index_cloudkit.parse.local import SUPPORTED_SUFFIXES, mime_type

    for suffix in SUPPORTED_SUFFIXES:
        if mime_type("x" + suffix) == mime:
            return suffix
    return ".txt"


def _schema(body: Any, name: str) -> dict[str, Any]:
    schema: dict[str, Any] = require_field(body, name, dict)
    return schema


def extract_router(state: EmulatorState) -> APIRouter:
    """The extraction routes, bound to ``state``.

    Example:
        >>> from llama_index_cloudkit.testing.state import EmulatorState
        >>> any(r.path.endswith("/schema/validation") for r in extract_router(EmulatorState()).routes)
        True
    """
    router = APIRouter(prefix="/api/v1/extraction")

    @router.post("/extraction-agents/schema/validation")
    async def validate_schema(request: Request) -> Response:
        return JSONResponse({"data_schema": _schema(await json_body(request), "data_schema")})

    @router.post("/extraction-agents")
    async def create_agent(request: Request) -> Response:
        body = await json_body(request)
        name = require_field(body, "name", str)
        schema = _schema(body, "data_schema")
        try:
            agent = state.extraction.create_agent(
                name, schema, body.get("config") or {}, request.query_params.get("project_id")
            )
        except ValueError as exc:
            return detail(str(exc), 409)
        return JSONResponse(agent)

    @router.get("/extraction-agents")
    async def list_agents(request: Request) -> Response:
        project_id = request.query_params.get("project_id")
        agents = [a for a in state.extraction.agents.values() if project_id in (None, a["project_id"])]
        return JSONResponse(agents)

    @router.get("/extraction-agents/by-name/{name:path}")
    async def agent_by_name(name: str, request: Request) -> Response:
        agent = state.extraction.agent_by_name(name)
        project_id = request.query_params.get("project_id")
        if project_id not in (None, agent["project_id"]):
            raise NotFound(name)
        return JSONResponse(agent)

    @router.get("/extraction-agents/{agent_id}")
    async def get_agent(agent_id: str) -> Response:
        return JSONResponse(state.extraction.get_agent(agent_id))

    @router.put("/extraction-agents/{agent_id}")
    async def update_agent(agent_id: str, request: Request) -> Response:
        agent = state.extraction.get_agent(agent_id)
        body = await json_body(request)
        schema = _schema(body, "data_schema")
        config = require_field(body, "config", dict)
        agent["config"], agent["data_schema"] = config, schema
        return JSONResponse(agent)

    @router.delete("/extraction-agents/{agent_id}")
    async def delete_agent(agent_id: str) -> Response:
        state.extraction.get_agent(agent_id)
        del state.extraction.agents[agent_id]
        return JSONResponse({})  # the SDK calls response.json() here

    @router.post("/run")
    async def stateless_run(request: Request) -> Response:
        body = await json_body(request)
        schema = _schema(body, "data_schema")
        config = body.get("config") or {}
        if not any(body.get(k) for k in ("file", "text", "file_id")):
            raise BadRequest(["body"], "One of file, text or file_id is required", "value_error")
        pages = source_pages(state, body)
        agent = {
            "id": "stateless",
            "name": "stateless",
            "data_schema": schema,
            "config": config,
            "project_id": request.query_params.get("project_id", DEFAULT_PROJECT["id"]),
        }
        job = state.extraction.create_extract_job(
            agent, schema, config, "\n\n".join(pages), body.get("file_id"), pages
        )
        return JSONResponse(job)

    @router.post("/jobs")
    async def agent_run(request: Request) -> Response:
        body = await json_body(request)
        agent = state.extraction.get_agent(require_field(body, "extraction_agent_id", str))
        file_id = require_field(body, "file_id", str)
        schema = body.get("data_schema_override") or agent["data_schema"]
        config = body.get("config_override") or agent["config"]
        pages = source_pages(state, {"file_id": file_id})
        return JSONResponse(
            state.extraction.create_extract_job(agent, schema, config, "\n\n".join(pages), file_id, pages)
        )

    @router.get("/jobs/{job_id}")
    async def get_extract_job(job_id: str) -> Response:
        return JSONResponse(state.extraction.poll_extract_job(job_id))

    @router.get("/runs/by-job/{job_id}")
    async def run_by_job(job_id: str) -> Response:
        return JSONResponse(state.extraction.run_for_job(job_id))

    @router.get("/runs")
    async def list_runs(request: Request) -> Response:
        agent_id = request.query_params.get("extraction_agent_id")
        skip, limit = _int_param(request, "skip", 0), _int_param(request, "limit", 100)
        items = [r for r in state.extraction.runs.values() if agent_id in (None, r["extraction_agent_id"])]
        return JSONResponse(
            {"items": items[skip : skip + limit], "skip": skip, "limit": limit, "total": len(items)}
        )

    @router.get("/runs/{run_id}")
    async def get_run(run_id: str) -> Response:
        if run_id not in state.extraction.runs:
            raise NotFound(run_id)
        return JSONResponse(state.extraction.runs[run_id])

    @router.delete("/runs/{run_id}")
    async def delete_run(run_id: str) -> Response:
        if run_id not in state.extraction.runs:
            raise NotFound(run_id)
        del state.extraction.runs[run_id]
        return JSONResponse({})

    return router
