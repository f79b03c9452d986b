"""Parse v2 (``/api/v2/parse...``, the v2 reference, section 2): jobs, result shapes, routes.

A v2 job is computed as a v1 job would be (the local parser, :mod:`.._pages`), from a v1 form
translated from the v2 request (:func:`v1_form`), and its v1-shaped result is then answered per
``expand`` value (:func:`expanded_sections`): ``markdown.pages`` (``{page_number, markdown,
success}``, or ``{page_number, error, success: false}`` for a failed page), ``text.pages``,
``markdown_full``, ``text_full``, ``items.pages``, ``metadata``, ``job_metadata`` and ``usage``.

Credits per page, by tier (the emulator's table; LlamaCloud's prices may differ):
fast 1, cost_effective 3, agentic 10, agentic_plus 45. Failed pages are not billed.

Routes:

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
    >>> v1_form({"page_ranges": {"target_pages": "1,3-4"}})["target_pages"]
    '0,2-3'
    >>> result = {"pages": [{"page": 1, "md": "# Hi", "text": "Hi", "items": []}]}
    >>> expanded_sections(result, ["markdown"], tier="agentic", version="2026-10-16")["markdown"]
    {'pages': [{'page_number': 1, 'markdown': '# Hi', 'success': True}]}
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from llama_index_cloudkit.errors import CloudKitError
from llama_index_cloudkit.testing._pages import TINY_PNG, NoDataError, build_parse_result
from llama_index_cloudkit.testing.fixtures import ServedFixture
from llama_index_cloudkit.testing.jobs import NotFound
from llama_index_cloudkit.testing.storage import DEFAULT_EXPIRY_SECONDS, STORAGE_PREFIX
from llama_index_cloudkit.testing.v2.jobs import V2_STATUSES, V2Job, cursor_page
from llama_index_cloudkit.testing.wire import BadRequest, NotEmulated, detail, json_body, require_field

if TYPE_CHECKING:
    from llama_index_cloudkit.testing.state import EmulatorState

__all__ = [
    "CREDITS_PER_PAGE",
    "EXPAND_VALUES",
    "LATEST_VERSIONS",
    "NOT_ON_FAST",
    "TIERS",
    "VERSIONS",
    "V2ParseJob",
    "expanded_sections",
    "image_category",
    "resolve_version",
    "v1_form",
    "v2_item",
    "v2_parse_router",
    "v2_parse_storage_router",
]

TIERS = ("fast", "cost_effective", "agentic", "agentic_plus")
CREDITS_PER_PAGE = {"fast": 1, "cost_effective": 3, "agentic": 10, "agentic_plus": 45}
# What ``latest`` resolves to in llama-cloud 2.19.0's docstring (reference, section 2).
LATEST_VERSIONS = {
    "fast": "2026-06-15",
    "cost_effective": "2026-09-28",
    "agentic": "2026-10-16",
    "agentic_plus": "2026-09-28",
}
VERSIONS: dict[str, list[str]] = {tier: [pin] for tier, pin in LATEST_VERSIONS.items()}
INLINE_EXPANDS = (
    "markdown",
    "text",
    "markdown_full",
    "text_full",
    "items",
    "metadata",
    "job_metadata",
    "usage",
    "images_content_metadata",
)
NOT_EMULATED_EXPANDS = (
    "markdown_content_metadata",
    "text_content_metadata",
    "items_content_metadata",
    "metadata_content_metadata",
    "job_metadata_content_metadata",
    "forms",
)
EXPAND_VALUES = INLINE_EXPANDS + NOT_EMULATED_EXPANDS
NOT_ON_FAST = ("markdown", "markdown_full", "items")


def resolve_version(tier: str, version: str) -> str:
    """The dated version a job runs: ``latest`` resolved, a pin checked against the tier's list.

    Raises:
        BadRequest: an unknown tier, or a pin the tier does not offer (422).

    Example:
        >>> resolve_version("agentic", "latest")
        '2026-10-16'
    """
    if tier not in TIERS:
        raise BadRequest(["body", "tier"], f"Input should be {', '.join(map(repr, TIERS))}", "enum")
    if version == "latest":
        return LATEST_VERSIONS[tier]
    if version not in VERSIONS[tier]:
        allowed = ", ".join(["latest", *VERSIONS[tier]])
        raise BadRequest(["body", "version"], f"Unknown version {version!r} for tier {tier!r}: use {allowed}")
    return version


def _one_based_to_v1(spec: str) -> str:
    """``"1,3,5-8"`` (v2, 1-based) as the v1 form's 0-based ``"0,2,4-7"``."""
    parts = []
    for raw in spec.split(","):
        part = raw.strip()
        if not part:
            continue
        try:
            if "-" in part:
                start, end = (int(x) for x in part.split("-", 1))
                parts.append(f"{start - 1}-{end - 1}")
            else:
                parts.append(str(int(part) - 1))
        except ValueError:
            raise BadRequest(
                ["body", "page_ranges", "target_pages"], f"Invalid page range {spec!r}", "value_error"
            ) from None
    return ",".join(parts)


def v1_form(config: dict[str, Any]) -> dict[str, str]:
    """The v1 upload form that makes the local parser produce what a v2 request asks for.

    Example:
        >>> v1_form({"output_options": {"images_to_save": ["screenshot"]}})["take_screenshot"]
        'true'
    """
    form: dict[str, str] = {"save_images": "false"}
    ranges = config.get("page_ranges") or {}
    if ranges.get("target_pages"):
        form["target_pages"] = _one_based_to_v1(str(ranges["target_pages"]))
    elif ranges.get("max_pages") is not None:  # target_pages wins when both are set
        form["max_pages"] = str(int(ranges["max_pages"]))
    output = config.get("output_options") or {}
    saved = output.get("images_to_save") or []
    if "screenshot" in saved:
        form["take_screenshot"] = "true"
    if "embedded" in saved:
        form["save_images"] = "true"
    tables = ((output.get("markdown") or {}).get("tables")) or {}
    if tables.get("output_tables_as_markdown") is False:
        form["output_tables_as_HTML"] = "true"
    return form


def v2_item(item: dict[str, Any]) -> dict[str, Any]:
    """A v1 page item as a v2 ``items`` entry (``type`` discriminated; ``bbox`` lower case).

    Example:
        >>> v2_item({"type": "heading", "lvl": 2, "value": "Care", "md": "## Care"})
        {'type': 'heading', 'md': '## Care', 'value': 'Care', 'level': 2}
    """
    kind = str(item.get("type") or "text")
    answer: dict[str, Any] = {"type": kind, "md": item.get("md", "")}
    if kind == "table":
        for key in ("html", "csv", "rows"):
            if key in item:
                answer[key] = item[key]
    else:
        answer["value"] = item.get("value", item.get("md", ""))
    if kind == "heading":
        answer["level"] = item.get("lvl", item.get("level", 1))
    box = item.get("bBox") or item.get("bbox")
    if isinstance(box, dict):
        answer["bbox"] = {k: box.get(k) for k in ("x", "y", "w", "h")}
    return answer


def _pages(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in result.get("pages") or [] if isinstance(p, dict)]


def _number(page: dict[str, Any], index: int) -> int:
    return int(page.get("page") or page.get("page_number") or index + 1)


def expanded_sections(
    result: dict[str, Any],
    expand: Sequence[str],
    *,
    tier: str,
    version: str,
    failed_pages: Collection[int] = (),
    page_error: str = "Emulated page failure",
) -> dict[str, Any]:
    """The sections of ``GET /api/v2/parse/{job_id}`` that ``expand`` asks for, from a v1 result.

    ``images_content_metadata`` is left to the route (it needs signed URLs).

    Example:
        >>> expanded_sections({"pages": []}, ["usage"], tier="fast", version="2026-06-15")
        {'usage': {'credits': 0, 'num_pages': 0}}
    """
    pages = _pages(result)
    numbered = [(_number(p, i), p) for i, p in enumerate(pages)]
    ok = [(n, p) for n, p in numbered if n not in failed_pages]
    answer: dict[str, Any] = {}
    for value in expand:
        if value == "markdown":
            answer["markdown"] = {
                "pages": [
                    {"page_number": n, "error": page_error, "success": False}
                    if n in failed_pages
                    else {"page_number": n, "markdown": str(p.get("md") or ""), "success": True}
                    for n, p in numbered
                ]
            }
        elif value == "text":
            answer["text"] = {
                "pages": [
                    {"page_number": n, "text": "" if n in failed_pages else str(p.get("text") or "")}
                    for n, p in numbered
                ]
            }
        elif value == "markdown_full":
            answer["markdown_full"] = "\n\n".join(str(p.get("md") or "") for _, p in ok)
        elif value == "text_full":
            answer["text_full"] = "\n\n".join(str(p.get("text") or "") for _, p in ok)
        elif value == "items":
            answer["items"] = {
                "pages": [
                    {"page_number": n, "error": page_error, "success": False}
                    if n in failed_pages
                    else {
                        "page_number": n,
                        "page_width": p.get("width") or 612.0,
                        "page_height": p.get("height") or 792.0,
                        "success": True,
                        "items": [v2_item(i) for i in p.get("items") or [] if isinstance(i, dict)],
                    }
                    for n, p in numbered
                ]
            }
        elif value == "metadata":
            answer["metadata"] = {
                "pages": [
                    {"page_number": n, "confidence": 0.0 if n in failed_pages else 0.95} for n, _ in numbered
                ],
                "document": {"confidence": 0.95 if ok else 0.0},
            }
        elif value == "job_metadata":
            answer["job_metadata"] = {
                **(result.get("job_metadata") or {}),
                "job_pages": len(numbered),
                "tier": tier,
                "version": version,
                "emulated": True,
            }
        elif value == "usage":
            answer["usage"] = {"credits": CREDITS_PER_PAGE.get(tier, 0) * len(ok), "num_pages": len(ok)}
    return answer


@dataclass
class V2ParseJob:
    """A Parse v2 job: what was sent, the document, and the computed (v1-shaped) result.

    Example:
        >>> from llama_index_cloudkit.testing.v2.jobs import V2JobScript
    >>> job = V2ParseJob(V2Job("pjb-1", V2JobScript()), {}, "fast", "2026-06-15", "proj", "a.txt", b"x")
        >>> job.id
        'pjb-1'
    """

    life: V2Job
    request: dict[str, Any]
    tier: str
    version: str
    project_id: str
    file_name: str
    data: bytes
    file_id: str | None = None
    gets: list[list[str]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    images: dict[str, bytes] = field(default_factory=dict)
    v2_fixture: ServedFixture | None = None
    v1_fixture: ServedFixture | None = None
    failure: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def id(self) -> str:
        """The job id (``pjb-...``)."""
        return self.life.id

    def job_json(self) -> dict[str, Any]:
        """The ``job`` object every answer carries."""
        status = self.life.status
        answer: dict[str, Any] = {
            "id": self.id,
            "project_id": self.project_id,
            "status": status,
            "error_message": self.failure if status == "FAILED" and self.failure else self.life.error_message,
            "created_at": self.life.created_at,
            "updated_at": self.life.updated_at,
            "name": self.file_name,
            "tier": self.tier,
        }
        if self.request.get("user_metadata") is not None:
            answer["user_metadata"] = self.request["user_metadata"]
        return answer

    def compute(self, extra_image_names: list[str]) -> None:
        """Compute the result once (the local parser, or a served fixture); failures fail the job."""
        with self.lock:
            if self.result is not None or self.failure is not None or self.v2_fixture is not None:
                return
            if self.v1_fixture is not None:
                self.result = self.v1_fixture.fresh()
                self.images = dict.fromkeys(_image_names(self.result), TINY_PNG) | self.v1_fixture.images
                return
            try:
                self.result, self.images = build_parse_result(
                    self.data, self.file_name, v1_form(self.request), extra_image_names
                )
            except NoDataError:
                self.failure = "No data found in file: the selected pages are past its end"
            except (CloudKitError, ImportError) as exc:
                self.failure = f"The document could not be parsed: {exc}"


def _image_names(result: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for page in result.get("pages") or []:
        for entry in page.get("images") or []:
            if isinstance(entry, dict) and entry.get("name"):
                names.append(str(entry["name"]))
    return names


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
        >>> from llama_index_cloudkit.testing.state import EmulatorState
        >>> any(r.path == "/api/v2/parse/versions" for r in v2_parse_router(EmulatorState()).routes)
        True
    """
    router = APIRouter(prefix="/api/v2/parse")
    v2 = state.v2

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
        >>> from llama_index_cloudkit.testing.state import EmulatorState
        >>> v2_parse_storage_router(EmulatorState()).routes[0].path
        '/_storage/v2/parse/{job_id}/images/{name}'
    """
    router = APIRouter()
    v2 = state.v2

    @router.get(STORAGE_PREFIX + "/v2/parse/{job_id}/images/{name}")
    async def image(job_id: str, name: str, request: Request) -> Response:
        if not state.presigned.check(request.query_params.get("token", ""), f"{job_id}/{name}", "GET"):
            return detail("Request has expired or the signature does not match", 403)
        job = v2.get_parse_job(job_id)
        if name not in job.images:
            raise NotFound(f"image {name!r} of job {job_id}")
        return Response(job.images[name], media_type="image/jpeg" if name.endswith(".jpg") else "image/png")

    return router
