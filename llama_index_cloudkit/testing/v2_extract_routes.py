"""Routes of the emulated Extract v2 API, saved configurations and the extraction-agent list.

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

Not emulated (501): see :mod:`.v2_extraction`; webhooks are accepted and never called.

Example:
    >>> router = v2_extract_router(EmulatorState())
    >>> any(r.path == "/api/v2/extract/schema/validation" for r in router.routes)
    True
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from llama_index_cloudkit.testing.extract_routes import source_pages
from llama_index_cloudkit.testing.state import EmulatorState
from llama_index_cloudkit.testing.v2_extraction import EXTRACT_TIERS, fill_extract_job
from llama_index_cloudkit.testing.v2_jobs import V2_STATUSES, JobStateError, cursor_page
from llama_index_cloudkit.testing.v2_state import V2State, v2_state_of
from llama_index_cloudkit.testing.wire import BadRequest, json_body, require_field

__all__ = ["EXTRACT_EXPANDS", "checked_schema", "v2_extract_router"]

EXTRACT_EXPANDS = ("configuration", "extract_metadata", "usage")


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
        >>> any(r.path == "/api/v1/beta/configurations" for r in v2_extract_router(EmulatorState()).routes)
        True
    """
    router = APIRouter()
    v2 = v2_state_of(state)

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
            responder=state.extract_responder,
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
            for a in state.agents.values()
            if project_id in (None, a["project_id"])
        ]
        return JSONResponse(cursor_page(agents, params.get("page_size"), params.get("page_token")))

    return router
