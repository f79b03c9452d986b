"""LlamaParse on LlamaCloud's API v2: tiers, pinned versions, plain HTTP over the cloud core.

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

Each preset is the tier of the same name, pinned to the dated version of its row in
:data:`~llama_index_cloudkit.parse.presets.PRESETS`, so a result does not change under you;
``parse_options={"tier": "fast"}`` picks another tier and ``parse_options={"version": "latest"}``
(or another date) overrides the pin. Tier and version are part of the cache key.

``parse_options`` mean the same on v1 and v2 (LlamaParse's names) and are translated:
``max_pages`` and ``target_pages`` (0-based, as on v1) to ``page_ranges`` (1-based),
``take_screenshot`` to a ``screenshot`` image, ``disable_image_extraction`` to no embedded
images, ``language`` to OCR languages, ``user_prompt`` / ``system_prompt_append`` /
``parsing_instruction`` to the agentic custom prompt, ``invalidate_cache`` / ``do_not_cache`` to
``disable_cache``. Any other option has no v2 equivalent and is refused (ConfigError), never
dropped.

Failed pages (``success: false`` in ``markdown.pages`` or ``items.pages``) keep their place as
pages with a warning naming the service's error, and are logged naming the file, the job and each
page: the file keeps one Document per page.

Example:
    >>> v2_request(ParsePreset.AGENTIC, {"max_pages": 2})["page_ranges"]
    {'max_pages': 2}
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from llama_index_cloudkit.cloud.errors import JobState, checked_answer, job_state, map_cloud_errors
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import ConfigError, ServiceError
from llama_index_cloudkit.parse.llamacloud.answers import V2Result
from llama_index_cloudkit.parse.llamacloud.files import submit_job, upload_file
from llama_index_cloudkit.parse.model import ParsedFile, ParsedPage, Usage
from llama_index_cloudkit.parse.presets import ParsePreset

__all__ = ["LlamaParseV2", "parsed_from_v2", "v2_request"]

logger = logging.getLogger(__name__)

PARSE = "/api/v2/parse"

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


def _tier(preset: ParsePreset, options: Mapping[str, Any]) -> tuple[ParsePreset, str]:
    """The tier (``options["tier"]`` over the preset) and its version (``options["version"]``
    over the tier's pin)."""
    tier = ParsePreset.from_name(options.get("tier") or preset)
    return tier, str(options.get("version") or tier.row.v2_version)


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


def v2_request(preset: ParsePreset, options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``POST /api/v2/parse`` body for a preset and LlamaParse-named options (no file id).

    Raises:
        ConfigError: an option with no v2 equivalent, or a custom prompt on the ``fast`` tier.

    Example:
        >>> body = v2_request(ParsePreset.COST_EFFECTIVE, {"target_pages": "0,2-3", "take_screenshot": True})
        >>> body["tier"], body["version"], body["page_ranges"]
        ('cost_effective', '2026-09-28', {'target_pages': '1,3-4'})
        >>> body["output_options"]
        {'images_to_save': ['screenshot', 'embedded']}
    """
    unknown = sorted(set(options) - _V2_OPTIONS)
    if unknown:
        raise ConfigError(
            f"LlamaParse option(s) with no Parse v2 equivalent: {', '.join(unknown)}",
            hint="Remove them, or use LlamaCloud's API v1 (CLOUDKIT_API_VERSION=v1); v2 takes: "
            + ", ".join(sorted(_V2_OPTIONS)),
        )
    tier, version = _tier(preset, options)
    body: dict[str, Any] = {"tier": tier.value, "version": version}
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
        if not tier.row.v2_markdown:
            raise ConfigError(
                "The fast tier takes no custom prompt (user_prompt, system_prompt_append, "
                "parsing_instruction)",
                hint="Pick cost_effective, agentic or agentic_plus, or drop the prompt",
            )
        body["agentic_options"] = {"custom_prompt": "\n\n".join(prompts)}
    if any(options.get(o) for o in _CACHE_OFF):
        body["disable_cache"] = True
    return body


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


def _failure(page: ParsedPage, error: Any) -> None:
    page.warnings[:] = [f"LlamaParse could not parse this page: {error or 'no message'}"]
    page.blocks.clear()


def parsed_from_v2(body: Mapping[str, Any], file_name: str) -> ParsedFile:
    """A ``GET /api/v2/parse/{id}?expand=...`` answer as neutral pages, with the reported usage.

    Pages come from ``markdown.pages`` (``text.pages`` on the fast tier), joined by page number
    with ``text`` and ``items``; a failed page keeps its place, empty, with a warning. Images
    are placed on the page their file name names (``page_3.jpg``, the screenshots); v2 gives no
    page for other images, so they are logged by name, never dropped silently.

    Raises:
        ServiceError: an answer without pages, or whose fields have the wrong type (checked
            against :class:`~.answers.V2Result` before anything is read).

    Example:
        >>> body = {"job": {"id": "pjb-1", "status": "COMPLETED", "usage": {"credits": 20}},
        ...         "markdown": {"pages": [{"page_number": 1, "markdown": "# A", "success": True},
        ...                                {"page_number": 2, "error": "timeout", "success": False}]}}
        >>> parsed = parsed_from_v2(body, "a.pdf")
        >>> [(p.number, p.markdown(), p.warnings) for p in parsed.pages]
        [(1, '# A', []), (2, '', ['LlamaParse could not parse this page: timeout'])]
        >>> parsed.usage
        Usage(pages=2, credits=20.0)
    """
    checked_answer(V2Result, body, service="LlamaParse", file=file_name or None)
    pages: dict[int, ParsedPage] = {}
    text: dict[int, str] = {}

    def page(number: int) -> ParsedPage:
        return pages.setdefault(number, ParsedPage(number=number, table_count=0))

    for entry in _pages_of(body, "markdown"):
        target = page(_number(entry))
        if entry.get("success") is False:
            _failure(target, entry.get("error"))
        elif str(entry.get("markdown") or "").strip():
            target.blocks[:] = [str(entry["markdown"])]
    for entry in _pages_of(body, "text"):
        text[_number(entry)] = str(entry.get("text") or "")
        page(_number(entry))
    for entry in _pages_of(body, "items"):
        target = page(_number(entry))
        if entry.get("success") is False:
            if not target.warnings:
                _failure(target, entry.get("error"))
            continue
        target.width, target.height = entry.get("page_width"), entry.get("page_height")
        items = [i for i in entry.get("items") or [] if isinstance(i, Mapping)]
        target.table_count = sum(1 for i in items if i.get("type") == "table")
    for number, target in pages.items():
        if not target.blocks and not target.warnings and text.get(number, "").strip():
            target.blocks[:] = [text[number]]
    images = body.get("images_content_metadata")
    unplaced: list[str] = []
    for image in (images.get("images") or []) if isinstance(images, Mapping) else []:
        name = str(image.get("filename") or "") if isinstance(image, Mapping) else ""
        match = _PAGE_IN_NAME.search(name)
        if match and int(match.group(1)) in pages:
            pages[int(match.group(1))].images.append(name)
        elif name:
            unplaced.append(name)
    if unplaced:
        logger.info("Parse v2 lists image(s) of %s without a page: %s", file_name, ", ".join(unplaced))
    if not pages and body.get("text_full") is None and body.get("markdown_full") is None:
        raise ServiceError("The Parse v2 result has no pages (markdown, text or items)")
    ordered = [pages[n] for n in sorted(pages)]
    usage = Usage(pages=len(ordered), credits=_credits(body))
    return ParsedFile(file_name=file_name, pages=ordered, parser="llamaparse", usage=usage)


class LlamaParseV2:
    """LlamaParse through API v2: the parse service of the cloud engine, for one preset and options.

    Implements :class:`~llama_index_cloudkit.parse.llamacloud.engine.ParseService`.

    Args:
        preset: the preset (its tier, unless ``options["tier"]`` names another).
        options: LlamaParse-named options, translated by :func:`v2_request`.

    Raises:
        ConfigError: at construction, an option v2 cannot carry, or an unknown tier.

    Example:
        >>> service = LlamaParseV2(ParsePreset.AGENTIC, {"tier": "fast"})
        >>> service.credits_per_page, service.key_options()["version"]
        (1, '2026-06-15')
    """

    presets = tuple(ParsePreset)

    def __init__(
        self, preset: ParsePreset, options: Mapping[str, Any], cache_tag: Mapping[str, str] | None = None
    ) -> None:
        self.preset, self.options = preset, dict(options)
        self._cache_tag = dict(cache_tag or {})
        self._request = v2_request(preset, options)
        self._tier = ParsePreset(self._request["tier"])

    @property
    def credits_per_page(self) -> int:
        """The price of the tier actually asked for."""
        return self._tier.credits_per_page

    def key_options(self) -> dict[str, Any]:
        """What beside the bytes makes a v2 result: the API generation, tier, pinned version, options.

        The adapter's chooser passes ``cache_tag`` naming the API generation, so a v2 key never
        equals a v1 key: a v1 cache entry is never served for a v2 read, nor the other way round.
        """
        rest = {k: v for k, v in sorted(self.options.items()) if k not in ("tier", "version")}
        return {
            **self._cache_tag,
            "tier": self._tier.value,
            "version": self._request["version"],
            "options": rest,
        }

    async def submit(self, session: CloudSession, data: bytes, file_name: str) -> str:
        """Upload the file, then submit one paid job; returns the job id.

        The submission is never repeated when its outcome is unknown: a lost or unreadable
        answer is a :class:`SubmissionUnknownError`.
        """
        file_id = await upload_file(session, data, file_name, purpose="parse")
        return await submit_job(
            session,
            PARSE,
            {**self._request, "file_id": file_id},
            what="submitting the Parse v2 job",
            label=file_name,
        )

    async def _job(
        self, session: CloudSession, job_id: str, file_name: str, what: str, **params: Any
    ) -> dict[str, Any]:
        return await session.json(
            "GET",
            f"{PARSE}/{quote(job_id, safe='')}",
            what=what,
            file=file_name,
            job_id=job_id,
            lost_on_404=True,
            params={**session.project_params(), **params},
        )

    async def state(
        self, session: CloudSession, job_id: str, file_name: str
    ) -> tuple[JobState, dict[str, Any]]:
        """One status poll, with no expand: the job's state and its ``job`` object."""
        body = await self._job(session, job_id, file_name, "polling a Parse v2 job")
        job = body.get("job")
        if not isinstance(job, Mapping):
            raise ServiceError("A Parse v2 status answer has no 'job'", file=file_name, job_id=job_id)
        return job_state(job.get("status")), dict(job)

    def _expand(self) -> list[str]:
        expand = ["text", "metadata", "usage"]
        if self._tier.row.v2_markdown:
            expand = ["markdown", "items", *expand]
        if self._request["output_options"].get("images_to_save"):
            expand.append("images_content_metadata")
        return expand

    async def result(self, session: CloudSession, job_id: str, file_name: str) -> ParsedFile:
        """The finished job's pages; failed pages are kept and logged (see the module)."""
        body = await self._job(
            session, job_id, file_name, "fetching a Parse v2 result", expand=self._expand()
        )
        with map_cloud_errors("reading a Parse v2 result", file=file_name, job_id=job_id):
            parsed = parsed_from_v2(body, file_name)
        failed = [p for p in parsed.pages if p.warnings]
        if failed:
            logger.warning(
                "Parse v2 could not parse %d page(s) of %s (job %s): %s",
                len(failed),
                file_name,
                job_id,
                "; ".join(f"page {p.number}: {p.warnings[0].split(': ', 1)[-1]}" for p in failed),
            )
        return parsed

    async def image(self, session: CloudSession, job_id: str, name: str, file_name: str) -> bytes:
        """One saved image of the finished job, by file name, from its presigned URL.

        The presigned URL is fetched without the API key (it may point to another host).
        """
        body = await self._job(
            session,
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
            async with httpx.AsyncClient(timeout=session.policy.request_timeout) as plain:
                response = await plain.get(url)
                response.raise_for_status()
                return response.content
