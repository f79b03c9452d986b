"""Which LlamaCloud index a call is about: frozen references, and errors that name the index.

A reference is all a retriever needs to know about an index: :class:`LlamaCloudIndexRef` (an
Index v1 pipeline) or :class:`LlamaCloudV2IndexRef` (an Index v2 index). Neither holds a client
or a key, so both can be kept, pickled and shared across threads and event loops.
:func:`index_ref_of` reads a pipeline reference from an SDK ``LlamaCloudIndex`` without any SDK
call; :func:`about_index` makes every typed error raised inside it name the index;
:func:`object_id` and :func:`json_objects` check the shape of an answer before it is trusted;
:func:`aresolve_project_id` finds the project of a v1 call (``GET /api/v1/projects``, X1), which
both v1 retrieval and v1 ingestion start from.

Example:
    >>> ref = LlamaCloudIndexRef("handbook", "pipe-1", "proj-1")
    >>> ref.id, is_llamacloud_index(ref), is_llamacloud_index("handbook")
    ('pipe-1', True, False)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import CloudKitError, ConfigError, ServiceError

__all__ = [
    "IndexRef",
    "LlamaCloudIndexRef",
    "LlamaCloudV2IndexRef",
    "about_index",
    "aresolve_project_id",
    "index_ref_of",
    "is_llamacloud_index",
    "json_objects",
    "object_id",
]


@dataclass(frozen=True)
class LlamaCloudIndexRef:
    """A LlamaCloud index (pipeline) by name and ids: no client, no key, safe to keep.

    Args:
        name: the index name shown in LlamaCloud.
        pipeline_id: the pipeline id (LlamaCloud's index id).
        project_id: the project the pipeline belongs to.
        status: how its last ingestion through this package ended (``SUCCESS`` or
            ``PARTIAL_SUCCESS``); ``UNKNOWN`` for a reference made from a name or an SDK object.
        failed_documents: ids of documents whose ingestion failed (with ``partial_ok=True``).

    Example:
        >>> ref = LlamaCloudIndexRef("handbook", "pipe-1", "proj-1")
        >>> ref.name, ref.id, ref.failed_documents
        ('handbook', 'pipe-1', ())
    """

    name: str
    pipeline_id: str
    project_id: str
    status: str = "UNKNOWN"
    failed_documents: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """The pipeline id, like ``LlamaCloudIndex.id``."""
        return self.pipeline_id

    def __str__(self) -> str:
        return f"LlamaCloud index {self.name!r} (pipeline {self.pipeline_id})"


@dataclass(frozen=True)
class LlamaCloudV2IndexRef:
    """An Index v2 index by name and id: no client, no key, safe to keep.

    Example:
        >>> ref = LlamaCloudV2IndexRef("handbook", "idx-1", "proj-1")
        >>> ref.id, str(ref)
        ('idx-1', "LlamaCloud index 'handbook' (index idx-1)")
    """

    name: str
    index_id: str
    project_id: str | None = None

    @property
    def id(self) -> str:
        """The index id."""
        return self.index_id

    def __str__(self) -> str:
        return f"LlamaCloud index {self.name!r} (index {self.index_id})"


IndexRef = LlamaCloudIndexRef | LlamaCloudV2IndexRef
"""A reference to a LlamaCloud index of either API generation."""


def is_llamacloud_index(obj: Any) -> bool:
    """Whether ``obj`` is a LlamaCloud index: a reference of either generation, or an SDK
    ``LlamaCloudIndex`` (recognised without importing the SDK).

    Example:
        >>> is_llamacloud_index(LlamaCloudV2IndexRef("handbook", "idx-1"))
        True
        >>> is_llamacloud_index(object())
        False
    """
    if isinstance(obj, (LlamaCloudIndexRef, LlamaCloudV2IndexRef)):
        return True
    return any(cls.__name__ == "LlamaCloudIndex" for cls in type(obj).__mro__)


def _sdk_id(value: Any) -> str | None:
    found = getattr(value, "id", None)
    return found if isinstance(found, str) and found else None


def index_ref_of(index: Any) -> LlamaCloudIndexRef:
    """The reference of an SDK ``LlamaCloudIndex``, read from its attributes (no SDK call).

    The SDK resolved the pipeline and project when the object was built; their ids are kept
    on ``index.pipeline`` and ``index.project``.

    Raises:
        ConfigError: the object carries no pipeline or project id.

    Example:
        >>> index_ref_of(LlamaCloudIndexRef("handbook", "pipe-1", "proj-1")).pipeline_id
        'pipe-1'
    """
    if isinstance(index, LlamaCloudIndexRef):
        return index
    pipeline_id = _sdk_id(getattr(index, "pipeline", None))
    project_id = _sdk_id(getattr(index, "project", None))
    if pipeline_id is None or project_id is None:
        raise ConfigError(
            f"This {type(index).__name__} has no pipeline or project id",
            hint="Pass the index name, or a LlamaCloudIndex built by the LlamaCloud SDK",
        )
    name = getattr(index, "name", None)
    return LlamaCloudIndexRef(
        name if isinstance(name, str) and name else pipeline_id, pipeline_id, project_id
    )


def _render(exc: CloudKitError) -> None:
    exc.args = (exc._render(),)


@contextlib.contextmanager
def about_index(name: str, pipeline_id: str | None = None) -> Iterator[None]:
    """Make every typed error raised inside the block name the index (and its pipeline).

    Example:
        >>> with about_index("handbook", "pipe-1"):
        ...     raise ServiceError("POST /retrieve failed")
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ServiceError: LlamaCloud index 'handbook' (pipeline pipe-1): ...
    """
    try:
        yield
    except CloudKitError as exc:
        if repr(name) not in exc.message:
            where = f"LlamaCloud index {name!r}" + (f" (pipeline {pipeline_id})" if pipeline_id else "")
            exc.message = f"{where}: {exc.message}"
            _render(exc)
        raise


def object_id(body: Any, what: str) -> str:
    """The non-empty ``id`` of a JSON object the service answered, or a ServiceError.

    Example:
        >>> object_id({"id": "pipe-1"}, "creating the pipeline")
        'pipe-1'
    """
    value = body.get("id") if isinstance(body, Mapping) else None
    if not isinstance(value, str) or not value:
        raise ServiceError(
            f"{what} got a malformed answer: no 'id' in {str(body)[:120]!r}",
            hint="LlamaCloud answered an unexpected shape; try again later",
        )
    return value


def json_objects(items: list[Any], what: str) -> list[Mapping[str, Any]]:
    """``items`` if every one is a JSON object, else a ServiceError (a malformed answer).

    Example:
        >>> json_objects([{"id": "p"}], "listing")
        [{'id': 'p'}]
    """
    if not all(isinstance(item, Mapping) for item in items):
        raise ServiceError(
            f"{what} got a malformed answer: a list of {type(items[0]).__name__ if items else '?'} "
            "where a list of objects was expected",
            hint="LlamaCloud answered an unexpected shape; try again later",
        )
    return items


async def aresolve_project_id(session: CloudSession) -> str:
    """``settings.project_id``, or the id of the project named ``settings.project_name`` (X1).

    Raises:
        ConfigError: no project, or several, of that name.

    Example:
        >>> import asyncio
        >>> from llama_index_cloudkit.settings import CloudKitSettings
        >>> async def project() -> str:
        ...     settings = CloudKitSettings(api_key="llx-example", project_id="proj-1")
        ...     async with CloudSession(settings) as session:
        ...         return await aresolve_project_id(session)
        >>> asyncio.run(project())
        'proj-1'
    """
    settings = session.settings
    if settings.project_id:
        return settings.project_id
    params = {"organization_id": settings.organization_id} if settings.organization_id else {}
    params["project_name"] = settings.project_name
    what = f"looking up the LlamaCloud project {settings.project_name!r}"
    projects = json_objects(
        await session.json_list("GET", "/api/v1/projects", what=what, params=params), what
    )
    if not projects:
        raise ConfigError(
            f"No LlamaCloud project is named {settings.project_name!r}",
            hint="Set LLAMA_CLOUD_PROJECT_NAME or project_name=... to an existing project, or project_id=...",
        )
    if len(projects) > 1:
        raise ConfigError(
            f"{len(projects)} LlamaCloud projects are named {settings.project_name!r}",
            hint="Pass project_id=... (or LLAMA_CLOUD_PROJECT_ID) to pick one",
        )
    return object_id(projects[0], what)
