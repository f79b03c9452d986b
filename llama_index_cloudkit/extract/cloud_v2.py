"""Extract v2 (LlamaCloud's current API) as plain HTTP over the cloud core.

No second SDK (reference/llamacloud-api-v2.md, section 3a). One extraction:

| step | request |
|---|---|
| schema check (once per schema and client) | ``POST /api/v2/extract/schema/validation`` ``{data_schema}`` |
| upload (free, retried like a read) | ``POST /api/v1/beta/files`` (multipart ``file``, ``purpose=extract``) |
| submit (paid, never repeated blindly) | ``POST /api/v2/extract`` ``{file_input, configuration}`` |
| submit with a saved configuration | ``POST /api/v2/extract`` ``{file_input, configuration_id}`` |
| poll (no expand) | ``GET /api/v2/extract/{job_id}`` |
| result (once) | ``GET /api/v2/extract/{job_id}?expand=extract_metadata&expand=usage`` |
| saved configuration | ``GET /api/v1/beta/configurations/{id}``, or the list by name |

v2 takes files only, so a text is sent as a file (``text_input_<8hex>.txt``, ``text/plain``).
Jobs go through :func:`~llama_index_cloudkit.cloud.run_job` (journaled before polling, a
deadline that never restarts, one resubmission of a lost job); a re-run with the same schema,
configuration and input re-attaches instead of paying again (unless ``disable_cache``).

Configuration checks, saved configurations and the v1-shaped metadata (citations and confidence
under the same key as on v1) live in :mod:`.wire_v2` and are re-exported here.

Example:
    >>> check_v2_config({"tier": "agentic", "cite_sources": True})
    {'tier': 'agentic', 'cite_sources': True}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from llama_index_cloudkit.cloud.errors import map_cloud_errors
from llama_index_cloudkit.cloud.jobs import raise_for_state
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import CloudKitError, ConfigError, ExtractionError, JobLostError
from llama_index_cloudkit.extract.client_base import ExtractClientBase, ExtractJobOps
from llama_index_cloudkit.extract.wire import ExtractInput, ExtractResult, content_key
from llama_index_cloudkit.extract.wire_v2 import (
    V2_CONFIG_KEYS,
    SavedConfiguration,
    check_v2_config,
    saved_configuration,
    usage_of_v2,
    v1_shaped_metadata,
)
from llama_index_cloudkit.parse.llamacloud.files import submit_job, upload_file

__all__ = [
    "V2_CONFIG_KEYS",
    "ExtractV2Client",
    "SavedConfiguration",
    "check_v2_config",
    "v1_shaped_metadata",
]

EXTRACT = "/api/v2/extract"
VALIDATION = "/api/v2/extract/schema/validation"
CONFIGURATIONS = "/api/v1/beta/configurations"
_MAX_PAGES = 100


def _job_path(job_id: str) -> str:
    return f"{EXTRACT}/{quote(job_id, safe='')}"


class ExtractV2Client(ExtractClientBase[Mapping[str, Any] | None]):
    """Extract v2 calls with our settings, transport, journal and errors (see the module).

    Each public coroutine opens its own :class:`CloudSession` in the running loop; each sync
    method runs it on a fresh loop (safe inside a running one).

    Args:
        settings: key, endpoint, project and organization.
        policy: retries, timeouts, job deadline and polling.
        journal: where job ids are written before polling (``"default"``: ``journal.sqlite`` in
            the cache directory; None disables re-attaching).
        transport: the HTTP transport under the core's resilient one (tests).

    Example:
        >>> client = ExtractV2Client(CloudKitSettings(api_key="llx-...", api_version="v2"))  # doctest: +SKIP
        >>> client.extract(schema, {"tier": "agentic"}, text="Invoice 42").data  # doctest: +SKIP
        {'number': '42'}
    """

    _what = "Extract v2 job"

    # --- schema and saved configurations -------------------------------------------------------

    async def _validated_schema(self, session: CloudSession, schema: Mapping[str, Any]) -> dict[str, Any]:
        return await self._checked_schema(
            session, schema, path=VALIDATION, service="Extract v2", params=session.project_params()
        )

    def validate_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """Extract v2's own check of a JSON schema; the normalised schema it answers.

        Raises:
            SchemaError: the service refused the schema.

        Example:
            >>> client.validate_schema({"type": "object", "properties": {}})  # doctest: +SKIP
            {'type': 'object', 'properties': {}}
        """
        return self._sync(lambda s: self._validated_schema(s, schema))

    async def _configuration(self, session: CloudSession, name_or_id: str) -> SavedConfiguration:
        what = f"Looking up saved configuration {name_or_id!r}"
        try:
            body = await session.json(
                "GET",
                f"{CONFIGURATIONS}/{quote(name_or_id, safe='')}",
                what=what,
                params=session.project_params(),
            )
            return saved_configuration(body)
        except CloudKitError as exc:
            if getattr(exc, "status_code", None) not in (404, 400, 422):
                raise
        found: list[SavedConfiguration] = []
        params: dict[str, Any] = {**session.project_params(), "product_type": "extract_v2"}
        for _ in range(_MAX_PAGES):
            page = await session.json("GET", CONFIGURATIONS, what=what, params=params)
            found.extend(saved_configuration(i) for i in page.get("items") or [] if isinstance(i, Mapping))
            if not page.get("next_page_token"):
                break
            params = {**params, "page_token": page["next_page_token"]}
        named = [c for c in found if c.name == name_or_id]
        if len(named) != 1:
            known = sorted(c.name for c in found)
            raise ConfigError(
                f"{'No' if not named else len(named)} saved Extract v2 configuration(s) named {name_or_id!r}",
                hint=("Known configurations: " + ", ".join(known[:20]))
                if known
                else "The project has no saved configurations",
            )
        return named[0]

    def configuration(self, name_or_id: str) -> SavedConfiguration:
        """A saved Extract v2 configuration by id, or else by name.

        Raises:
            ConfigError: none (or several) with that name; the message lists the known ones.

        Example:
            >>> client.configuration("invoice").data_schema  # doctest: +SKIP
            {'type': 'object', ...}
        """
        return self._sync(lambda s: self._configuration(s, name_or_id))

    async def aconfiguration(self, name_or_id: str) -> SavedConfiguration:
        """:meth:`configuration` in the running event loop."""
        return await self._async(lambda s: self._configuration(s, name_or_id))

    # --- extraction ------------------------------------------------------------------------------

    async def extract_in_session(
        self,
        session: CloudSession,
        schema: Mapping[str, Any] | None,
        config: Mapping[str, Any],
        source: ExtractInput,
    ) -> ExtractResult:
        """One Extract v2 extraction in an open session (what :meth:`extract` and the v1 client's
        ``api_version="v2"`` path run).

        Example:
            >>> source = ExtractInput.of(None, "Invoice 42")  # doctest: +SKIP
            >>> await client.extract_in_session(session, schema, {}, source)  # doctest: +SKIP
        """
        checked = check_v2_config(config)
        saved_id = checked.get("configuration_id")
        if saved_id is None and not schema:
            raise ConfigError("Extract v2 needs a schema or a configuration_id")
        key = content_key(
            "v2:" + (f"config:{saved_id}" if saved_id else "inline"), dict(schema or {}), checked, source.data
        )

        async def submit() -> str:
            mime = "text/plain" if source.is_text else None
            file_id = await upload_file(
                session, source.data, source.file_name, purpose="extract", label=source.label, mime_type=mime
            )
            body: dict[str, Any] = {"file_input": file_id}
            if saved_id is not None:
                body["configuration_id"] = saved_id
            else:
                body["configuration"] = {
                    **checked,
                    "data_schema": await self._validated_schema(session, schema or {}),
                }
            return await submit_job(
                session, EXTRACT, body, what="Submitting the Extract v2 job", label=source.label
            )

        with map_cloud_errors("Extraction", file=source.label):
            ops = ExtractJobOps(
                session,
                submit,
                source.label,
                status_path=_job_path,
                what="Reading the Extract v2 job's status",
                project_params=True,
            )
            outcome = await self._run(
                ops, key=key, label=source.label, reattach=not checked.get("disable_cache")
            )
            raise_for_state(outcome, what=self._what, file=source.label)
            try:
                job = await session.json(
                    "GET",
                    _job_path(outcome.job_id),
                    what="Reading the Extract v2 result",
                    file=source.label,
                    job_id=outcome.job_id,
                    lost_on_404=True,
                    params={**session.project_params(), "expand": ["extract_metadata", "usage"]},
                )
            except JobLostError:
                self._mark(key, "LOST")
                raise
            if job.get("extract_result") is None:
                self._mark(key, "FAILED")
                raise ExtractionError(
                    "Extract v2 returned no data",
                    file=source.label,
                    job_id=outcome.job_id,
                    hint="Check the schema's descriptions and the document; run again to retry",
                )
            self._mark(key, "SUCCESS")
            return ExtractResult(
                data=job["extract_result"],
                metadata=v1_shaped_metadata(job),
                job_id=outcome.job_id,
                reattached=outcome.reattached,
                usage=usage_of_v2(job),
            )

    _extract = extract_in_session
