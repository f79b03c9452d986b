"""Parse v2 (LlamaCloud's current API): tiers, pinned versions, plain HTTP over the cloud core.

No second SDK: the v2 routes are plain JSON (reference/llamacloud-api-v2.md, section 2 and the
route table). One file is one upload and one paid job:

| step | request |
|---|---|
| upload (free, retried like a read) | ``POST /api/v1/beta/files`` (multipart ``file``, ``purpose=parse``) |
| submit (paid, never repeated blindly) | ``POST /api/v2/parse`` ``{tier, version, file_id, ...}`` |
| poll (no expand, as the SDK does) | ``GET /api/v2/parse/{job_id}`` -> ``job.status`` |
| result (once) | ``GET /api/v2/parse/{job_id}?expand=markdown&expand=text&expand=items&...`` |
| image | ``GET /api/v2/parse/{job_id}?expand=images_content_metadata&image_filenames=...`` |
| image bytes | the presigned URL that answer lists, fetched without the API key |

The presets map onto the tiers of the same names; ``fast`` is a fourth tier, v2 only, chosen
with ``parse_options={"tier": "fast"}`` (or ``preset="fast"`` once
:class:`~llama_index_cloudkit.presets.ParsePreset` knows it). Every tier is pinned to a dated
version (:data:`V2_TIERS`), so a result does not change under you; ``parse_options={"version":
"latest"}`` or another date overrides the pin. Tier and version are part of the cache key.

``parse_options`` mean the same on v1 and v2 (LlamaParse's names, validated as on v1) and are
translated: ``max_pages`` and ``target_pages`` (0-based, as on v1) to ``page_ranges`` (1-based),
``take_screenshot`` to a ``screenshot`` image, ``disable_image_extraction`` to no embedded
images, ``language`` to OCR languages, ``user_prompt`` / ``system_prompt_append`` /
``parsing_instruction`` to the agentic custom prompt, ``invalidate_cache`` / ``do_not_cache`` to
``disable_cache``. Any other option has no v2 equivalent and is refused (ConfigError), never
dropped.

Failed pages (``success: false`` in ``markdown.pages`` or ``items.pages``) stay in the result as
pages of their own, with ``success: False`` and the service's ``error``; they are listed in
``job_metadata.failed_pages`` (cached with the result) and logged as a warning naming the file,
the job and each page. They are never dropped: the file keeps one Document per page.

Example:
    >>> V2_TIERS["agentic"].version, V2_TIERS["fast"].credits_per_page
    ('2026-10-16', 1)
    >>> v2_request("agentic", {"max_pages": 2})["page_ranges"]
    {'max_pages': 2}
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from llama_index_cloudkit.cloud.errors import JobState, job_state, map_cloud_errors
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import ConfigError, ServiceError
from llama_index_cloudkit.parse.files_v2 import submit_job, upload_file
from llama_index_cloudkit.presets import ParsePreset
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = [
    "V2_TIERS",
    "LlamaParseV2Adapter",
    "V2Tier",
    "check_preset_for_api",
    "failed_pages",
    "v1_shaped_result",
    "v2_key_options",
    "v2_request",
    "v2_tier",
]

logger = logging.getLogger(__name__)

PARSE = "/api/v2/parse"


@dataclass(frozen=True)
class V2Tier:
    """One Parse v2 tier: its name, the dated version it is pinned to, its credits per page.

    Example:
        >>> V2_TIERS["cost_effective"].credits_per_page
        3
    """

    name: str
    version: str
    credits_per_page: int
    markdown: bool = True  # markdown and items are "not on fast" (reference, section 2)


V2_TIERS: dict[str, V2Tier] = {
    # Pins: what "latest" resolved to in llama-cloud 2.19.0's docstring (reference, section 2).
    "fast": V2Tier("fast", "2026-06-15", 1, markdown=False),
    "cost_effective": V2Tier("cost_effective", "2026-09-28", 3),
    "agentic": V2Tier("agentic", "2026-10-16", 10),
    "agentic_plus": V2Tier("agentic_plus", "2026-09-28", 45),
}
"""The v2 table: tier -> pinned version and credits per page (``fast`` is v2 only)."""

# v1 option name -> how it is carried on v2 (anything not listed is refused on v2).
_PAGE_OPTIONS = ("max_pages", "target_pages")
_PROMPTS = ("user_prompt", "system_prompt_append", "parsing_instruction")
_CACHE_OFF = ("invalidate_cache", "do_not_cache")
_V2_OPTIONS = {
    "tier",
    "version",
    *_PAGE_OPTIONS,
    *_PROMPTS,
    *_CACHE_OFF,
    "take_screenshot",
    "save_images",
    "disable_image_extraction",
    "inline_images_in_markdown",
    "language",
}


def _name(preset: str | ParsePreset) -> str:
    return str(getattr(preset, "value", preset)).strip().lower().replace("-", "_")


def check_preset_for_api(preset: str | ParsePreset, api_version: str) -> str:
    """The tier a preset name stands for; ``fast`` on v1 is refused with the way out.

    Raises:
        ConfigError: ``fast`` with ``api_version="v1"``, or a name that is no tier.

    Example:
        >>> check_preset_for_api("agentic-plus", "v2")
        'agentic_plus'
        >>> check_preset_for_api("fast", "v1")
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: The 'fast' parse preset exists on ... v2 only. ...
    """
    name = _name(preset)
    if name == "fast" and api_version != "v2":
        raise ConfigError(
            "The 'fast' parse preset exists on LlamaCloud's API v2 only",
            hint="Set api_version='v2' (or CLOUDKIT_API_VERSION=v2), or pick cost_effective, "
            "agentic or agentic_plus on v1",
        )
    if name not in V2_TIERS:
        raise ConfigError(f"Unknown parse preset {preset!r}", hint="Use one of: " + ", ".join(V2_TIERS))
    return name


def v2_tier(preset: str | ParsePreset, options: Mapping[str, Any]) -> tuple[V2Tier, str]:
    """The tier (``options["tier"]`` over the preset) and the version (``options["version"]``
    over the tier's pin).

    Example:
        >>> tier, version = v2_tier(ParsePreset.AGENTIC, {"tier": "fast"})
        >>> tier.name, version
        ('fast', '2026-06-15')
    """
    name = check_preset_for_api(options.get("tier") or preset, "v2")
    tier = V2_TIERS[name]
    return tier, str(options.get("version") or tier.version)


def _target_pages(spec: str) -> str:
    """v1's 0-based ``"0,2-4"`` as v2's 1-based ``"1,3-5"``."""
    parts = []
    for part in str(spec).replace(" ", "").split(","):
        if not part:
            continue
        bounds = part.split("-")
        if not all(b.isdigit() for b in bounds) or len(bounds) > 2:
            raise ConfigError(
                f"target_pages {spec!r} is not a list of pages and ranges",
                hint="Write 0-based pages as on v1, e.g. '0,2-4'",
            )
        parts.append("-".join(str(int(b) + 1) for b in bounds))
    return ",".join(parts)


def v2_request(preset: str | ParsePreset, options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``POST /api/v2/parse`` body for a preset and LlamaParse-named options (no file id).

    Raises:
        ConfigError: an option with no v2 equivalent, or a custom prompt on the ``fast`` tier.

    Example:
        >>> body = v2_request("cost_effective", {"target_pages": "0,2-3", "take_screenshot": True})
        >>> body["tier"], body["version"], body["page_ranges"]
        ('cost_effective', '2026-09-28', {'target_pages': '1,3-4'})
        >>> body["output_options"]
        {'images_to_save': ['screenshot', 'embedded']}
    """
    unknown = sorted(set(options) - _V2_OPTIONS)
    if unknown:
        raise ConfigError(
            f"LlamaParse option(s) with no Parse v2 equivalent: {', '.join(unknown)}",
            hint="Remove them, or use api_version='v1'; v2 takes: " + ", ".join(sorted(_V2_OPTIONS)),
        )
    tier, version = v2_tier(preset, options)
    body: dict[str, Any] = {"tier": tier.name, "version": version}
    pages: dict[str, Any] = {}
    if options.get("max_pages") is not None:
        pages["max_pages"] = int(options["max_pages"])
    if options.get("target_pages"):
        pages["target_pages"] = _target_pages(str(options["target_pages"]))
    if pages:
        body["page_ranges"] = pages
    images = []
    if options.get("take_screenshot"):
        images.append("screenshot")
    if options.get("save_images") or not options.get("disable_image_extraction"):
        images.append("embedded")
    output: dict[str, Any] = {"images_to_save": images}
    if options.get("inline_images_in_markdown") is not None:
        output["markdown"] = {"inline_images": bool(options["inline_images_in_markdown"])}
    body["output_options"] = output
    if options.get("language"):
        languages = [x.strip() for x in str(options["language"]).split(",") if x.strip()]
        body["processing_options"] = {"ocr_parameters": {"languages": languages}}
    prompts = [str(options[p]) for p in _PROMPTS if options.get(p)]
    if prompts:
        if tier.name == "fast":
            raise ConfigError(
                "The fast tier takes no custom prompt (user_prompt, system_prompt_append, "
                "parsing_instruction)",
                hint="Pick cost_effective, agentic or agentic_plus, or drop the prompt",
            )
        body["agentic_options"] = {"custom_prompt": "\n\n".join(prompts)}
    if any(options.get(o) for o in _CACHE_OFF):
        body["disable_cache"] = True
    return body


def v2_key_options(preset: str | ParsePreset, options: Mapping[str, Any]) -> dict[str, Any]:
    """What beside the bytes makes a v2 result: the API generation, tier, pinned version, options.

    The v2 key never equals a v1 key (it names ``api_version``), so a v1 cache entry is never
    served for a v2 read, nor the other way round.

    Example:
        >>> v2_key_options(ParsePreset.AGENTIC, {"max_pages": 2})
        {'api_version': 'v2', 'tier': 'agentic', 'version': '2026-10-16', 'options': {'max_pages': 2}}
    """
    tier, version = v2_tier(preset, options)
    rest = {k: v for k, v in sorted(options.items()) if k not in ("tier", "version")}
    return {"api_version": "v2", "tier": tier.name, "version": version, "options": rest}


def _pages_of(body: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    section = body.get(key)
    if section is None:
        return []
    pages = section.get("pages") if isinstance(section, Mapping) else None
    if not isinstance(pages, list) or not all(isinstance(p, Mapping) for p in pages):
        raise ServiceError(f"The Parse v2 result's '{key}' has no list of pages")
    return pages


def _number(page: Mapping[str, Any]) -> int:
    number = page.get("page_number")
    if isinstance(number, bool) or not isinstance(number, int):
        raise ServiceError(f"A Parse v2 result page has no page_number ({number!r})")
    return number


def _credits(body: Mapping[str, Any]) -> float | None:
    job = body.get("job")
    for usage in (body.get("usage"), job.get("usage") if isinstance(job, Mapping) else None):
        if isinstance(usage, Mapping):
            credits = usage.get("credits")
            if isinstance(credits, (int, float)) and not isinstance(credits, bool):
                return float(credits)
    return None


_PAGE_IN_NAME = re.compile(r"page[_-]?(\d+)", re.I)


def v1_shaped_result(body: Mapping[str, Any], *, tier: str, version: str) -> dict[str, Any]:
    """A ``GET /api/v2/parse/{id}?expand=...`` answer as the v1-shaped result the engine reads.

    Pages come from ``markdown.pages`` (``text.pages`` on the fast tier), joined by page number
    with ``text``, ``items`` and ``metadata``; a failed page keeps its place with
    ``success: False`` and ``error``. Images are placed on the page their file name names
    (``page_3.jpg``, the screenshots); v2 gives no page for other images, so they are listed in
    ``job_metadata.images_without_page``. ``job_metadata`` also holds pages, credits, tier,
    version and failed pages.

    Raises:
        ServiceError: an answer without pages or of another shape.

    Example:
        >>> body = {"job": {"id": "pjb-1", "status": "COMPLETED", "usage": {"credits": 20}},
        ...         "markdown": {"pages": [{"page_number": 1, "markdown": "# A", "success": True},
        ...                                {"page_number": 2, "error": "timeout", "success": False}]}}
        >>> result = v1_shaped_result(body, tier="agentic", version="2026-10-16")
        >>> [(p["page"], p["md"], p["success"]) for p in result["pages"]]
        [(1, '# A', True), (2, '', False)]
        >>> result["job_metadata"]["credits"], result["job_metadata"]["failed_pages"]
        (20.0, [{'page': 2, 'error': 'timeout'}])
    """
    pages: dict[int, dict[str, Any]] = {}

    def page(number: int) -> dict[str, Any]:
        return pages.setdefault(
            number, {"page": number, "md": "", "text": "", "items": [], "images": [], "success": True}
        )

    for entry in _pages_of(body, "markdown"):
        target = page(_number(entry))
        if entry.get("success") is False:
            target.update(success=False, error=str(entry.get("error") or "no message"))
        else:
            target["md"] = str(entry.get("markdown") or "")
    for entry in _pages_of(body, "text"):
        page(_number(entry))["text"] = str(entry.get("text") or "")
    for entry in _pages_of(body, "items"):
        target = page(_number(entry))
        if entry.get("success") is False:
            target.update(success=False, error=str(entry.get("error") or target.get("error") or "no message"))
            continue
        target["width"], target["height"] = entry.get("page_width"), entry.get("page_height")
        target["items"] = [dict(i) for i in entry.get("items") or [] if isinstance(i, Mapping)]
    for entry in _pages_of(body, "metadata"):
        target = page(_number(entry))
        for key in ("confidence", "printed_page_number"):
            if entry.get(key) is not None:
                target[key] = entry[key]
    images = body.get("images_content_metadata")
    unplaced: list[str] = []
    for image in (images.get("images") or []) if isinstance(images, Mapping) else []:
        name = str(image.get("filename") or "") if isinstance(image, Mapping) else ""
        match = _PAGE_IN_NAME.search(name)
        if match and int(match.group(1)) in pages:
            pages[int(match.group(1))]["images"].append(
                {"name": name, "category": image.get("category"), "url": image.get("presigned_url")}
            )
        elif name:
            unplaced.append(name)  # v2 lists no page for an embedded image
    if not pages and body.get("text_full") is None and body.get("markdown_full") is None:
        raise ServiceError("The Parse v2 result has no pages (markdown, text or items)")
    ordered = [pages[n] for n in sorted(pages)]
    failed = [{"page": p["page"], "error": p["error"]} for p in ordered if p["success"] is False]
    job = body.get("job") if isinstance(body.get("job"), Mapping) else {}
    metadata: dict[str, Any] = {
        "api_version": "v2",
        "tier": tier,
        "version": version,
        "job_pages": len(ordered),
        "failed_pages": failed,
    }
    if unplaced:
        metadata["images_without_page"] = unplaced
    credits = _credits(body)
    if credits is not None:
        metadata["credits"] = credits
    if isinstance(job, Mapping) and job.get("id"):
        metadata["job_id"] = job["id"]
    return {"pages": ordered, "job_metadata": metadata}


def failed_pages(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The pages of a (v1-shaped) result that the service could not parse, with its error.

    Example:
        >>> failed_pages({"pages": [{"page": 1, "success": True},
        ...                         {"page": 2, "success": False, "error": "timeout"}]})
        [{'page': 2, 'error': 'timeout'}]
    """
    return [
        {"page": p.get("page"), "error": p.get("error") or "no message"}
        for p in result.get("pages") or []
        if isinstance(p, Mapping) and p.get("success") is False
    ]


class LlamaParseV2Adapter:
    """Submit, poll and fetch Parse v2 jobs through one :class:`CloudSession` (one event loop).

    Implements the engine's ``ParseAdapter`` protocol
    (:class:`~llama_index_cloudkit.parse.cloud_backend.ParseAdapter`).

    Args:
        settings: key, endpoint, project and organization.
        preset: the preset (its tier, unless ``options["tier"]`` names another).
        options: LlamaParse-named options, translated by :func:`v2_request`.
        session: an open CloudSession of the current event loop.

    Raises:
        ConfigError: at construction, an option v2 cannot carry.

    Example:
        >>> adapter = LlamaParseV2Adapter(settings, ParsePreset.AGENTIC, {}, session)  # doctest: +SKIP
        >>> job_id = await adapter.submit(data, "report.pdf")  # doctest: +SKIP
    """

    def __init__(
        self,
        settings: CloudKitSettings,
        preset: ParsePreset | str,
        options: Mapping[str, Any],
        session: CloudSession,
    ) -> None:
        self._settings = settings
        self._session = session
        self._request = v2_request(preset, options)
        self.tier = V2_TIERS[self._request["tier"]]
        self.version = str(self._request["version"])

    def _params(self) -> dict[str, str]:
        return self._session.project_params()

    async def submit(self, data: bytes, file_name: str) -> str:
        """Upload the file, then submit one paid job; returns the job id.

        The submission is never repeated when its outcome is unknown: a lost or unreadable
        answer is a :class:`SubmissionUnknownError`.
        """
        file_id = await upload_file(self._session, data, file_name, purpose="parse")
        return await submit_job(
            self._session,
            PARSE,
            {**self._request, "file_id": file_id},
            what="submitting the Parse v2 job",
            label=file_name,
        )

    async def _job(self, job_id: str, file_name: str, what: str, **params: Any) -> dict[str, Any]:
        return await self._session.json(
            "GET",
            f"{PARSE}/{quote(job_id, safe='')}",
            what=what,
            file=file_name,
            job_id=job_id,
            lost_on_404=True,
            params={**self._params(), **params},
        )

    async def state(self, job_id: str, file_name: str) -> tuple[JobState, dict[str, Any]]:
        """One status poll, with no expand: the job's state and its ``job`` object."""
        body = await self._job(job_id, file_name, "polling a Parse v2 job")
        job = body.get("job")
        if not isinstance(job, Mapping):
            raise ServiceError("A Parse v2 status answer has no 'job'", file=file_name, job_id=job_id)
        return job_state(job.get("status")), dict(job)

    def _expand(self) -> list[str]:
        expand = ["text", "metadata", "usage"]
        if self.tier.markdown:
            expand = ["markdown", "items", *expand]
        if self._request["output_options"].get("images_to_save"):
            expand.append("images_content_metadata")
        return expand

    async def result(self, job_id: str, file_name: str) -> dict[str, Any]:
        """The finished job's pages, v1-shaped; failed pages are kept and logged (see module)."""
        body = await self._job(job_id, file_name, "fetching a Parse v2 result", expand=self._expand())
        with map_cloud_errors("reading a Parse v2 result", file=file_name, job_id=job_id):
            result = v1_shaped_result(body, tier=self.tier.name, version=self.version)
        failed = result["job_metadata"]["failed_pages"]
        if failed:
            logger.warning(
                "Parse v2 could not parse %d page(s) of %s (job %s): %s",
                len(failed),
                file_name,
                job_id,
                "; ".join(f"page {f['page']}: {f['error']}" for f in failed),
            )
        return result

    async def image(self, job_id: str, name: str, file_name: str) -> bytes:
        """One saved image of the finished job, by file name, from its presigned URL.

        The presigned URL is fetched without the API key (it may point to another host).
        """
        body = await self._job(
            job_id,
            file_name,
            "listing a Parse v2 job's images",
            expand=["images_content_metadata"],
            image_filenames=name,
        )
        meta = body.get("images_content_metadata")
        images = meta.get("images") if isinstance(meta, Mapping) else None
        url = next(
            (
                i.get("presigned_url")
                for i in images or []
                if isinstance(i, Mapping) and i.get("filename") == name
            ),
            None,
        )
        if not isinstance(url, str) or not url:
            raise ServiceError(
                f"Parse v2 lists no download for image {name!r}", file=file_name, job_id=job_id
            )
        what = f"downloading image {name!r}"
        with map_cloud_errors(what, file=file_name, job_id=job_id):
            async with httpx.AsyncClient(timeout=self._session.policy.request_timeout) as plain:
                response = await plain.get(url)
                response.raise_for_status()
                return response.content
