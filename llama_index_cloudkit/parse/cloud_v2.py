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

Tiers, pinned versions and the translation of ``parse_options`` into the request body live in
:mod:`.tiers_v2`; reading the answer as the v1-shaped result lives in :mod:`.results_v2`. Both
are re-exported here, so ``from llama_index_cloudkit.parse.cloud_v2 import v2_request`` keeps
working.

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
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from llama_index_cloudkit.cloud.errors import JobState, job_state, map_cloud_errors
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import ServiceError
from llama_index_cloudkit.parse.files_v2 import submit_job, upload_file
from llama_index_cloudkit.parse.results_v2 import failed_pages, v1_shaped_result
from llama_index_cloudkit.parse.tiers_v2 import (
    V2_TIERS,
    V2Tier,
    check_preset_for_api,
    v2_key_options,
    v2_request,
    v2_tier,
)
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
