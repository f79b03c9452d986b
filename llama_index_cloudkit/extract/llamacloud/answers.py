"""The typed shape of LlamaExtract's result answers (a v1 run, an Extract v2 job).

Each adapter checks a result against its model with
:func:`~llama_index_cloudkit.cloud.errors.checked_answer` **before** reading it: an answer whose
``data`` is neither an object nor a list, or whose metadata is not an object, is a
:class:`~llama_index_cloudkit.errors.ServiceError` naming the input and the job. The journal
keeps the job as it was (nothing is marked done), so the next call re-attaches and reads the
result again instead of paying again. Fields the package does not read are let through as
they are (``extra="allow"``).

Example:
    >>> V1Run.model_validate({"id": "run-1", "status": "SUCCESS", "data": {"a": 1}}).data
    {'a': 1}
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["V1Run", "V2Job"]


class V1Run(BaseModel):
    """An extraction run (``GET /api/v1/extraction/runs/by-job/{job_id}``).

    Example:
        >>> V1Run.model_validate({"data": [{"a": 1}], "extraction_metadata": None}).data
        [{'a': 1}]
    """

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    status: str | None = None
    error: Any = None
    data: dict[str, Any] | list[Any] | None = None
    extraction_metadata: dict[str, Any] | None = None


class V2Job(BaseModel):
    """An Extract v2 job with its result (``GET /api/v2/extract/{id}?expand=...``).

    Example:
        >>> V2Job.model_validate({"id": "ext-1", "extract_result": {"a": 1}}).extract_result
        {'a': 1}
    """

    model_config = ConfigDict(extra="allow")

    extract_result: dict[str, Any] | list[Any] | None = None
    extract_metadata: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None
