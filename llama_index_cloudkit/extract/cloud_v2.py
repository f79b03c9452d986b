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

Citations and confidence come back under the same key as on v1: the result's metadata holds
``field_metadata`` keyed by field (v2's ``field_metadata.document_metadata``), plus
``page_metadata`` / ``row_metadata``, ``parse_job_id`` and ``parse_tier`` when reported, so
``_metadata.field_metadata.<field>.citation`` reads the same on both generations.

Example:
    >>> check_v2_config({"tier": "agentic", "cite_sources": True})
    {'tier': 'agentic', 'cite_sources': True}
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from llama_index_cloudkit._loop import run_sync
from llama_index_cloudkit.cloud.errors import JobState, job_state, map_cloud_errors
from llama_index_cloudkit.cloud.jobs import raise_for_state, run_job
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import (
    CloudKitError,
    ConfigError,
    ExtractionError,
    JobLostError,
    SchemaError,
    ServiceError,
)
from llama_index_cloudkit.extract.wire import ExtractInput, ExtractResult, content_key
from llama_index_cloudkit.parse.files_v2 import submit_job, upload_file
from llama_index_cloudkit.settings import CloudKitSettings, check_keywords

__all__ = [
    "V2_CONFIG_KEYS",
    "ExtractV2Client",
    "SavedConfiguration",
    "check_v2_config",
    "v1_shaped_metadata",
]

T = TypeVar("T")

EXTRACT = "/api/v2/extract"
VALIDATION = "/api/v2/extract/schema/validation"
CONFIGURATIONS = "/api/v1/beta/configurations"
_WHAT = "Extract v2 job"
_MAX_PAGES = 100

V2_CONFIG_KEYS = (
    "tier",
    "version",
    "cite_sources",
    "confidence_scores",
    "advanced_citations",
    "system_prompt",
    "target_pages",
    "max_pages",
    "parse_tier",
    "parse_config_id",
    "extraction_target",
    "disable_cache",
    "spreadsheet_mode",
    "sheet_names",
    "configuration_id",
)
"""Extract v2 ``configuration`` keys (``data_schema`` is the schema), and ``configuration_id``."""

_CHOICES = {
    "tier": ("cost_effective", "agentic", "agentic_plus", "turbo"),
    "parse_tier": ("fast", "cost_effective", "agentic", "agentic_plus"),
    "extraction_target": ("per_doc", "per_page", "per_table_row"),
}
_V1_KEYS = {
    "extraction_mode": "tier (cost_effective, agentic, agentic_plus, turbo)",
    "page_range": "target_pages",
    "invalidate_cache": "disable_cache",
    "use_reasoning": "nothing (v2 has no reasoning output)",
    "citation_bbox": "advanced_citations",
    "chunk_mode": "nothing",
    "high_resolution_mode": "nothing",
    "extract_model": "tier",
    "parse_model": "parse_tier",
    "priority": "nothing",
}


def check_v2_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """An Extract v2 configuration dict, its keys and choices checked before anything is sent.

    Raises:
        ConfigError: a v1 key (the message names the v2 one), an unknown key, or a value
            outside the documented choices.

    Example:
        >>> check_v2_config({"extraction_mode": "FAST"})
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: extraction_mode is an Extract v1 setting. ...
    """
    for key in config:
        if key in _V1_KEYS:
            raise ConfigError(
                f"{key} is an Extract v1 setting",
                hint=f"On api_version='v2' use {_V1_KEYS[key]}; nothing was sent",
            )
    check_keywords(config, V2_CONFIG_KEYS, "Extract v2 configuration")
    checked = {str(k): getattr(v, "value", v) for k, v in config.items()}
    for key, choices in _CHOICES.items():
        value = checked.get(key)
        if value is not None:
            value = str(value).lower()
            if value not in choices:
                raise ConfigError(
                    f"{key}={checked[key]!r} is not an Extract v2 choice",
                    hint="Use one of: " + ", ".join(choices),
                )
            checked[key] = value
    if "configuration_id" in checked and len(checked) > 1:
        raise ConfigError(
            "configuration_id names a saved configuration; it takes no other setting",
            hint="Change the saved configuration, or pass an inline configuration without configuration_id",
        )
    return checked


def v1_shaped_metadata(job: Mapping[str, Any]) -> dict[str, Any]:
    """An ExtractV2Job's ``extract_metadata`` in v1's shape: ``field_metadata`` keyed by field.

    Example:
        >>> v1_shaped_metadata({"extract_metadata": {"field_metadata": {"document_metadata":
        ...     {"total": {"confidence": 0.9}}}, "parse_job_id": "pjb-1"}})
        {'field_metadata': {'total': {'confidence': 0.9}}, 'parse_job_id': 'pjb-1'}
    """
    raw = job.get("extract_metadata")
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, Any] = {}
    fields = raw.get("field_metadata")
    if isinstance(fields, Mapping):
        document = fields.get("document_metadata")
        out["field_metadata"] = dict(document) if isinstance(document, Mapping) else {}
        for key in ("page_metadata", "row_metadata"):
            if fields.get(key) is not None:
                out[key] = fields[key]
    for key in ("parse_job_id", "parse_tier"):
        if raw.get(key) is not None:
            out[key] = raw[key]
    return out


def _usage(job: Mapping[str, Any]) -> dict[str, Any] | None:
    found: dict[str, Any] = {}
    metadata = job.get("metadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("usage"), Mapping):
        found.update(metadata["usage"])
    if isinstance(job.get("usage"), Mapping):
        found.update(job["usage"])
    return found or None


@dataclass(frozen=True)
class SavedConfiguration:
    """A saved Extract v2 configuration: id, name and its parameters (``data_schema`` among them).

    Example:
        >>> SavedConfiguration("cfg-1", "invoice", {"data_schema": {"type": "object"}}).data_schema
        {'type': 'object'}
    """

    id: str
    name: str
    parameters: dict[str, Any]

    @property
    def data_schema(self) -> dict[str, Any]:
        """The saved JSON schema."""
        schema = self.parameters.get("data_schema")
        return dict(schema) if isinstance(schema, Mapping) else {}


def _saved(body: Mapping[str, Any]) -> SavedConfiguration:
    config_id = body.get("id")
    if not isinstance(config_id, str) or not config_id:
        raise ServiceError("A saved configuration was answered without an id")
    parameters = body.get("parameters")
    return SavedConfiguration(
        config_id,
        str(body.get("name") or config_id),
        dict(parameters) if isinstance(parameters, Mapping) else {},
    )


class _Ops:
    def __init__(self, session: CloudSession, submit: Callable[[], Awaitable[str]], label: str) -> None:
        self._session, self._submit, self._label = session, submit, label

    async def submit(self) -> str:
        return await self._submit()

    async def state(self, job_id: str) -> tuple[JobState, Mapping[str, Any]]:
        body = await self._session.json(
            "GET",
            f"{EXTRACT}/{quote(job_id, safe='')}",
            what="Reading the Extract v2 job's status",
            file=self._label,
            job_id=job_id,
            lost_on_404=True,
            params=self._session.project_params(),
        )
        return job_state(body.get("status")), body


class ExtractV2Client:
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

    def __init__(
        self,
        settings: CloudKitSettings,
        policy: CloudPolicy | None = None,
        *,
        journal: JobJournal | str | None = "default",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        settings.require_key()
        self.settings = settings
        self.policy = policy or CloudPolicy()
        self._transport = transport
        self._journal_choice = journal
        self._journal: JobJournal | None = None
        self._validated: dict[str, dict[str, Any]] = {}

    @property
    def journal(self) -> JobJournal | None:
        """The job journal (created on first use)."""
        if self._journal_choice == "default":
            if self._journal is None:
                self._journal = JobJournal(self.settings.cache_path("journal.sqlite"))
            return self._journal
        return self._journal_choice if isinstance(self._journal_choice, JobJournal) else None

    def _sync(self, work: Callable[[CloudSession], Awaitable[T]]) -> T:
        return run_sync(lambda: self._async(work))

    async def _async(self, work: Callable[[CloudSession], Awaitable[T]]) -> T:
        async with CloudSession(self.settings, self.policy, inner=self._transport) as session:
            return await work(session)

    # --- schema and saved configurations -------------------------------------------------------

    async def _validated_schema(self, session: CloudSession, schema: Mapping[str, Any]) -> dict[str, Any]:
        memo = json.dumps(schema, sort_keys=True)
        if memo not in self._validated:
            try:
                body = await session.json(
                    "POST",
                    VALIDATION,
                    what="Validating the extraction schema",
                    idempotent=True,  # read-only: nothing is created or billed
                    json={"data_schema": dict(schema)},
                    params=session.project_params(),
                )
            except ConfigError as exc:
                raise SchemaError(
                    [exc.message], hint="Extract v2 rejected the schema; nothing was extracted"
                ) from exc
            answer = body.get("data_schema")
            self._validated[memo] = dict(answer) if isinstance(answer, Mapping) and answer else dict(schema)
        return self._validated[memo]

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
            return _saved(body)
        except CloudKitError as exc:
            if getattr(exc, "status_code", None) not in (404, 400, 422):
                raise
        found: list[SavedConfiguration] = []
        params: dict[str, Any] = {**session.project_params(), "product_type": "extract_v2"}
        for _ in range(_MAX_PAGES):
            page = await session.json("GET", CONFIGURATIONS, what=what, params=params)
            found.extend(_saved(i) for i in page.get("items") or [] if isinstance(i, Mapping))
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
            outcome = await run_job(
                _Ops(session, submit, source.label),
                key=key,
                label=source.label,
                policy=self.policy,
                journal=self.journal,
                reattach=not checked.get("disable_cache"),
                what=_WHAT,
            )
            raise_for_state(outcome, what=_WHAT, file=source.label)
            try:
                job = await session.json(
                    "GET",
                    f"{EXTRACT}/{quote(outcome.job_id, safe='')}",
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
                usage=_usage(job),
            )

    def _mark(self, key: str, status: str) -> None:
        if self.journal is not None:
            self.journal.mark(key, status)

    def extract(
        self,
        schema: Mapping[str, Any] | None,
        config: Mapping[str, Any],
        *,
        file_path: str | os.PathLike[str] | None = None,
        text: str | None = None,
    ) -> ExtractResult:
        """Extraction of a file or a text with a JSON schema and an inline configuration (or a
        ``configuration_id``; then ``schema`` may be None).

        Example:
            >>> client.extract({"type": "object", "properties": {}}, {}, text="x")  # doctest: +SKIP
        """
        source = ExtractInput.of(file_path, text)
        return self._sync(lambda s: self.extract_in_session(s, schema, config, source))

    async def aextract(
        self,
        schema: Mapping[str, Any] | None,
        config: Mapping[str, Any],
        *,
        file_path: str | os.PathLike[str] | None = None,
        text: str | None = None,
    ) -> ExtractResult:
        """:meth:`extract` in the running event loop."""
        source = ExtractInput.of(file_path, text)
        return await self._async(lambda s: self.extract_in_session(s, schema, config, source))
