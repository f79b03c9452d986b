"""The only module that imports llama_cloud_services' extractor (LlamaExtract).

LlamaExtract's sync methods run in a worker thread with a fresh HTTP client each call, so they
are safe from any event loop; async callers here use ``asyncio.to_thread``. SDK errors are
translated to ours in one place (:func:`_translate`).

Example:
    >>> client = ExtractClient(CloudKitSettings(api_key="llx-..."))  # doctest: +SKIP
    >>> result = client.extract(schema, {"extraction_mode": "FAST"}, text="Invoice 42 ...")  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from llama_index_cloudkit._imports import require, require_sdk
from llama_index_cloudkit.errors import (
    AuthError,
    CloudKitError,
    ConfigError,
    ExtractionError,
    JobFailedError,
    RateLimitError,
    ServiceError,
)
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["ExtractClient", "ExtractResult"]


def _sdk() -> Any:
    return require_sdk()


@dataclass
class ExtractResult:
    """What an extraction produced: the data and LlamaExtract's metadata about it."""

    data: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    job_id: str | None = None
    run_id: str | None = None


@contextmanager
def _translate(what: str, file: str | None = None) -> Iterator[None]:
    """Map SDK and HTTP errors to ours, with the cause kept."""
    api_error = require("llama_cloud.core.api_error", "core", package="llama-cloud").ApiError
    try:
        yield
    except CloudKitError:
        raise
    except api_error as exc:
        status = getattr(exc, "status_code", None)
        body = str(getattr(exc, "body", ""))[:300]
        if status in (401, 403):
            raise AuthError(f"LlamaExtract refused the API key ({status}) during {what}", file=file) from exc
        if status == 429:
            raise RateLimitError(
                f"LlamaExtract rate limited {what}: {body}", status_code=429, file=file
            ) from exc
        if status == 404:
            raise ConfigError(f"LlamaExtract could not find what {what} needs: {body}", file=file) from exc
        raise ServiceError(
            f"LlamaExtract answered HTTP {status} during {what}: {body}", status_code=status, file=file
        ) from exc
    except (TimeoutError, ConnectionError) as exc:
        raise ServiceError(f"LlamaExtract did not answer during {what}: {exc}", file=file) from exc


def _result(run: Any, file: str | None) -> ExtractResult:
    status = str(getattr(run, "status", "") or "")
    status = getattr(status, "value", status)
    if str(status).upper().endswith("ERROR") or str(status).upper() == "CANCELLED":
        raise JobFailedError(
            f"LlamaExtract run failed: {getattr(run, 'error', None)}",
            status=str(status),
            file=file,
            job_id=getattr(run, "job_id", None),
        )
    if getattr(run, "data", None) is None:
        raise ExtractionError("LlamaExtract returned no data", file=file, job_id=getattr(run, "job_id", None))
    return ExtractResult(
        data=run.data,
        metadata=dict(run.extraction_metadata or {}),
        job_id=getattr(run, "job_id", None),
        run_id=getattr(run, "id", None),
    )


class ExtractClient:
    """LlamaExtract calls with our settings and our errors.

    Args:
        settings: key, endpoint, project and organization.
        check_interval: seconds between job polls (the SDK takes whole seconds; 0 polls at once).
        max_timeout: seconds before a job is given up.
    """

    def __init__(self, settings: CloudKitSettings, check_interval: int = 1, max_timeout: int = 600) -> None:
        self.settings = settings
        kwargs: dict[str, Any] = {
            "api_key": settings.require_key(),
            "base_url": settings.base_url,
            "check_interval": check_interval,
            "max_timeout": max_timeout,
            "show_progress": False,
            "verbose": False,
        }
        if settings.project_id:
            kwargs["project_id"] = settings.project_id
        if settings.organization_id:
            kwargs["organization_id"] = settings.organization_id
        self._sdk = _sdk()
        self._extract = self._sdk.LlamaExtract(**kwargs)

    def _source(self, file_path: str | None, text: str | None) -> Any:
        return str(file_path) if file_path is not None else self._sdk.SourceText(text_content=text)

    def extract(
        self,
        schema: dict[str, Any],
        config: Mapping[str, Any],
        *,
        file_path: str | None = None,
        text: str | None = None,
    ) -> ExtractResult:
        """Stateless extraction with a schema and an ExtractConfig (as a dict)."""
        extract_config = self._sdk.extract.ExtractConfig(**config)
        with _translate("extraction", file_path), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the SDK warns on failed jobs
            run = self._extract.extract(schema, extract_config, self._source(file_path, text))
        return _result(run, file_path)

    def agent(self, name: str) -> Any:
        """The extraction agent called ``name``."""
        with _translate(f"looking up agent {name!r}"):
            return self._extract.get_agent(name=name)

    def extract_with_agent(
        self, agent: Any, *, file_path: str | None = None, text: str | None = None
    ) -> ExtractResult:
        """Extraction with a saved agent (its schema and config)."""
        with _translate(f"extraction with agent {agent.name!r}", file_path), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            run = agent.extract(self._source(file_path, text))
        return _result(run, file_path)

    def list_agents(self) -> list[dict[str, Any]]:
        """Every agent of the project: name, id and field names."""
        with _translate("listing agents"):
            agents = self._extract.list_agents()
        return [
            {"name": a.name, "id": a.id, "fields": sorted((a.data_schema or {}).get("properties", {}))}
            for a in agents
        ]

    def queue(self, agent: Any, file_paths: list[str]) -> list[str]:
        """Queue extractions of files with an agent; returns the job ids."""
        from llama_index_cloudkit._loop import run_sync

        with _translate(f"queueing extractions with agent {agent.name!r}"):
            jobs = run_sync(lambda: agent.queue_extraction(list(file_paths)))
        jobs = jobs if isinstance(jobs, list) else [jobs]
        return [job.id for job in jobs]

    def job_result(self, agent: Any, job_id: str) -> dict[str, Any]:
        """The status of a queued job and, when it succeeded, its data."""
        with _translate(f"reading job {job_id}"):
            job = agent.get_extraction_job(job_id)
            status = str(getattr(job.status, "value", job.status))
            if status != "SUCCESS":
                return {"job_id": job_id, "status": status, "error": job.error}
            run = agent.get_extraction_run_for_job(job_id)
        return {"job_id": job_id, "status": status, "data": run.data}
