"""LlamaExtract v2 (LlamaCloud's current API) over the cloud core: plain HTTP, no second SDK.

One extraction (reference/llamacloud-api-v2.md, section 3a):

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
Jobs go through :class:`~llama_index_cloudkit.cloud.JobRun` (journaled before polling, a
deadline that never restarts, one resubmission of a lost job); a re-run with the same schema,
configuration and input re-attaches instead of paying again (unless ``disable_cache``).
v2 has no extraction agents: a saved configuration is its saved setup.

Citations and confidence come back under the same key as on v1: :func:`v1_shaped_metadata`
gives ``field_metadata`` keyed by field (v2's ``field_metadata.document_metadata``), plus
``page_metadata`` / ``row_metadata``, ``parse_job_id`` and ``parse_tier`` when reported, so
``_metadata.field_metadata.<field>.citation`` reads the same on both generations.

Example:
    >>> LlamaExtractV2.check_config({"tier": "agentic", "cite_sources": True})
    {'tier': 'agentic', 'cite_sources': True}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from llama_index_cloudkit.cloud.errors import checked_answer, map_cloud_errors
from llama_index_cloudkit.cloud.jobs import raise_for_state
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import (
    CloudKitError,
    ConfigError,
    ExtractionError,
    JobLostError,
    ServiceError,
)
from llama_index_cloudkit.extract.llamacloud._client import (
    ExtractInput,
    ExtractJobOps,
    ServiceClient,
    content_key,
)
from llama_index_cloudkit.extract.llamacloud.answers import V2Job
from llama_index_cloudkit.extract.model import ExtractResult, SavedExtraction
from llama_index_cloudkit.parse.llamacloud.files import submit_job, upload_file
from llama_index_cloudkit.settings import CloudKitSettings, check_keywords

__all__ = [
    "V2_CONFIG_KEYS",
    "LlamaExtractV2",
    "saved_configuration",
    "usage_of_v2",
    "v1_shaped_metadata",
]

EXTRACT = "/api/v2/extract"
VALIDATION = "/api/v2/extract/schema/validation"
CONFIGURATIONS = "/api/v1/beta/configurations"
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


def usage_of_v2(job: Mapping[str, Any]) -> dict[str, Any] | None:
    """Usage and credits an Extract v2 job reported (``metadata.usage`` merged with ``usage``).

    Example:
        >>> usage_of_v2({"metadata": {"usage": {"pages": 2}}, "usage": {"credits": 3}})
        {'pages': 2, 'credits': 3}
    """
    found: dict[str, Any] = {}
    metadata = job.get("metadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("usage"), Mapping):
        found.update(metadata["usage"])
    if isinstance(job.get("usage"), Mapping):
        found.update(job["usage"])
    return found or None


def saved_configuration(body: Mapping[str, Any]) -> SavedExtraction:
    """A saved configuration from the service's answer (ServiceError without an id).

    Its ``config`` is the saved parameters, ``data_schema`` among them.

    Example:
        >>> saved = saved_configuration({"id": "cfg-1", "parameters": {"data_schema": {"type": "object"}}})
        >>> saved.name, saved.data_schema
        ('cfg-1', {'type': 'object'})
    """
    config_id = body.get("id")
    if not isinstance(config_id, str) or not config_id:
        raise ServiceError("A saved configuration was answered without an id")
    parameters = body.get("parameters")
    config = dict(parameters) if isinstance(parameters, Mapping) else {}
    schema = config.get("data_schema")
    return SavedExtraction(
        config_id,
        str(body.get("name") or config_id),
        dict(schema) if isinstance(schema, Mapping) else {},
        config,
    )


def _job_path(job_id: str) -> str:
    return f"{EXTRACT}/{quote(job_id, safe='')}"


class LlamaExtractV2:
    """LlamaExtract v2 with our settings, transport, journal and errors (see the module).

    Each public coroutine opens its own :class:`CloudSession` in the running loop; each sync
    method runs it on a fresh loop (safe inside a running one).

    Args:
        settings: key, endpoint, project and organization.
        policy: retries, timeouts, job deadline and polling.
        journal: where job ids are written before polling (``"default"``: ``journal.sqlite`` in
            the cache directory; None disables re-attaching).
        transport: the HTTP transport under the core's resilient one (tests).

    Example:
        >>> from llama_index_cloudkit.settings import CloudKitSettings
        >>> service = LlamaExtractV2(CloudKitSettings(api_key="llx-test"))
        >>> service.check_config(None)
        {}
    """

    def __init__(
        self,
        settings: CloudKitSettings,
        policy: CloudPolicy | None = None,
        *,
        journal: JobJournal | str | None = "default",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = ServiceClient(
            settings, policy, journal=journal, transport=transport, what="Extract v2 job"
        )
        self.settings = settings
        self.policy = self._client.policy

    @staticmethod
    def check_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
        """An Extract v2 configuration dict, its keys and choices checked before anything is sent.

        None is the service's default (an empty configuration).

        Raises:
            ConfigError: a v1 key (the message names the v2 one), an unknown key, or a value
                outside the documented choices.

        Example:
            >>> LlamaExtractV2.check_config({"extraction_mode": "FAST"})
            Traceback (most recent call last):
            ...
            llama_index_cloudkit.errors.ConfigError: extraction_mode is an Extract v1 setting. ...
        """
        config = {} if config is None else config
        for key in config:
            if key in _V1_KEYS:
                raise ConfigError(
                    f"{key} is an Extract v1 setting",
                    hint=f"On Extract v2 use {_V1_KEYS[key]}; nothing was sent",
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
                hint="Change the saved configuration, or pass an inline configuration "
                "without configuration_id",
            )
        return checked

    # --- schema and saved configurations -------------------------------------------------------

    async def _validated_schema(self, session: CloudSession, schema: Mapping[str, Any]) -> dict[str, Any]:
        return await self._client.checked_schema(
            session, schema, path=VALIDATION, service="Extract v2", params=session.project_params()
        )

    def validate_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """Extract v2's own check of a JSON schema; the normalised schema it answers.

        Raises:
            SchemaError: the service refused the schema.
        """
        return self._client.sync(lambda s: self._validated_schema(s, schema))

    async def _configuration(self, session: CloudSession, name_or_id: str) -> SavedExtraction:
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
        found: list[SavedExtraction] = []
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

    def saved(self, configuration: Any) -> SavedExtraction:
        """A saved Extract v2 configuration by id, or else by name (a SavedExtraction is kept).

        Raises:
            ConfigError: none (or several) with that name; the message lists the known ones.

        Example:
            >>> from llama_index_cloudkit.settings import CloudKitSettings
            >>> service = LlamaExtractV2(CloudKitSettings(api_key="llx-test"))
            >>> service.saved(saved_configuration({"id": "cfg-1", "name": "invoice"})).name
            'invoice'
        """
        if isinstance(configuration, SavedExtraction):
            return configuration
        return self._client.sync(lambda s: self._configuration(s, str(configuration)))

    # --- extraction ------------------------------------------------------------------------------

    async def _extract(
        self,
        session: CloudSession,
        schema: Mapping[str, Any] | None,
        config: Mapping[str, Any],
        source: ExtractInput,
    ) -> ExtractResult:
        """One Extract v2 extraction in an open session."""
        checked = self.check_config(config)
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
            outcome = await self._client.run(
                ops, key=key, label=source.label, reattach=not checked.get("disable_cache")
            )
            raise_for_state(outcome, what=self._client.what, file=source.label)
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
                self._client.mark(key, "LOST")
                raise
            # A malformed answer is not the job's fault: the journal keeps it for a re-read.
            checked_answer(V2Job, job, service="LlamaExtract", file=source.label, job_id=outcome.job_id)
            if job.get("extract_result") is None:
                self._client.mark(key, "FAILED")
                raise ExtractionError(
                    "Extract v2 returned no data",
                    file=source.label,
                    job_id=outcome.job_id,
                    hint="Check the schema's descriptions and the document; run again to retry",
                )
            self._client.mark(key, "SUCCESS")
            return ExtractResult(
                data=job["extract_result"],
                metadata=v1_shaped_metadata(job),
                job_id=outcome.job_id,
                reattached=outcome.reattached,
                usage=usage_of_v2(job),
            )

    def extract(
        self,
        schema: Mapping[str, Any] | None,
        config: Mapping[str, Any],
        *,
        file_path: str | os.PathLike[str] | None = None,
        text: str | None = None,
    ) -> ExtractResult:
        """Extraction of a file or a text with a JSON schema and an inline configuration, or
        with a ``configuration_id`` (then ``schema`` may be None)."""
        source = ExtractInput.of(file_path, text)
        return self._client.sync(lambda s: self._extract(s, schema, config, source))

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
        return await self._client.in_loop(lambda s: self._extract(s, schema, config, source))

    async def _extract_saved(
        self, session: CloudSession, configuration: Any, source: ExtractInput
    ) -> ExtractResult:
        saved = (
            configuration
            if isinstance(configuration, SavedExtraction)
            else await self._configuration(session, str(configuration))
        )
        return await self._extract(session, None, {"configuration_id": saved.id}, source)

    def extract_saved(
        self, configuration: Any, *, file_path: str | os.PathLike[str] | None = None, text: str | None = None
    ) -> ExtractResult:
        """Extraction with a saved configuration (a SavedExtraction, or its name or id)."""
        source = ExtractInput.of(file_path, text)
        return self._client.sync(lambda s: self._extract_saved(s, configuration, source))

    async def aextract_saved(
        self, configuration: Any, *, file_path: str | os.PathLike[str] | None = None, text: str | None = None
    ) -> ExtractResult:
        """:meth:`extract_saved` in the running event loop."""
        source = ExtractInput.of(file_path, text)
        return await self._client.in_loop(lambda s: self._extract_saved(s, configuration, source))
