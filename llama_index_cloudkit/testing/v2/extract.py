"""Extract v2 (``/api/v2/extract``), saved configurations, the agent list: jobs, results, routes.

What a job reports (data, ``extract_metadata`` with citations and confidence, usage) comes from
the same places as v1 extraction, first found wins: a v2 served fixture
(``serve_v2_fixture(kind="extract")``: ``extract_result``, ``extract_metadata``, ``usage``), a v1
served extract fixture (``data``, ``extraction_metadata.field_metadata``), the test's
``on_extract`` responder, or data shaped like the schema. ``cite_sources`` and
``confidence_scores`` fill ``extract_metadata.field_metadata.document_metadata`` per top-level
field: ``citation`` (the page where the value's text occurs, with ``matching_text``, empty
``bounding_boxes`` and the page's ``page_dimensions``), ``confidence``, ``extraction_confidence``
and ``parsing_confidence``.

Credits per page (the emulator's table): extract tier turbo 1, cost_effective 3, agentic 10,
agentic_plus 45; plus the parse tier's parse credits when the input is a file (a parse job id
as input is not parsed again).

Routes:

- ``POST /api/v2/extract``: ``{file_input, configuration | configuration_id}``; ``file_input``
  is a file id (``dfl-...``, or a v1 ``file-...``) or a completed parse job id (``pjb-...``).
  Exactly one of ``configuration`` (with ``data_schema``) and ``configuration_id`` (a saved
  ``extract_v2`` configuration) is required.
- ``GET /api/v2/extract/{job_id}``: the ExtractV2Job; ``extract_result`` once ``COMPLETED``;
  ``extract_metadata``, ``usage`` and ``configuration`` only when ``expand`` names them.
- ``GET /api/v2/extract`` (cursor page), ``POST .../cancel``, ``DELETE`` (ended jobs only, else 400).
- ``POST /api/v2/extract/schema/validation`` (the root must be an object) and ``/schema/generate``
  (echoes ``data_schema``, or answers an empty object schema: the emulator has no LLM).
- ``/api/v1/beta/configurations`` (``POST`` upserts by name, product type and project; ``GET``
  lists as a cursor page) and ``/{config_id}`` (``GET``, ``PUT``, ``DELETE``).
- ``GET /api/v1/beta/extraction-agents``: the v1 agents, as a cursor page.

Not emulated (501): ``extraction_target: per_table_row``; ``page_metadata`` / ``row_metadata``;
nested citations (arrays, nested objects). Webhooks are accepted and never called.

Example:
    >>> found = document_metadata({"title": "Care"}, ["Llama Care"], {"cite_sources": True})
    >>> found["title"]["citation"][0]["page"]
    1
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from llama_index_cloudkit.testing.v1.extract import ExtractResponder, empty_like, field_metadata, source_pages
from llama_index_cloudkit.testing.v2.jobs import V2_STATUSES, JobStateError, V2Job, cursor_page
from llama_index_cloudkit.testing.v2.parse import CREDITS_PER_PAGE
from llama_index_cloudkit.testing.wire import BadRequest, NotEmulated, json_body, require_field

if TYPE_CHECKING:
    from llama_index_cloudkit.testing.state import EmulatorState
    from llama_index_cloudkit.testing.v2.state import V2State

__all__ = [
    "EXTRACT_CREDITS_PER_PAGE",
    "EXTRACT_EXPANDS",
    "EXTRACT_TIERS",
    "V2ExtractJob",
    "checked_schema",
    "document_metadata",
    "fill_extract_job",
    "selected_pages",
    "v2_extract_router",
]

EXTRACT_EXPANDS = ("configuration", "extract_metadata", "usage")
EXTRACT_TIERS = ("cost_effective", "agentic", "agentic_plus", "turbo")
EXTRACT_CREDITS_PER_PAGE = {"turbo": 1, "cost_effective": 3, "agentic": 10, "agentic_plus": 45}
_PAGE_DIMENSIONS = {"width": 612.0, "height": 792.0}


def selected_pages(pages: list[str], target_pages: str | None, max_pages: int | None) -> list[str]:
    """The pages an extraction reads; the others become empty, so page numbers stay true.

    Example:
        >>> selected_pages(["a", "b", "c"], "1,3", None)
        ['a', '', 'c']
    """
    keep = set(range(1, len(pages) + 1))
    if target_pages:
        keep = set()
        for raw in str(target_pages).split(","):
            part = raw.strip()
            if "-" in part:
                start, end = (int(x) for x in part.split("-", 1))
                keep.update(range(start, end + 1))
            elif part:
                keep.add(int(part))
    if max_pages is not None:
        keep = set(sorted(keep)[: int(max_pages)])
    return [page if number in keep else "" for number, page in enumerate(pages, start=1)]


def document_metadata(data: Any, pages: list[str], config: dict[str, Any]) -> dict[str, Any]:
    """``field_metadata.document_metadata`` for the flags set in ``config``.

    Example:
        >>> document_metadata({"n": "x"}, ["x"], {"confidence_scores": True})["n"]["parsing_confidence"]
        0.95
    """
    flags = {k: bool(config.get(k)) for k in ("cite_sources", "confidence_scores")}
    found = field_metadata(data, pages, flags)
    for entry in found.values():
        for citation in entry.get("citation", []):
            citation.setdefault("bounding_boxes", [])
            citation.setdefault("page_dimensions", dict(_PAGE_DIMENSIONS))
        if flags["confidence_scores"]:
            entry["parsing_confidence"] = 0.95
    return found


def fill_extract_job(
    job: V2ExtractJob,
    pages: list[str],
    *,
    v2_fixture: dict[str, Any] | None,
    v1_fixture: dict[str, Any] | None,
    responder: ExtractResponder | None,
    parse_job_id: str | None,
) -> None:
    """Set the job's result, ``extract_metadata``, ``usage`` and ``metadata``.

    Raises:
        NotEmulated: ``extraction_target: per_table_row``.
    """
    config = job.configuration
    schema = config.get("data_schema") or {}
    target = config.get("extraction_target") or "per_doc"
    if target == "per_table_row":
        raise NotEmulated("extraction_target per_table_row")
    pages = selected_pages(pages, config.get("target_pages"), config.get("max_pages"))
    read = [p for p in pages if p]
    metadata: dict[str, Any] = {}
    data: Any
    if v2_fixture is not None:
        data = v2_fixture.get("extract_result")
        metadata = dict(v2_fixture.get("extract_metadata") or {})
    elif v1_fixture is not None:
        data = v1_fixture.get("data")
        field = (v1_fixture.get("extraction_metadata") or {}).get("field_metadata") or {}
        metadata = {"field_metadata": {"document_metadata": field}}
    elif target == "per_page":
        data = [responder(schema, config, p) if responder else empty_like(schema) for p in pages]
    else:
        data = responder(schema, config, "\n\n".join(read)) if responder else empty_like(schema)
    if v2_fixture is None and v1_fixture is None:
        metadata = {"field_metadata": {"document_metadata": {}}}
        if target == "per_doc" and (config.get("cite_sources") or config.get("confidence_scores")):
            metadata["field_metadata"]["document_metadata"] = document_metadata(data, pages, config)
    metadata.setdefault("parse_job_id", parse_job_id)
    metadata.setdefault("parse_tier", config.get("parse_tier"))
    tier = str(config.get("tier") or "cost_effective")
    extract_credits = EXTRACT_CREDITS_PER_PAGE.get(tier, 0) * len(read)
    parse_tier = str(config.get("parse_tier") or "cost_effective")
    parse_credits = 0 if parse_job_id else CREDITS_PER_PAGE.get(parse_tier, 0) * len(read)
    usage = {
        "credits": extract_credits + parse_credits,
        "extract_credits": extract_credits,
        "parse_credits": parse_credits,
    }
    if v2_fixture is not None and isinstance(v2_fixture.get("usage"), dict):
        usage = v2_fixture["usage"]
    job.result, job.extract_metadata, job.usage = data, metadata, usage
    job.metadata = {"usage": {"num_pages_billed": len(read), "num_pages_extracted": len(read)}}


@dataclass
class V2ExtractJob:
    """An Extract v2 job: what was sent, its configuration, and the result it reports.

    Example:
        >>> from llama_index_cloudkit.testing.v2.jobs import V2JobScript
        >>> job = V2ExtractJob(V2Job("exj-1", V2JobScript()), {}, "proj", "dfl-1", {}, None)
        >>> job.job_json(["configuration"])["configuration"]
        {}
    """

    life: V2Job
    request: dict[str, Any]
    project_id: str
    file_input: str
    configuration: dict[str, Any]
    configuration_id: str | None
    result: Any = None
    extract_metadata: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The job id."""
        return self.life.id

    def job_json(self, expand: list[str]) -> dict[str, Any]:
        """The ExtractV2Job; ``extract_metadata``, ``usage`` and ``configuration`` only when expanded."""
        status = self.life.status
        answer: dict[str, Any] = {
            "id": self.id,
            "project_id": self.project_id,
            "file_input": self.file_input,
            "status": status,
            "created_at": self.life.created_at,
            "updated_at": self.life.updated_at,
            "error_message": self.life.error_message,
            "configuration_id": self.configuration_id,
        }
        if status == "COMPLETED":
            answer["extract_result"] = self.result
            answer["metadata"] = self.metadata
            if "extract_metadata" in expand:
                answer["extract_metadata"] = self.extract_metadata
            if "usage" in expand:
                answer["usage"] = self.usage
        if "configuration" in expand:
            answer["configuration"] = self.configuration
        return answer


def checked_schema(schema: Any, loc: list[str]) -> dict[str, Any]:
    """The schema, normalised (``type: object`` added to bare ``properties``); 400 unless an object.

    Example:
        >>> checked_schema({"properties": {"a": {"type": "string"}}}, ["body", "data_schema"])["type"]
        'object'
    """
    if not isinstance(schema, dict):
        raise BadRequest(loc, "Input should be a valid dictionary", "dict_type")
    normalised = dict(schema)
    if "type" not in normalised and "properties" in normalised:
        normalised["type"] = "object"
    if normalised.get("type") != "object":
        raise JobStateError(
            f"Invalid data_schema: the root must be of type 'object', got {normalised.get('type')!r}"
        )
    return normalised


def _document_pages(state: EmulatorState, v2: V2State, file_input: str) -> tuple[list[str], str | None]:
    """The input's pages (markdown), and the parse job id when the input is one."""
    if file_input.startswith("pjb-"):
        job = v2.get_parse_job(file_input)
        if job.life.status != "COMPLETED":
            raise JobStateError(
                f"Parse job {file_input} is {job.life.status}; only a COMPLETED parse job can be extracted"
            )
        if job.v2_fixture is not None:
            pages = (job.v2_fixture.body.get("markdown") or {}).get("pages") or []
            return [str(p.get("markdown") or "") for p in pages], job.id
        return [str(p.get("md") or "") for p in (job.result or {}).get("pages") or []], job.id
    state.get_file(file_input)
    return source_pages(state, {"file_id": file_input}), None


def _configuration(v2: V2State, body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    inline, saved_id = body.get("configuration"), body.get("configuration_id")
    if (inline is None) == (saved_id is None):
        raise BadRequest(["body"], "Provide exactly one of configuration or configuration_id", "value_error")
    if saved_id is not None:
        saved = v2.get_configuration(str(saved_id))
        if saved["product_type"] != "extract_v2":
            raise JobStateError(
                f"Configuration {saved_id} is a {saved['product_type']} configuration, not extract_v2"
            )
        config = {k: v for k, v in saved["parameters"].items() if k != "product_type"}
        return config, str(saved_id)
    if not isinstance(inline, dict):
        raise BadRequest(["body", "configuration"], "Input should be a valid dictionary", "dict_type")
    checked_schema(require_field(inline, "data_schema", dict), ["body", "configuration", "data_schema"])
    tier = inline.get("tier")
    if tier is not None and tier not in EXTRACT_TIERS:
        raise BadRequest(
            ["body", "configuration", "tier"],
            f"Input should be {', '.join(map(repr, EXTRACT_TIERS))}",
            "enum",
        )
    return dict(inline), None


def v2_extract_router(state: EmulatorState) -> APIRouter:
    """The Extract v2 routes, bound to ``state``.

    Example:
        >>> from llama_index_cloudkit.testing.state import EmulatorState
        >>> any(r.path == "/api/v1/beta/configurations" for r in v2_extract_router(EmulatorState()).routes)
        True
    """
    router = APIRouter()
    v2 = state.v2

    @router.post("/api/v2/extract")
    async def create_job(request: Request) -> Response:
        body = await json_body(request)
        file_input = require_field(body, "file_input", str)
        config, config_id = _configuration(v2, body)
        pages, parse_job_id = await asyncio.to_thread(_document_pages, state, v2, file_input)
        v2_fixture = v2.fixtures.next("extract")
        v1_fixture = None if v2_fixture is not None else state.fixtures.next("extract")
        job = v2.add_extract_job(body, request.query_params.get("project_id"), file_input, config, config_id)
        await asyncio.to_thread(
            fill_extract_job,
            job,
            pages,
            v2_fixture=v2_fixture.fresh() if v2_fixture else None,
            v1_fixture=v1_fixture.fresh() if v1_fixture else None,
            responder=state.extraction.responder,
            parse_job_id=parse_job_id,
        )
        return JSONResponse(job.job_json([]))

    @router.get("/api/v2/extract")
    async def list_jobs(request: Request) -> Response:
        params = request.query_params
        status = params.get("status")
        if status is not None and status not in V2_STATUSES:
            raise BadRequest(["query", "status"], f"Input should be one of {', '.join(V2_STATUSES)}", "enum")
        project_id = params.get("project_id")
        jobs = [
            j.job_json([])
            for j in list(v2.extract_jobs.values())
            if status in (None, j.life.status) and project_id in (None, j.project_id)
        ]
        return JSONResponse(cursor_page(jobs, params.get("page_size"), params.get("page_token")))

    @router.get("/api/v2/extract/{job_id}")
    async def get_job(job_id: str, request: Request) -> Response:
        expand = request.query_params.getlist("expand")
        for value in expand:
            if value not in EXTRACT_EXPANDS:
                raise BadRequest(
                    ["query", "expand"], f"Input should be one of {', '.join(EXTRACT_EXPANDS)}", "enum"
                )
        job = v2.get_extract_job(job_id)
        job.life.poll()
        return JSONResponse(job.job_json(expand))

    @router.post("/api/v2/extract/{job_id}/cancel")
    async def cancel_job(job_id: str) -> Response:
        job = v2.get_extract_job(job_id)
        job.life.cancel()
        return JSONResponse(job.job_json([]))

    @router.delete("/api/v2/extract/{job_id}")
    async def delete_job(job_id: str) -> Response:
        job = v2.delete_extract_job(job_id)
        return JSONResponse({"id": job.id, "project_id": job.project_id})

    @router.post("/api/v2/extract/schema/validation")
    async def validate_schema(request: Request) -> Response:
        body = await json_body(request)
        schema = require_field(body, "data_schema", dict)
        return JSONResponse({"data_schema": checked_schema(schema, ["body", "data_schema"])})

    @router.post("/api/v2/extract/schema/generate")
    async def generate_schema(request: Request) -> Response:
        body = await json_body(request) or {}
        if not isinstance(body, dict):
            raise BadRequest(["body"], "Input should be a valid dictionary", "dict_type")
        if body.get("file_id") is not None:
            state.get_file(str(body["file_id"]))
        given = body.get("data_schema")
        schema = (
            checked_schema(given, ["body", "data_schema"])
            if given is not None
            else {"type": "object", "properties": {}}
        )
        name = body.get("name") or "generated_schema"
        return JSONResponse(
            {"name": name, "parameters": {"product_type": "extract_v2", "data_schema": schema}}
        )

    @router.post("/api/v1/beta/configurations")
    async def upsert_configuration(request: Request) -> Response:
        body = await json_body(request)
        name = require_field(body, "name", str)
        parameters = require_field(body, "parameters", dict)
        require_field(parameters, "product_type", str)
        if parameters["product_type"] == "extract_v2":
            parameters = {
                **parameters,
                "data_schema": checked_schema(
                    require_field(parameters, "data_schema", dict), ["body", "parameters", "data_schema"]
                ),
            }
        return JSONResponse(v2.upsert_configuration(name, parameters, request.query_params.get("project_id")))

    @router.get("/api/v1/beta/configurations")
    async def list_configurations(request: Request) -> Response:
        params = request.query_params
        kind, project_id = params.get("product_type"), params.get("project_id")
        items = [
            c
            for c in v2.configurations.values()
            if kind in (None, c["product_type"]) and project_id in (None, c["project_id"])
        ]
        return JSONResponse(cursor_page(items, params.get("page_size"), params.get("page_token")))

    @router.get("/api/v1/beta/configurations/{config_id}")
    async def get_configuration(config_id: str) -> Response:
        return JSONResponse(v2.get_configuration(config_id))

    @router.put("/api/v1/beta/configurations/{config_id}")
    async def update_configuration(config_id: str, request: Request) -> Response:
        saved = v2.get_configuration(config_id)
        body = await json_body(request)
        if not isinstance(body, dict):
            raise BadRequest(["body"], "Input should be a valid dictionary", "dict_type")
        if isinstance(body.get("name"), str):
            saved["name"] = body["name"]
        if isinstance(body.get("parameters"), dict):
            saved["parameters"] = body["parameters"]
            saved["version"] += 1
        return JSONResponse(saved)

    @router.delete("/api/v1/beta/configurations/{config_id}")
    async def delete_configuration(config_id: str) -> Response:
        v2.get_configuration(config_id)
        del v2.configurations[config_id]
        return JSONResponse({})

    @router.get("/api/v1/beta/extraction-agents")
    async def list_agents(request: Request) -> Response:
        params = request.query_params
        project_id = params.get("project_id")
        agents = [
            {k: a.get(k) for k in ("id", "name", "project_id", "data_schema", "config")}
            for a in state.extraction.agents.values()
            if project_id in (None, a["project_id"])
        ]
        return JSONResponse(cursor_page(agents, params.get("page_size"), params.get("page_token")))

    return router
