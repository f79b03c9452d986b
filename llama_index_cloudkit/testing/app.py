"""The emulator's HTTP surface: a FastAPI app over :class:`EmulatorState`.

Implements the parse (both ``/api/parsing`` and ``/api/v1/parsing``), files, projects and
extraction endpoints of the reference spec, and the index endpoints through
:mod:`.pipeline_routes`. Not emulated (a 404 or 400 that says so): ``result/structured``,
URL and S3 parse inputs, figure extraction, organizations, and ``/api/v1/retrievers`` (used
only by the composite retriever).

It is served wrapped in :class:`~llama_index_cloudkit.testing.gatekeeper.Gatekeeper`.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from llama_index_cloudkit.parse.local.text import decode_text
from llama_index_cloudkit.testing.jobs import DEFAULT_PROJECT, NotFound
from llama_index_cloudkit.testing.pipeline_routes import pipeline_router
from llama_index_cloudkit.testing.state import EmulatorState

__all__ = ["CONTROL_PREFIX", "build_app"]

CONTROL_PREFIX = "/_fake"


def _detail(message: str, status: int = 404) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _validation_error(loc: list[str], message: str) -> JSONResponse:
    """A 422 in FastAPI's shape, which the generated client requires."""
    return JSONResponse({"detail": [{"loc": loc, "msg": message, "type": "value_error"}]}, status_code=422)


def build_app(state: EmulatorState) -> FastAPI:
    """The FastAPI app of the emulated LlamaCloud API.

    Example:
        >>> app = build_app(EmulatorState())
        >>> any(r.path == "/api/parsing/upload" for r in app.routes)
        True
    """
    app = FastAPI(
        title="LlamaCloud emulator (llama-index-cloudkit)", openapi_url=None, docs_url=None, redoc_url=None
    )

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return _detail(f"Not found: {exc.args[0] if exc.args else request.url.path}")

    # --- parse -------------------------------------------------------------------------------

    @app.post("/api/parsing/upload")
    async def parse_upload(request: Request) -> Response:
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            if fields.get("input_url") or fields.get("input_s3_path"):
                return _detail("URL and S3 inputs are not emulated", 400)
            return _validation_error(["body", "file"], "field required")
        data = await upload.read()
        await upload.close()
        job = state.create_parse_job(
            data, upload.filename or "upload.bin", fields, dict(request.query_params)
        )
        return JSONResponse({"id": job.id, "status": "PENDING"})

    for prefix in ("/api/parsing", "/api/v1/parsing"):

        @app.get(prefix + "/job/{job_id}")
        async def parse_status(job_id: str) -> Response:
            return JSONResponse(await asyncio.to_thread(state.poll_parse_job, job_id))

        @app.get(prefix + "/job/{job_id}/result/json")
        async def parse_json(job_id: str) -> Response:
            return JSONResponse(await asyncio.to_thread(state.parse_result, job_id))

        @app.get(prefix + "/job/{job_id}/result/image/{name:path}")
        async def parse_image(job_id: str, name: str) -> Response:
            data = await asyncio.to_thread(state.parse_image, job_id, name)
            kind = "image/jpeg" if name.endswith(".jpg") else "image/png"
            return Response(data, media_type=kind)

        @app.get(prefix + "/job/{job_id}/result/raw/xlsx")
        @app.get(prefix + "/job/{job_id}/result/xlsx")
        async def parse_xlsx(job_id: str) -> Response:
            data = await asyncio.to_thread(state.parse_xlsx, job_id)
            return Response(
                data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )

        @app.get(prefix + "/job/{job_id}/result/{kind}")
        async def parse_result_kind(job_id: str, kind: str) -> Response:
            return _typed_result(state, job_id, kind)

        @app.get(prefix + "/job/{job_id}/result/raw/{kind}")
        async def parse_raw(job_id: str, kind: str) -> Response:
            body = _typed_result_body(state, job_id, kind)
            if body is None:
                return _detail(f"raw {kind} results are not emulated")
            return Response(body.encode("utf-8"), media_type="text/plain")

    # --- files ---------------------------------------------------------------------------------

    @app.post("/api/v1/files")
    async def upload_file(request: Request) -> Response:
        form = await request.form()
        upload = form.get("upload_file")
        if upload is None or isinstance(upload, str):
            return _validation_error(["body", "upload_file"], "field required")
        data = await upload.read()
        await upload.close()
        stored = state.add_file(
            upload.filename or "upload.bin",
            data,
            request.query_params.get("project_id"),
            request.query_params.get("external_file_id"),
        )
        return JSONResponse(stored.to_json())

    @app.get("/api/v1/files/{file_id}")
    async def get_file(file_id: str) -> Response:
        return JSONResponse(state.get_file(file_id).to_json())

    @app.get("/api/v1/files/{file_id}/page_screenshots/{page_index}")
    async def page_screenshot(file_id: str, page_index: int) -> Response:
        stored = state.get_file(file_id)
        if not stored.name.lower().endswith(".pdf"):
            raise NotFound(f"page screenshots of {stored.name} (only PDFs are rendered)")
        from llama_index_cloudkit.testing.parse_results import page_screenshot_jpeg

        try:
            data = await asyncio.to_thread(page_screenshot_jpeg, stored.data, page_index)
        except IndexError:
            raise NotFound(f"page {page_index} of {stored.name}") from None
        return Response(data, media_type="image/jpeg")

    @app.get("/api/v1/files/{file_id}/page-figures/{page_index}/{figure_name}")
    async def page_figure(file_id: str, page_index: int, figure_name: str) -> Response:
        state.get_file(file_id)
        raise NotFound(f"figure {figure_name!r} (the emulator extracts no figures)")

    # --- projects ------------------------------------------------------------------------------

    @app.get("/api/v1/projects")
    async def list_projects(request: Request) -> Response:
        name = request.query_params.get("project_name")
        return JSONResponse([p for p in state.projects if name in (None, p["name"])])

    @app.get("/api/v1/projects/{project_id}")
    async def get_project(project_id: str) -> Response:
        for project in state.projects:
            if project["id"] == project_id:
                return JSONResponse(project)
        raise NotFound(project_id)

    # --- extraction ----------------------------------------------------------------------------

    @app.post("/api/v1/extraction/extraction-agents/schema/validation")
    async def validate_schema(request: Request) -> Response:
        body = await request.json()
        schema = body.get("data_schema")
        if not isinstance(schema, dict):
            return _validation_error(["body", "data_schema"], "a JSON schema object is required")
        return JSONResponse({"data_schema": schema})

    @app.post("/api/v1/extraction/extraction-agents")
    async def create_agent(request: Request) -> Response:
        body = await request.json()
        try:
            agent = state.create_agent(
                body["name"],
                body.get("data_schema") or {},
                body.get("config") or {},
                request.query_params.get("project_id"),
            )
        except ValueError as exc:
            return _detail(str(exc), 409)
        return JSONResponse(agent)

    @app.get("/api/v1/extraction/extraction-agents")
    async def list_agents() -> Response:
        return JSONResponse(list(state.agents.values()))

    @app.get("/api/v1/extraction/extraction-agents/by-name/{name:path}")
    async def agent_by_name(name: str) -> Response:
        return JSONResponse(state.agent_by_name(name))

    @app.get("/api/v1/extraction/extraction-agents/{agent_id}")
    async def get_agent(agent_id: str) -> Response:
        return JSONResponse(state.get_agent(agent_id))

    @app.put("/api/v1/extraction/extraction-agents/{agent_id}")
    async def update_agent(agent_id: str, request: Request) -> Response:
        agent = state.get_agent(agent_id)
        body = await request.json()
        agent["config"] = body.get("config", agent["config"])
        agent["data_schema"] = body.get("data_schema", agent["data_schema"])
        return JSONResponse(agent)

    @app.delete("/api/v1/extraction/extraction-agents/{agent_id}")
    async def delete_agent(agent_id: str) -> Response:
        state.get_agent(agent_id)
        del state.agents[agent_id]
        return JSONResponse({})  # the SDK calls response.json() here

    @app.post("/api/v1/extraction/run")
    async def stateless_run(request: Request) -> Response:
        body = await request.json()
        text = _source_text(state, body)
        agent = {
            "id": "stateless",
            "name": "stateless",
            "data_schema": body.get("data_schema"),
            "config": body.get("config") or {},
            "project_id": request.query_params.get("project_id", DEFAULT_PROJECT["id"]),
        }
        job = state.create_extract_job(
            agent, body.get("data_schema") or {}, body.get("config") or {}, text, body.get("file_id")
        )
        return JSONResponse(job)

    @app.post("/api/v1/extraction/jobs")
    async def agent_run(request: Request) -> Response:
        body = await request.json()
        agent = state.get_agent(body["extraction_agent_id"])
        schema = body.get("data_schema_override") or agent["data_schema"]
        config = body.get("config_override") or agent["config"]
        text = _source_text(state, {"file_id": body.get("file_id")})
        return JSONResponse(state.create_extract_job(agent, schema, config, text, body.get("file_id")))

    @app.get("/api/v1/extraction/jobs/{job_id}")
    async def get_extract_job(job_id: str) -> Response:
        return JSONResponse(state.poll_extract_job(job_id))

    @app.get("/api/v1/extraction/runs/by-job/{job_id}")
    async def run_by_job(job_id: str) -> Response:
        return JSONResponse(state.run_for_job(job_id))

    @app.get("/api/v1/extraction/runs")
    async def list_runs(request: Request) -> Response:
        agent_id = request.query_params.get("extraction_agent_id")
        items = [r for r in state.extract_runs.values() if agent_id in (None, r["extraction_agent_id"])]
        return JSONResponse({"items": items, "skip": 0, "limit": 100, "total": len(items)})

    @app.delete("/api/v1/extraction/runs/{run_id}")
    async def delete_run(run_id: str) -> Response:
        if run_id not in state.extract_runs:
            raise NotFound(run_id)
        del state.extract_runs[run_id]
        return JSONResponse({})

    app.include_router(pipeline_router(state))

    # --- control plane -------------------------------------------------------------------------

    @app.post(CONTROL_PREFIX + "/reset")
    async def control_reset() -> Response:
        state.reset()
        return JSONResponse({"reset": True})

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def not_emulated(path: str, request: Request) -> Response:
        return _detail(f"not emulated: {request.method} /{path}")

    return app


def _source_text(state: EmulatorState, body: dict[str, Any]) -> str:
    """The text an extraction works on, for responders: from text, file bytes or a file id."""
    if body.get("text"):
        return str(body["text"])
    data: bytes | None = None
    name = "upload.txt"
    if isinstance(body.get("file"), dict) and body["file"].get("data"):
        data = base64.b64decode(body["file"]["data"])
        name = "upload" + _suffix_for_mime(str(body["file"].get("mime_type", "")))
    elif body.get("file_id"):
        stored = state.get_file(body["file_id"])
        data, name = stored.data, stored.name
    if data is None:
        return ""
    from llama_index_cloudkit.parse.local import LocalParser

    parser = LocalParser(ocr="off")
    if not parser.supports(name):
        return decode_text(data)
    try:
        return "\n\n".join(p.markdown() for p in parser.parse(data, name).pages)
    except Exception as exc:  # the responder gets a readable note instead of the text
        return f"<emulator could not read {name}: {exc}>"


def _suffix_for_mime(mime: str) -> str:
    from llama_index_cloudkit.parse.local import SUPPORTED_SUFFIXES, mime_type

    for suffix in SUPPORTED_SUFFIXES:
        if mime_type("x" + suffix) == mime:
            return suffix
    return ".txt"


def _typed_result_body(state: EmulatorState, job_id: str, kind: str) -> str | None:
    job = state.get_parse_job(job_id)
    result = state.parse_result(job_id)
    separator = job.form.get("page_separator") or "\n---\n"
    if kind == "markdown":
        return separator.join(p["md"] for p in result["pages"])
    if kind == "text":
        return separator.join(p["text"] for p in result["pages"])
    return None


def _typed_result(state: EmulatorState, job_id: str, kind: str) -> Response:
    body = _typed_result_body(state, job_id, kind)
    if body is None:
        return _detail(f"{kind} results are not emulated")
    return JSONResponse({kind: body, "job_metadata": state.parse_result(job_id)["job_metadata"]})
