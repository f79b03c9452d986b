"""The jobs the v2 emulator state keeps: a Parse v2 job and an Extract v2 job, with their JSON.

Each keeps what the client sent (``request``) and its lifecycle (:class:`V2Job`); a parse job
also keeps each ``GET``'s ``expand`` list and computes its (v1-shaped) result once, from the
local parser or a served fixture. :class:`~llama_index_cloudkit.testing.v2_state.V2State` makes
and stores them.

Example:
    >>> from llama_index_cloudkit.testing.v2_jobs import V2JobScript
    >>> job = V2ParseJob(V2Job("pjb-1", V2JobScript()), {}, "fast", "2026-06-15", "proj", "a.txt", b"x")
    >>> job.job_json()["status"]
    'PENDING'
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from llama_index_cloudkit.errors import CloudKitError
from llama_index_cloudkit.testing.fixtures import ServedFixture
from llama_index_cloudkit.testing.parse_results import TINY_PNG, NoDataError, build_parse_result
from llama_index_cloudkit.testing.v2_jobs import V2Job
from llama_index_cloudkit.testing.v2_parse_results import v1_form

__all__ = ["V2ExtractJob", "V2ParseJob"]


@dataclass
class V2ParseJob:
    """A Parse v2 job: what was sent, the document, and the computed (v1-shaped) result.

    Example:
        >>> from llama_index_cloudkit.testing.v2_jobs import V2JobScript
    >>> job = V2ParseJob(V2Job("pjb-1", V2JobScript()), {}, "fast", "2026-06-15", "proj", "a.txt", b"x")
        >>> job.id
        'pjb-1'
    """

    life: V2Job
    request: dict[str, Any]
    tier: str
    version: str
    project_id: str
    file_name: str
    data: bytes
    file_id: str | None = None
    gets: list[list[str]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    images: dict[str, bytes] = field(default_factory=dict)
    v2_fixture: ServedFixture | None = None
    v1_fixture: ServedFixture | None = None
    failure: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def id(self) -> str:
        """The job id (``pjb-...``)."""
        return self.life.id

    def job_json(self) -> dict[str, Any]:
        """The ``job`` object every answer carries."""
        status = self.life.status
        answer: dict[str, Any] = {
            "id": self.id,
            "project_id": self.project_id,
            "status": status,
            "error_message": self.failure if status == "FAILED" and self.failure else self.life.error_message,
            "created_at": self.life.created_at,
            "updated_at": self.life.updated_at,
            "name": self.file_name,
            "tier": self.tier,
        }
        if self.request.get("user_metadata") is not None:
            answer["user_metadata"] = self.request["user_metadata"]
        return answer

    def compute(self, extra_image_names: list[str]) -> None:
        """Compute the result once (the local parser, or a served fixture); failures fail the job."""
        with self.lock:
            if self.result is not None or self.failure is not None or self.v2_fixture is not None:
                return
            if self.v1_fixture is not None:
                self.result = self.v1_fixture.fresh()
                self.images = dict.fromkeys(_image_names(self.result), TINY_PNG) | self.v1_fixture.images
                return
            try:
                self.result, self.images = build_parse_result(
                    self.data, self.file_name, v1_form(self.request), extra_image_names
                )
            except NoDataError:
                self.failure = "No data found in file: the selected pages are past its end"
            except (CloudKitError, ImportError) as exc:
                self.failure = f"The document could not be parsed: {exc}"


@dataclass
class V2ExtractJob:
    """An Extract v2 job: what was sent, its configuration, and the result it reports.

    Example:
        >>> from llama_index_cloudkit.testing.v2_jobs import V2JobScript
        >>> job = V2ExtractJob(V2Job("exj-1", V2JobScript()), {}, "proj", "dfl-1", {}, None)
        >>> job.job_json(["configuration"])["configuration"]
        {}
    """

    life: V2Job
    request: dict[str, Any]
    project_id: str
    file_input: str
    configuration: dict[str, Any]
    configuration_id: str | None
    result: Any = None
    extract_metadata: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The job id."""
        return self.life.id

    def job_json(self, expand: list[str]) -> dict[str, Any]:
        """The ExtractV2Job; ``extract_metadata``, ``usage`` and ``configuration`` only when expanded."""
        status = self.life.status
        answer: dict[str, Any] = {
            "id": self.id,
            "project_id": self.project_id,
            "file_input": self.file_input,
            "status": status,
            "created_at": self.life.created_at,
            "updated_at": self.life.updated_at,
            "error_message": self.life.error_message,
            "configuration_id": self.configuration_id,
        }
        if status == "COMPLETED":
            answer["extract_result"] = self.result
            answer["metadata"] = self.metadata
            if "extract_metadata" in expand:
                answer["extract_metadata"] = self.extract_metadata
            if "usage" in expand:
                answer["usage"] = self.usage
        if "configuration" in expand:
            answer["configuration"] = self.configuration
        return answer


def _image_names(result: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for page in result.get("pages") or []:
        for entry in page.get("images") or []:
            if isinstance(entry, dict) and entry.get("name"):
                names.append(str(entry["name"]))
    return names
