"""The only module that imports llama_cloud_services' parser (LlamaParse).

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
from llama_index_cloudkit.cloud.errors import JobState, error_for_status, job_state, map_cloud_errors
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.cloud.transport import intent
from llama_index_cloudkit.errors import CloudKitError, ConfigError, ServiceError, SubmissionUnknownError
from llama_index_cloudkit.parse.model import ParsedFile, ParsedPage, ParsedTable
from llama_index_cloudkit.presets import ParsePreset
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["LlamaParseAdapter", "parsed_from_result", "validate_options"]

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


class LlamaParseAdapter:
    """Submit, poll and fetch LlamaParse jobs through one :class:`CloudSession` (one event loop).

    The SDK encodes the upload form; the request goes through the session's client, tagged as a
    paid, rate-limited submission, so the core never repeats it when its outcome is unknown.

    Args:
        settings: key, endpoint, project and organization.
        preset: which of the three presets.
        options: validated extra LlamaParse options.
        session: an open CloudSession of the current event loop.

    Example:
        >>> adapter = LlamaParseAdapter(settings, ParsePreset.AGENTIC, {}, session)  # doctest: +SKIP
        >>> job_id = await adapter.submit(data, "report.pdf")  # doctest: +SKIP
    """

    def __init__(
        self,
        settings: CloudKitSettings,
        preset: ParsePreset,
        options: Mapping[str, Any],
        session: CloudSession,
    ) -> None:
        kwargs = {**preset.llamaparse_kwargs(), **options}
        kwargs.pop("result_type", None)  # client-side only; we always fetch JSON
        if settings.project_id:
            kwargs["project_id"] = settings.project_id
        if settings.organization_id:
            kwargs["organization_id"] = settings.organization_id
        self._session = session
        client = session.client
        if _tag_upload not in client.event_hooks["request"]:
            client.event_hooks["request"].append(_tag_upload)
        self._parser = _llamaparse_class()(
            api_key=settings.require_key(),
            base_url=settings.base_url,
            custom_client=client,
            max_timeout=max(1, int(session.policy.request_timeout)),
            verbose=False,
            show_progress=False,
            ignore_errors=False,
            **kwargs,
        )

    async def submit(self, data: bytes, file_name: str) -> str:
        """Upload a file once; returns the job id.

        An answer that cannot be read (not JSON, no ``id``) means LlamaParse may have accepted
        and billed the upload: :class:`SubmissionUnknownError`, never a second upload.
        """
        what = "uploading to LlamaParse"
        with map_cloud_errors(what, file=file_name):
            try:
                async with self._session.slot():
                    job_id = await self._parser._create_job(data, extra_info={"file_name": file_name})
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

    async def state(self, job_id: str, file_name: str) -> tuple[JobState, dict[str, Any]]:
        """One status poll: the job's state and status body (404: JobLostError)."""
        body = await self._session.json(
            "GET",
            f"/api/parsing/job/{quote(job_id, safe='')}",
            what="polling a LlamaParse job",
            file=file_name,
            job_id=job_id,
            lost_on_404=True,
        )
        return job_state(body.get("status")), body

    async def image(self, job_id: str, name: str, file_name: str) -> bytes:
        """One image of a finished job, by the name its result lists (quoted: never a path)."""
        return await self._session.content(
            f"/api/parsing/job/{quote(job_id, safe='')}/result/image/{quote(name, safe='')}",
            what="downloading a page image",
            file=file_name,
            job_id=job_id,
        )

    async def result(self, job_id: str, file_name: str) -> dict[str, Any]:
        """The JSON result of a finished job, checked to hold a list of pages."""
        body = await self._session.json(
            "GET",
            f"/api/parsing/job/{quote(job_id, safe='')}/result/json",
            what="fetching a LlamaParse result",
            file=file_name,
            job_id=job_id,
            lost_on_404=True,
        )
        pages = body.get("pages")
        if not isinstance(pages, list) or not all(isinstance(p, Mapping) for p in pages):
            raise ServiceError(
                "LlamaParse answered a result without a list of pages",
                file=file_name,
                job_id=job_id,
                hint="The result is malformed; it was not cached, so the next run fetches it again",
            )
        return body


async def _tag_upload(request: httpx.Request) -> None:
    """Mark the SDK's upload as a paid, rate-limited submission (the transport reads the tag)."""
    if request.method == "POST" and request.url.path.endswith("/parsing/upload"):
        request.extensions = {**request.extensions, **intent(idempotent=False, rate_limited=True)}


def _page_warnings(page: Mapping[str, Any]) -> list[str]:
    """Why a page of the result holds no content: a page LlamaParse failed on (v2 partial results)."""
    failed = page.get("success") is False or str(page.get("status") or "").upper() == "ERROR"
    if not failed:
        return []
    return [f"LlamaParse could not parse this page: {page.get('error') or 'no reason given'}"]


def parsed_from_result(result: Mapping[str, Any], file_name: str, file_type: str) -> ParsedFile:
    """LlamaParse's JSON result -> neutral pages (one per page of the JSON, never split text).

    Example:
        >>> parsed = parsed_from_result({"pages": [{"page": 1, "md": "# A", "items": []}]},
        ...                             "a.pdf", "application/pdf")
        >>> parsed.pages[0].markdown()
        '# A'
    """
    pages: list[ParsedPage] = []
    for page in result.get("pages") or []:
        tables = [
            ParsedTable(rows=[["" if c is None else str(c) for c in row] for row in item.get("rows") or []])
            for item in page.get("items") or []
            if item.get("type") == "table"
        ]
        markdown = page.get("md") or page.get("text") or ""
        pages.append(
            ParsedPage(
                image_paths=[str(p) for p in page.get("saved_images") or []],
                number=int(page.get("page") or len(pages) + 1),
                blocks=[markdown] if markdown.strip() else [],
                width=page.get("width"),
                height=page.get("height"),
                table_count=len(tables),
                warnings=_page_warnings(page),
            )
        )
    return ParsedFile(file_name=file_name, pages=pages, parser="llamaparse", file_type=file_type)
