"""LlamaParse v1: the only module that imports llama_cloud_services' parser (LlamaParse).

The SDK is used for what it does well and nothing else: validating options and encoding the
upload form (``LlamaParse._create_job``). Its HTTP goes through the cloud core's client (retry
policy, rate limiter, typed errors), and we poll and fetch results ourselves through the core, so
a job id is journaled before polling and no client outlives its event loop.

Example:
    >>> options = validate_options({"max_pages": 3})
    >>> options
    {'max_pages': 3}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from llama_index_cloudkit._imports import require_sdk
from llama_index_cloudkit.cloud.errors import (
    JobState,
    checked_answer,
    error_for_status,
    job_state,
    map_cloud_errors,
)
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.cloud.transport import intent
from llama_index_cloudkit.errors import CloudKitError, ConfigError, SubmissionUnknownError
from llama_index_cloudkit.parse.llamacloud.answers import V1Page, V1Result
from llama_index_cloudkit.parse.model import ParsedFile, ParsedPage, Usage
from llama_index_cloudkit.parse.presets import ParsePreset
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["LlamaParseV1", "llamaparse_option_names", "parsed_from_result", "validate_options"]

# Options that are ours to set: connection, polling and output handling.
_RESERVED = {
    "api_key",
    "base_url",
    "organization_id",
    "project_id",
    "custom_client",
    "check_interval",
    "max_check_interval",
    "backoff_pattern",
    "ignore_errors",
    "max_timeout",
    "num_workers",
    "show_progress",
    "verbose",
    "split_by_page",
    "is_remote",
    "check_for_updates",
    "result_type",
}


def _llamaparse_class() -> Any:
    sdk = require_sdk()
    return sdk.LlamaParse


def llamaparse_option_names() -> frozenset[str]:
    """Every keyword LlamaParse's constructor takes (the SDK's own fields).

    Example:
        >>> {"language", "max_pages", "num_workers"} <= llamaparse_option_names()
        True
    """
    return frozenset(_llamaparse_class().model_fields)


def validate_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Check extra LlamaParse options (``max_pages``, ``target_pages``, ``language``, ...).

    Raises:
        ConfigError: an unknown option, one this package sets itself, or a bad value.

    Example:
        >>> validate_options({"max_pagez": 1})
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: Unknown LlamaParse option(s): max_pagez. ...
    """
    cls = _llamaparse_class()
    unknown = sorted(set(options) - set(cls.model_fields))
    if unknown:
        raise ConfigError(
            f"Unknown LlamaParse option(s): {', '.join(unknown)}",
            hint="See the LlamaParse options; preset fields are set by the preset",
        )
    reserved = sorted(set(options) & _RESERVED)
    if reserved:
        raise ConfigError(
            f"Option(s) set by CloudKitReader itself: {', '.join(reserved)}",
            hint="Use the reader's settings and arguments instead",
        )
    try:
        cls(api_key="llx-validation-only", **options)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigError(f"Invalid LlamaParse option value: {exc}") from exc
    return dict(options)


class LlamaParseV1:
    """LlamaParse v1: the parse service of the cloud engine, for one preset and options.

    Implements :class:`~llama_index_cloudkit.parse.llamacloud.engine.ParseService`. The options
    are validated here, when the reader is built; the SDK encodes each upload form, sent through
    the session's client and tagged as a paid, rate-limited submission, so the core never repeats
    it when its outcome is unknown.

    Args:
        settings: key, endpoint, project and organization.
        preset: one of the presets v1 offers (``fast`` is v2 only).
        options: extra LlamaParse options.

    Raises:
        ConfigError: ``fast``, an unknown option or value, or one this package sets itself.

    Example:
        >>> service = LlamaParseV1(CloudKitSettings(), ParsePreset.AGENTIC, {"max_pages": 2})
        >>> service.credits_per_page, service.key_options()
        (10, {'max_pages': 2})
    """

    presets = tuple(p for p in ParsePreset if p.on_v1)

    def __init__(self, settings: CloudKitSettings, preset: ParsePreset, options: Mapping[str, Any]) -> None:
        if not preset.on_v1:
            raise ConfigError(
                f"The {preset.value!r} parse preset exists on LlamaCloud's API v2 only",
                hint="Use LlamaCloud's API v2 (CLOUDKIT_API_VERSION=v2), or pick cost_effective, "
                "agentic or agentic_plus on v1",
            )
        kwargs = {**preset.llamaparse_kwargs(), **validate_options(options)}
        kwargs.pop("result_type", None)  # client-side only; we always fetch JSON
        if settings.project_id:
            kwargs["project_id"] = settings.project_id
        if settings.organization_id:
            kwargs["organization_id"] = settings.organization_id
        self.preset, self.options = preset, dict(options)
        self._settings, self._kwargs = settings, kwargs
        self._parsers: dict[int, Any] = {}

    @property
    def credits_per_page(self) -> int:
        """The preset's price per page."""
        return self.preset.credits_per_page

    def key_options(self) -> dict[str, Any]:
        """What, beside the bytes and the preset, makes a v1 result: the options alone.

        v1 keys are the options alone, so caches written before v2 existed stay valid.
        """
        return dict(self.options)

    def _parser(self, session: CloudSession) -> Any:
        """The SDK's LlamaParse over this session's client (one per session)."""
        parser = self._parsers.get(id(session))
        if parser is None:
            client = session.client
            if _tag_upload not in client.event_hooks["request"]:
                client.event_hooks["request"].append(_tag_upload)
            parser = _llamaparse_class()(
                api_key=self._settings.require_key(),
                base_url=self._settings.base_url,
                custom_client=client,
                max_timeout=max(1, int(session.policy.request_timeout)),
                verbose=False,
                show_progress=False,
                ignore_errors=False,
                **self._kwargs,
            )
            self._parsers = {id(session): parser}  # a session never outlives its call
        return parser

    async def submit(self, session: CloudSession, data: bytes, file_name: str) -> str:
        """Upload a file once; returns the job id.

        An answer that cannot be read (not JSON, no ``id``) means LlamaParse may have accepted
        and billed the upload: :class:`SubmissionUnknownError`, never a second upload.
        """
        what = "uploading to LlamaParse"
        with map_cloud_errors(what, file=file_name):
            try:
                async with session.slot():
                    job_id = await self._parser(session)._create_job(
                        data, extra_info={"file_name": file_name}
                    )
            except CloudKitError:
                raise
            except (KeyError, TypeError, json.JSONDecodeError) as exc:
                raise SubmissionUnknownError(
                    f"LlamaParse answered the upload with something that is not a job ({exc!r})",
                    file=file_name,
                ) from exc
            except Exception as exc:  # the SDK wraps an HTTP error answer in a bare Exception
                cause = exc.__cause__
                if isinstance(cause, httpx.HTTPStatusError):
                    raise error_for_status(
                        cause.response.status_code, what, cause.response.text, file=file_name
                    ) from exc
                raise
        if not isinstance(job_id, str) or not job_id:
            raise SubmissionUnknownError(
                f"LlamaParse answered the upload without a job id ({job_id!r})", file=file_name
            )
        return job_id

    async def state(
        self, session: CloudSession, job_id: str, file_name: str
    ) -> tuple[JobState, dict[str, Any]]:
        """One status poll: the job's state and status body (404: JobLostError)."""
        body = await session.json(
            "GET",
            f"/api/parsing/job/{quote(job_id, safe='')}",
            what="polling a LlamaParse job",
            file=file_name,
            job_id=job_id,
            lost_on_404=True,
        )
        return job_state(body.get("status")), body

    async def image(self, session: CloudSession, job_id: str, name: str, file_name: str) -> bytes:
        """One image of a finished job, by the name its result lists (quoted: never a path)."""
        return await session.content(
            f"/api/parsing/job/{quote(job_id, safe='')}/result/image/{quote(name, safe='')}",
            what="downloading a page image",
            file=file_name,
            job_id=job_id,
        )

    async def result(self, session: CloudSession, job_id: str, file_name: str) -> ParsedFile:
        """The finished job's pages, with the billed pages it reports (times the preset's price)."""
        body = await session.json(
            "GET",
            f"/api/parsing/job/{quote(job_id, safe='')}/result/json",
            what="fetching a LlamaParse result",
            file=file_name,
            job_id=job_id,
            lost_on_404=True,
        )
        parsed = parsed_from_result(
            checked_answer(V1Result, body, service="LlamaParse", file=file_name, job_id=job_id), file_name
        )
        billed = body.get("job_metadata")
        pages = billed.get("job_pages") if isinstance(billed, Mapping) else None
        if isinstance(pages, (int, float)) and not isinstance(pages, bool):
            parsed.usage = Usage(pages=int(pages), credits=float(int(pages) * self.preset.credits_per_page))
        return parsed


async def _tag_upload(request: httpx.Request) -> None:
    """Mark the SDK's upload as a paid, rate-limited submission (the transport reads the tag)."""
    if request.method == "POST" and request.url.path.endswith("/parsing/upload"):
        request.extensions = {**request.extensions, **intent(idempotent=False, rate_limited=True)}


def _page_warnings(page: V1Page) -> list[str]:
    """Why a page of the result holds no content: a page LlamaParse failed on."""
    failed = page.success is False or str(page.status or "").upper() == "ERROR"
    if not failed:
        return []
    error = (page.model_extra or {}).get("error")
    return [f"LlamaParse could not parse this page: {error or 'no reason given'}"]


def parsed_from_result(result: V1Result | Mapping[str, Any], file_name: str) -> ParsedFile:
    """LlamaParse's v1 JSON result -> neutral pages (one per page of the JSON, never split text).

    Earlier versions cached results in this shape for either API generation: the engine reads
    those entries with this function too.

    Raises:
        ServiceError: a result of the wrong shape (see :mod:`.answers`).

    Example:
        >>> parsed = parsed_from_result({"pages": [{"page": 1, "md": "# A", "items": []}]}, "a.pdf")
        >>> parsed.pages[0].markdown()
        '# A'
    """
    if not isinstance(result, V1Result):
        result = checked_answer(V1Result, result, service="LlamaParse", file=file_name or None)
    pages: list[ParsedPage] = []
    for page in result.pages:
        markdown = page.md or page.text or ""
        pages.append(
            ParsedPage(
                image_paths=list(page.saved_images or []),
                number=page.page or len(pages) + 1,
                blocks=[markdown] if markdown.strip() else [],
                width=page.width,
                height=page.height,
                table_count=sum(1 for item in page.items or [] if item.type == "table"),
                warnings=_page_warnings(page),
                images=[image.name for image in page.images or [] if image.name],
            )
        )
    return ParsedFile(file_name=file_name, pages=pages, parser="llamaparse")
