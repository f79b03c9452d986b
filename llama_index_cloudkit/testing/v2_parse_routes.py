"""Routes of the emulated Parse v2 API (``/api/v2/parse...``), per the v2 reference, section 2.

- ``POST /api/v2/parse``: JSON with ``tier``, ``version`` and one of ``file_id`` (a ``dfl-`` file)
  or ``source_url`` (only URLs registered with ``FakeLlamaCloud.serve_url``: nothing is fetched).
- ``POST /api/v2/parse/upload``: multipart, a ``configuration`` part (a JSON string) and ``file``.
- ``GET /api/v2/parse/{job_id}``: ``{job}`` and, once ``COMPLETED``, the sections ``expand`` names
  (``?expand=a&expand=b``); ``markdown``, ``markdown_full`` and ``items`` on a ``fast`` job answer
  400, as those outputs do not exist on that tier.
- ``GET /api/v2/parse``: a cursor page of jobs; ``POST .../cancel``; ``DELETE`` (ended jobs only,
  else 400); ``GET /api/v2/parse/versions``.

Not emulated (501): ``configuration_id`` (saved parse configurations), URLs nobody registered,
the ``*_content_metadata`` expand values other than ``images_content_metadata``, ``forms``.
Accepted and ignored: webhooks, ``processing_options``, ``agentic_options``, ``crop_box``,
``disable_cache``, ``input_options``, ``processing_control``.

Example:
    >>> router = v2_parse_router(EmulatorState())
    >>> any(r.path == "/api/v2/parse/{job_id}/cancel" for r in router.routes)
    True
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from llama_index_cloudkit.testing.jobs import NotFound
from llama_index_cloudkit.testing.state import EmulatorState
from llama_index_cloudkit.testing.storage import DEFAULT_EXPIRY_SECONDS, STORAGE_PREFIX
from llama_index_cloudkit.testing.v2_jobs import V2_STATUSES, cursor_page
from llama_index_cloudkit.testing.v2_parse_results import (
    EXPAND_VALUES,
    INLINE_EXPANDS,
    LATEST_VERSIONS,
    NOT_ON_FAST,
    VERSIONS,
    expanded_sections,
    resolve_version,
)
from llama_index_cloudkit.testing.v2_state import V2ParseJob, v2_state_of
from llama_index_cloudkit.testing.wire import BadRequest, NotEmulated, detail, json_body, require_field

__all__ = ["image_category", "v2_parse_router", "v2_parse_storage_router"]


def image_category(name: str) -> str:
    """The v2 image category of a result image: ``screenshot`` (``page_N.jpg``) or ``embedded``.

    Example:
        >>> image_category("page_2.jpg"), image_category("img_p0_1.png")
        ('screenshot', 'embedded')
    """
    return "screenshot" if name.startswith("page_") and name.endswith(".jpg") else "embedded"


def _expands(request: Request) -> list[str]:
    values = request.query_params.getlist("expand")
    for value in values:
        if value not in EXPAND_VALUES:
            raise BadRequest(
                ["query", "expand"], f"Input should be one of {', '.join(EXPAND_VALUES)}", "enum"
            )
        if value not in INLINE_EXPANDS:
            raise NotEmulated(f"expand={value}")
    return values


def _when(raw: str | None, name: str) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(["query", name], "Input should be a valid datetime", "datetime_parsing") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _check_source(body: dict[str, Any]) -> None:
    sources = [k for k in ("file_id", "source_url") if body.get(k) is not None]
    if len(sources) != 1:
        raise BadRequest(["body"], "Provide exactly one of file_id or source_url", "value_error")


def v2_parse_router(state: EmulatorState) -> APIRouter:
    """The Parse v2 routes, bound to ``state``.

    Example:
        >>> any(r.path == "/api/v2/parse/versions" for r in v2_parse_router(EmulatorState()).routes)
        True
    """
    router = APIRouter(prefix="/api/v2/parse")
    v2 = v2_state_of(state)

    def create(request: Request, body: dict[str, Any], data: bytes | None, name: str | None) -> V2ParseJob:
        if body.get("configuration_id") is not None:
            raise NotEmulated("saved parse configurations (configuration_id)")
        resolve_version(require_field(body, "tier", str), require_field(body, "version", str))
        project_id = request.query_params.get("project_id")
        file_id = None
        if data is None:
            _check_source(body)
            if body.get("file_id") is not None:
                stored = state.get_file(str(body["file_id"]))
                data, name, file_id = stored.data, stored.name, stored.id
            else:
                url = str(body["source_url"])
                if url not in state.url_contents:
                    raise NotEmulated(f"fetching source_url {url} (register its bytes with serve_url)")
                data, name = state.url_contents[url], url.rstrip("/").rsplit("/", 1)[-1] or "download"
        return v2.create_parse_job(body, data, name or "upload.bin", project_id, file_id)

    @router.post("")
    async def parse_json(request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise BadRequest(["body"], "Input should be a valid dictionary", "dict_type")
        return JSONResponse(create(request, body, None, None).job_json())

    @router.post("/upload")
    async def parse_upload(request: Request) -> Response:
        form = await request.form()
        raw = form.get("configuration")
        if not isinstance(raw, str):
            raise BadRequest(["body", "configuration"], "Field required", "missing")
        try:
            configuration = json.loads(raw)
        except ValueError:
            raise BadRequest(["body", "configuration"], "Invalid JSON", "json_invalid") from None
        if not isinstance(configuration, dict):
            raise BadRequest(["body", "configuration"], "Input should be a valid dictionary", "dict_type")
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            if configuration.get("source_url") is None:
                raise BadRequest(["body", "file"], "Field required", "missing")
            return JSONResponse(create(request, configuration, None, None).job_json())
        data = await upload.read()
        await upload.close()
        return JSONResponse(create(request, configuration, data, upload.filename).job_json())

    @router.get("/versions")
    async def versions() -> Response:
        return JSONResponse(
            {**{tier: list(pins) for tier, pins in VERSIONS.items()}, "latest": LATEST_VERSIONS}
        )

    @router.get("")
    async def list_jobs(request: Request) -> Response:
        params = request.query_params
        status = params.get("status")
        if status is not None and status not in V2_STATUSES:
            raise BadRequest(["query", "status"], f"Input should be one of {', '.join(V2_STATUSES)}", "enum")
        ids = set(params.getlist("job_ids"))
        after = _when(params.get("created_at_on_or_after"), "created_at_on_or_after")
        before = _when(params.get("created_at_on_or_before"), "created_at_on_or_before")
        jobs = []
        for job in list(v2.parse_jobs.values()):
            created = _when(job.life.created_at, "created_at")
            if status not in (None, job.life.status) or (ids and job.id not in ids):
                continue
            if params.get("project_id") not in (None, job.project_id):
                continue
            if created is not None and ((after and created < after) or (before and created > before)):
                continue
            jobs.append(job.job_json())
        return JSONResponse(cursor_page(jobs, params.get("page_size"), params.get("page_token")))

    @router.get("/{job_id}")
    async def get_job(job_id: str, request: Request) -> Response:
        expand = _expands(request)
        job = v2.get_parse_job(job_id)
        if job.tier == "fast":
            missing = [value for value in expand if value in NOT_ON_FAST]
            if missing:
                return detail(
                    f"expand={missing[0]} is not available on the fast tier: use text or text_full", 400
                )
        job = await asyncio.to_thread(v2.poll_parse_job, job_id, expand)
        answer: dict[str, Any] = {"job": job.job_json()}
        if job.life.status != "COMPLETED":
            return JSONResponse(answer)
        if job.v2_fixture is not None:
            body = job.v2_fixture.fresh()
            answer.update({k: body[k] for k in expand if k in body})
            return JSONResponse(answer)
        answer.update(
            expanded_sections(
                job.result or {},
                expand,
                tier=job.tier,
                version=job.version,
                failed_pages=job.life.script.failed_pages,
                page_error=job.life.script.page_error,
            )
        )
        if "images_content_metadata" in expand:
            answer["images_content_metadata"] = images_metadata(request, job)
        return JSONResponse(answer)

    def images_metadata(request: Request, job: V2ParseJob) -> dict[str, Any]:
        wanted = {
            n.strip() for raw in request.query_params.getlist("image_filenames") for n in raw.split(",")
        }
        wanted.discard("")
        base = str(request.base_url).rstrip("/")
        images = []
        for index, name in enumerate(sorted(job.images)):
            if wanted and name not in wanted:
                continue
            token, _ = state.presigned.sign(f"{job.id}/{name}", "GET", DEFAULT_EXPIRY_SECONDS)
            images.append(
                {
                    "filename": name,
                    "index": index,
                    "category": image_category(name),
                    "content_type": "image/jpeg" if name.endswith(".jpg") else "image/png",
                    "presigned_url": f"{base}{STORAGE_PREFIX}/v2/parse/{job.id}/images/{name}?token={token}",
                }
            )
        return {"total_count": len(images), "images": images}

    @router.post("/{job_id}/cancel")
    async def cancel_job(job_id: str) -> Response:
        job = v2.get_parse_job(job_id)
        job.life.cancel()
        return JSONResponse(job.job_json())

    @router.delete("/{job_id}")
    async def delete_job(job_id: str) -> Response:
        job = v2.delete_parse_job(job_id)
        return JSONResponse({"id": job.id, "project_id": job.project_id})

    return router


def v2_parse_storage_router(state: EmulatorState) -> APIRouter:
    """The object store behind the presigned image URLs of ``images_content_metadata`` (no bearer key).

    Example:
        >>> v2_parse_storage_router(EmulatorState()).routes[0].path
        '/_storage/v2/parse/{job_id}/images/{name}'
    """
    router = APIRouter()
    v2 = v2_state_of(state)

    @router.get(STORAGE_PREFIX + "/v2/parse/{job_id}/images/{name}")
    async def image(job_id: str, name: str, request: Request) -> Response:
        if not state.presigned.check(request.query_params.get("token", ""), f"{job_id}/{name}", "GET"):
            return detail("Request has expired or the signature does not match", 403)
        job = v2.get_parse_job(job_id)
        if name not in job.images:
            raise NotFound(f"image {name!r} of job {job_id}")
        return Response(job.images[name], media_type="image/jpeg" if name.endswith(".jpg") else "image/png")

    return router
