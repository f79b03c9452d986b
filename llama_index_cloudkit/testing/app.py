"""The emulator's HTTP surface: a FastAPI app over :class:`EmulatorState`.

One router per service and API generation, as moto splits its services, with the product's
service names: :mod:`.v1.parse` (``/api/parsing`` and ``/api/v1/parsing``), :mod:`.v1.files`
(files, presigned URLs, upload from URL, page screenshots), :mod:`.v1.extract`,
:mod:`.v1.pipelines` (indexes), and projects here. The current API (v2,
../reference/llamacloud-api-v2.md) has its own: :mod:`.v2.parse` (``/api/v2/parse``),
:mod:`.v2.files` (``/api/v1/beta/files``), :mod:`.v2.extract` (``/api/v2/extract``,
``/api/v1/beta/configurations``, ``/api/v1/beta/extraction-agents``) and :mod:`.v2.retrieval`
(``/api/v1/retrieval/retrieve``, ``/api/v1/indexes``), over :mod:`.v2.state`.
Errors are JSON in the service's shape (:mod:`.wire`).

Not emulated, or only in part. A route or input the emulator lacks answers **501**
``{"detail": "not emulated: ..."}`` (never 404, so a missing route cannot pass for a lost job);
the ``fake_llamacloud`` fixture fails a test that got one unless its marker allows it.

- parse: URL and S3 inputs (``input_url``, ``input_s3_path``), ``result/structured`` and raw
  results other than markdown, text and xlsx; chart values (``extract_charts`` reports raster
  pictures as charts without data); real layout detection (``extract_layout`` boxes of text
  items are approximate); heading detection in PDFs (no font sizes: ``md`` has no ``#``).
- extraction: real values (data is shaped like the schema, or comes from ``on_extract`` or a
  served fixture); citations only locate a top-level value's text on a page, and confidence
  and reasoning are canned (serve a fixture for realistic ones).
- files: fetching URLs (``upload_from_url`` stores a placeholder, or bytes registered with
  ``FakeLlamaCloud.serve_url``), listing and deleting files; page figures are the raster
  pictures drawn on PDF pages (vector drawings are not detected).
- indexes: data sources, data sinks, pipeline files listing, playground pipelines, project
  creation (``FakeLlamaCloud.add_project`` adds one), ``search_filters_inference_schema``
  (accepted, ignored), a real reranker (query-word overlap stands in).
- organizations, users, ``/api/v1/retrievers`` (only the composite retriever uses them),
  parse configurations, classification, sheets and reports.
- v2 parse: saved parse configurations (``configuration_id``), fetching ``source_url`` (only
  bytes registered with ``FakeLlamaCloud.serve_url``), ``*_content_metadata`` expand values
  other than ``images_content_metadata``, ``forms``; processing, agentic and webhook options
  are accepted and ignored.
- v2 extract: ``extraction_target: per_table_row``, ``page_metadata`` / ``row_metadata``,
  citations below top-level fields, real schema generation (``schema/generate`` echoes or
  answers an empty object schema).
- v2 files and indexes: listing, reading and deleting beta files; directories;
  ``/api/v1/retrieval/files/find | grep | read``; attachments; ``num_candidates`` (ignored);
  an index is created empty (fill it with ``FakeLlamaCloud.add_v2_index``).

It is served wrapped in :class:`~llama_index_cloudkit.testing.gatekeeper.Gatekeeper`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from llama_index_cloudkit.testing.jobs import NotFound
from llama_index_cloudkit.testing.state import EmulatorState
from llama_index_cloudkit.testing.v1.extract import extract_router
from llama_index_cloudkit.testing.v1.files import file_router
from llama_index_cloudkit.testing.v1.parse import parse_router
from llama_index_cloudkit.testing.v1.pipelines import pipeline_router
from llama_index_cloudkit.testing.v2.extract import v2_extract_router
from llama_index_cloudkit.testing.v2.files import v2_files_router
from llama_index_cloudkit.testing.v2.jobs import install_v2_error_handlers
from llama_index_cloudkit.testing.v2.parse import v2_parse_router, v2_parse_storage_router
from llama_index_cloudkit.testing.v2.retrieval import v2_retrieval_router
from llama_index_cloudkit.testing.wire import install_error_handlers, not_emulated

__all__ = ["CONTROL_PREFIX", "build_app"]

CONTROL_PREFIX = "/_fake"


def build_app(state: EmulatorState) -> FastAPI:
    """The FastAPI app of the emulated LlamaCloud API.

    Example:
        >>> build_app(EmulatorState()).title
        'LlamaCloud emulator (llama-index-cloudkit)'
    """
    app = FastAPI(
        title="LlamaCloud emulator (llama-index-cloudkit)", openapi_url=None, docs_url=None, redoc_url=None
    )
    install_error_handlers(app)
    app.include_router(parse_router(state))
    app.include_router(file_router(state))
    app.include_router(extract_router(state))
    app.include_router(pipeline_router(state))
    install_v2_error_handlers(app)
    app.include_router(v2_parse_router(state))
    app.include_router(v2_parse_storage_router(state))
    app.include_router(v2_files_router(state))
    app.include_router(v2_extract_router(state))
    app.include_router(v2_retrieval_router(state))

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

    @app.post(CONTROL_PREFIX + "/reset")
    async def control_reset() -> Response:
        state.reset()
        return JSONResponse({"reset": True})

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def catch_all(path: str, request: Request) -> Response:
        return not_emulated(f"{request.method} /{path}")

    return app
