"""The only module that imports llama_cloud_services' parser (LlamaParse).

The SDK is used for what it does well and nothing else: validating options and encoding the
upload form (``LlamaParse._create_job``). Its HTTP goes through the client we give it (our
retry policy, rate limiter and typed errors), and we poll and fetch results ourselves, so that
a job id can be journaled before polling and no client outlives its event loop.

Example:
    >>> options = validate_options({"max_pages": 3})
    >>> options
    {'max_pages': 3}
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from llama_index_cloudkit._imports import require_sdk
from llama_index_cloudkit.errors import ConfigError, JobFailedError
from llama_index_cloudkit.parse.model import ParsedFile, ParsedPage, ParsedTable
from llama_index_cloudkit.presets import ParsePreset
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["FAILED_STATUSES", "LlamaParseAdapter", "parsed_from_result", "validate_options"]

FAILED_STATUSES = frozenset({"ERROR", "CANCELED", "CANCELLED", "PARTIAL_SUCCESS"})

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
    """Submit, poll and fetch LlamaParse jobs through one AsyncClient (one event loop).

    Args:
        settings: key, endpoint, project and organization.
        preset: which of the three presets.
        options: validated extra LlamaParse options.
        client: an AsyncClient created in the current event loop.
        slots: bounds the requests in flight at once.

    Example:
        >>> adapter = LlamaParseAdapter(settings, ParsePreset.AGENTIC, {}, client)  # doctest: +SKIP
        >>> job_id = await adapter.submit(data, "report.pdf")  # doctest: +SKIP
    """

    def __init__(
        self,
        settings: CloudKitSettings,
        preset: ParsePreset,
        options: Mapping[str, Any],
        client: httpx.AsyncClient,
        slots: asyncio.Semaphore | None = None,
    ) -> None:
        kwargs = {**preset.llamaparse_kwargs(), **options}
        kwargs.pop("result_type", None)  # client-side only; we always fetch JSON
        if settings.project_id:
            kwargs["project_id"] = settings.project_id
        if settings.organization_id:
            kwargs["organization_id"] = settings.organization_id
        self._client = client
        self._slots = slots or asyncio.Semaphore(8)
        self._parser = _llamaparse_class()(
            api_key=settings.require_key(),
            base_url=settings.base_url,
            custom_client=client,
            verbose=False,
            show_progress=False,
            ignore_errors=False,
            **kwargs,
        )

    async def submit(self, data: bytes, file_name: str) -> str:
        """Upload a file; returns the job id."""
        async with self._slots:
            return str(await self._parser._create_job(data, extra_info={"file_name": file_name}))

    async def status(self, job_id: str) -> tuple[int, dict[str, Any]]:
        """One status poll: (HTTP status, body). 404 means the job is unknown."""
        async with self._slots:
            response = await self._client.get(f"/api/parsing/job/{job_id}")
        body = response.json() if response.content else {}
        return response.status_code, body

    async def image(self, job_id: str, name: str) -> bytes:
        """One image of a finished job, by the name its result lists (quoted: never a path)."""
        async with self._slots:
            response = await self._client.get(
                f"/api/parsing/job/{job_id}/result/image/{quote(name, safe='')}"
            )
        response.raise_for_status()
        return response.content

    async def result(self, job_id: str) -> dict[str, Any]:
        """The JSON result of a finished job."""
        async with self._slots:
            response = await self._client.get(f"/api/parsing/job/{job_id}/result/json")
        response.raise_for_status()
        return dict(response.json())


def raise_for_job_status(body: Mapping[str, Any], job_id: str, file_name: str) -> bool:
    """True when the job succeeded, False while pending; raises JobFailedError on failure.

    Example:
        >>> raise_for_job_status({"status": "PENDING"}, "j", "a.pdf")
        False
    """
    status = str(body.get("status", "")).upper()
    if status == "SUCCESS":
        return True
    if status in FAILED_STATUSES:
        raise JobFailedError(
            f"LlamaParse job failed: {body.get('error_message') or 'no message'}",
            status=status,
            code=body.get("error_code"),
            file=file_name,
            job_id=job_id,
            hint="The job was dropped from the journal; the next run submits the file again",
        )
    return False


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
            ParsedTable(rows=[[str(c) for c in row] for row in item.get("rows") or []])
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
            )
        )
    return ParsedFile(file_name=file_name, pages=pages, parser="llamaparse", file_type=file_type)
