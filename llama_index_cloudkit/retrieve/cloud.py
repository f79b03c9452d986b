"""The only module that imports llama_cloud_services' index and retriever.

Swapping to a newer SDK (Index v2) means rewriting this file alone.

Example:
    >>> retriever = llamacloud_retriever("my-index", HybridConfig(), CloudKitSettings())  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Sequence
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import Document

from llama_index_cloudkit._imports import require_sdk
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["is_llamacloud_index", "llamacloud_index_from_documents", "llamacloud_retriever"]

logger = logging.getLogger(__name__)


def _sdk() -> Any:
    return require_sdk()


def _connection(settings: CloudKitSettings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"api_key": settings.require_key(), "base_url": settings.base_url}
    if settings.project_id:
        kwargs["project_id"] = settings.project_id
    else:
        kwargs["project_name"] = settings.project_name
    if settings.organization_id:
        kwargs["organization_id"] = settings.organization_id
    return kwargs


def is_llamacloud_index(obj: Any) -> bool:
    """Whether ``obj`` is a LlamaCloudIndex (without importing the SDK when it is not loaded).

    Example:
        >>> is_llamacloud_index(object())
        False
    """
    return any(cls.__name__ == "LlamaCloudIndex" for cls in type(obj).__mro__)


def llamacloud_retriever(target: Any, config: HybridConfig, settings: CloudKitSettings) -> BaseRetriever:
    """A LlamaCloudRetriever with exactly ``config``'s parameters (0, 0.0 and False included).

    Args:
        target: an index name, or a LlamaCloudIndex.
        config: the retrieval settings.
        settings: key, endpoint and project.
    """
    sdk = _sdk()
    kwargs = config.to_llamacloud_kwargs()
    if is_llamacloud_index(target):
        return sdk.LlamaCloudRetriever(
            pipeline_id=target.id,
            project_id=target.project.id,
            api_key=settings.require_key(),
            base_url=settings.base_url,
            **kwargs,
        )
    return sdk.LlamaCloudRetriever(name=str(target), **_connection(settings), **kwargs)


def llamacloud_index_from_documents(
    documents: Sequence[Document], name: str, settings: CloudKitSettings
) -> Any:
    """Create or update the LlamaCloud index ``name`` with ``documents`` and wait for ingestion.

    Example:
        >>> index = llamacloud_index_from_documents(docs, "handbook", settings)  # doctest: +SKIP
    """
    sdk = _sdk()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # the SDK prints "Find your index at ..."
        index = sdk.LlamaCloudIndex.from_documents(
            list(documents), name=name, **_connection(settings), verbose=False
        )
    if printed.getvalue().strip():
        logger.info("%s", printed.getvalue().strip())
    return index
