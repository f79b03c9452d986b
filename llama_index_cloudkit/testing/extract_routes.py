"""Routes of the emulated extraction API (E1-E13 of the reference).

Jobs answer ``PENDING`` when created and then follow their script (``SUCCESS`` by default);
the run of a job follows it (``ERROR`` with ``data: null`` when the job failed). Unknown ids
are a JSON 404; a body without a required field is a FastAPI-shaped 422.

Example:
    >>> router = extract_router(EmulatorState())
    >>> any(r.path == "/api/v1/extraction/jobs/{job_id}" for r in router.routes)
    True
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from llama_index_cloudkit.parse.local.text import decode_text
from llama_index_cloudkit.testing.jobs import DEFAULT_PROJECT, NotFound
from llama_index_cloudkit.testing.state import EmulatorState
from llama_index_cloudkit.testing.wire import BadRequest, detail, json_body, require_field

__all__ = ["extract_router", "source_pages", "source_text"]


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(["query", name], "Input should be a valid integer", "int_parsing") from None
    if value < 0:
        raise BadRequest(["query", name], "Input should be greater than or equal to 0", "greater_than_equal")
    return value


def source_text(state: EmulatorState, body: dict[str, Any]) -> str:
    """The text an extraction works on, for responders: from text, file bytes or a file id.

    Example:
        >>> source_text(EmulatorState(), {"text": "Llamas eat hay."})
        'Llamas eat hay.'
    """
    return "\n\n".join(source_pages(state, body))


def source_pages(state: EmulatorState, body: dict[str, Any]) -> list[str]:
    """The document's pages as text (one page for text inputs and unparsed types).

    Example:
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
            agent = state.create_agent(
                name, schema, body.get("config") or {}, request.query_params.get("project_id")
            )
        except ValueError as exc:
            return detail(str(exc), 409)
        return JSONResponse(agent)

    @router.get("/extraction-agents")
    async def list_agents(request: Request) -> Response:
        project_id = request.query_params.get("project_id")
        agents = [a for a in state.agents.values() if project_id in (None, a["project_id"])]
        return JSONResponse(agents)

    @router.get("/extraction-agents/by-name/{name:path}")
    async def agent_by_name(name: str, request: Request) -> Response:
        agent = state.agent_by_name(name)
        project_id = request.query_params.get("project_id")
        if project_id not in (None, agent["project_id"]):
            raise NotFound(name)
        return JSONResponse(agent)

    @router.get("/extraction-agents/{agent_id}")
    async def get_agent(agent_id: str) -> Response:
        return JSONResponse(state.get_agent(agent_id))

    @router.put("/extraction-agents/{agent_id}")
    async def update_agent(agent_id: str, request: Request) -> Response:
        agent = state.get_agent(agent_id)
        body = await json_body(request)
        schema = _schema(body, "data_schema")
        config = require_field(body, "config", dict)
        agent["config"], agent["data_schema"] = config, schema
        return JSONResponse(agent)

    @router.delete("/extraction-agents/{agent_id}")
    async def delete_agent(agent_id: str) -> Response:
        state.get_agent(agent_id)
        del state.agents[agent_id]
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
        job = state.create_extract_job(agent, schema, config, "\n\n".join(pages), body.get("file_id"), pages)
        return JSONResponse(job)

    @router.post("/jobs")
    async def agent_run(request: Request) -> Response:
        body = await json_body(request)
        agent = state.get_agent(require_field(body, "extraction_agent_id", str))
        file_id = require_field(body, "file_id", str)
        schema = body.get("data_schema_override") or agent["data_schema"]
        config = body.get("config_override") or agent["config"]
        pages = source_pages(state, {"file_id": file_id})
        return JSONResponse(
            state.create_extract_job(agent, schema, config, "\n\n".join(pages), file_id, pages)
        )

    @router.get("/jobs/{job_id}")
    async def get_extract_job(job_id: str) -> Response:
        return JSONResponse(state.poll_extract_job(job_id))

    @router.get("/runs/by-job/{job_id}")
    async def run_by_job(job_id: str) -> Response:
        return JSONResponse(state.run_for_job(job_id))

    @router.get("/runs")
    async def list_runs(request: Request) -> Response:
        agent_id = request.query_params.get("extraction_agent_id")
        skip, limit = _int_param(request, "skip", 0), _int_param(request, "limit", 100)
        items = [r for r in state.extract_runs.values() if agent_id in (None, r["extraction_agent_id"])]
        return JSONResponse(
            {"items": items[skip : skip + limit], "skip": skip, "limit": limit, "total": len(items)}
        )

    @router.get("/runs/{run_id}")
    async def get_run(run_id: str) -> Response:
        if run_id not in state.extract_runs:
            raise NotFound(run_id)
        return JSONResponse(state.extract_runs[run_id])

    @router.delete("/runs/{run_id}")
    async def delete_run(run_id: str) -> Response:
        if run_id not in state.extract_runs:
            raise NotFound(run_id)
        del state.extract_runs[run_id]
        return JSONResponse({})

    return router
