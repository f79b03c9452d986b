"""LlamaParse v1 (P1-P10, under both ``/api/parsing`` and ``/api/v1/parsing``): jobs and routes.

A job's result is computed in the background by the local parser (:mod:`.._pages`) unless a
fixture is served; its status follows its :class:`~llama_index_cloudkit.testing.jobs.JobScript`.
The job registry is :class:`~llama_index_cloudkit.testing.state.EmulatorState` (``parse_jobs``).

Not emulated (501): URL and S3 inputs, ``result/structured`` and raw results other than
markdown, text and xlsx.

Example:
    >>> from llama_index_cloudkit.testing.state import EmulatorState
    >>> router = parse_router(EmulatorState())
    >>> any(r.path == "/api/v1/parsing/job/{job_id}/result/json" for r in router.routes)
    True
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from llama_index_cloudkit.testing.fixtures import ServedFixture
from llama_index_cloudkit.testing.jobs import ScriptedJob
from llama_index_cloudkit.testing.wire import NotEmulated, validation_error

if TYPE_CHECKING:
    from llama_index_cloudkit.testing.state import EmulatorState

__all__ = ["ParseJob", "parse_router", "typed_result"]

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class ParseJob(ScriptedJob):
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
    fixture: ServedFixture | None = None


def typed_result(state: EmulatorState, job_id: str, kind: str) -> str:
    """The ``markdown`` or ``text`` result of a job: its pages joined by the page separator.

    Raises:
        NotEmulated: any other kind.

    Example:
        >>> from llama_index_cloudkit.testing.state import EmulatorState
        >>> typed_result(EmulatorState(), "job", "structured")
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.testing.wire.NotEmulated: structured results
    """
    if kind not in ("markdown", "text"):
        raise NotEmulated(f"{kind} results")
    job = state.get_parse_job(job_id)
    result = state.parse_result(job_id)
    separator = job.form.get("page_separator") or "\n---\n"
    key = "md" if kind == "markdown" else "text"
    return separator.join(str(p.get(key) or "") for p in result.get("pages") or [])


def parse_router(state: EmulatorState) -> APIRouter:
    """The parse routes, bound to ``state``.

    Example:
        >>> from llama_index_cloudkit.testing.state import EmulatorState
        >>> any(r.path == "/api/parsing/upload" for r in parse_router(EmulatorState()).routes)
        True
    """
    router = APIRouter()

    @router.post("/api/parsing/upload")
    @router.post("/api/v1/parsing/upload")
    async def parse_upload(request: Request) -> Response:
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            if fields.get("input_url") or fields.get("input_s3_path"):
                raise NotEmulated("URL and S3 parse inputs")
            return validation_error(["body", "file"], "Field required", "missing")
        data = await upload.read()
        await upload.close()
        job = state.create_parse_job(
            data, upload.filename or "upload.bin", fields, dict(request.query_params)
        )
        return JSONResponse({"id": job.id, "status": "PENDING"})

    for prefix in ("/api/parsing", "/api/v1/parsing"):

        @router.get(prefix + "/job/{job_id}")
        async def parse_status(job_id: str) -> Response:
            return JSONResponse(await asyncio.to_thread(state.poll_parse_job, job_id))

        @router.get(prefix + "/job/{job_id}/result/json")
        async def parse_json(job_id: str) -> Response:
            return JSONResponse(await asyncio.to_thread(state.parse_result, job_id))

        @router.get(prefix + "/job/{job_id}/result/image/{name:path}")
        async def parse_image(job_id: str, name: str) -> Response:
            data = await asyncio.to_thread(state.parse_image, job_id, name)
            kind = "image/jpeg" if name.endswith(".jpg") else "image/png"
            return Response(data, media_type=kind)

        @router.get(prefix + "/job/{job_id}/result/raw/xlsx")
        @router.get(prefix + "/job/{job_id}/result/xlsx")
        async def parse_xlsx(job_id: str) -> Response:
            return Response(await asyncio.to_thread(state.parse_xlsx, job_id), media_type=_XLSX)

        @router.get(prefix + "/job/{job_id}/result/raw/{kind}")
        async def parse_raw(job_id: str, kind: str) -> Response:
            body = await asyncio.to_thread(typed_result, state, job_id, kind)
            return Response(body.encode("utf-8"), media_type="text/plain")

        @router.get(prefix + "/job/{job_id}/result/{kind}")
        async def parse_result_kind(job_id: str, kind: str) -> Response:
            body = await asyncio.to_thread(typed_result, state, job_id, kind)
            metadata = state.parse_result(job_id).get("job_metadata", {})
            return JSONResponse({kind: body, "job_metadata": metadata})

    return router
