"""LlamaCloudHybridRetriever: retrieval from a LlamaCloud index as plain HTTP over the cloud core.

One ``POST /api/v1/pipelines/{id}/retrieve`` (X15) per query, with exactly the HybridConfig's
parameters (0, 0.0 and False included). Every call opens its own :class:`CloudSession` in the
running event loop and closes it before returning, so the retriever works from any number of
event loops and threads, sync and async: the SDK retriever kept one AsyncClient across loops.
The retrieve POST is read-only, so the transport retries it like a GET.

Page screenshots (F3) and figures (F4) are fetched only when asked
(``retrieve_page_screenshot_nodes`` / ``retrieve_page_figure_nodes``); image nodes the service
returns unasked come back as ImageNodes that carry the file and page but no bytes.

Example:
    >>> ref = LlamaCloudIndexRef("handbook", "pipe-1", "proj-1")
    >>> retriever = LlamaCloudHybridRetriever(ref, HybridConfig(top_k=3), CloudKitSettings())
    >>> retriever.retrieve("what do llamas eat")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle

from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.retrieve.cloud_index import LlamaCloudIndexRef, about_index
from llama_index_cloudkit.retrieve.cloud_nodes import ImageRef, image_node, image_refs, text_nodes
from llama_index_cloudkit.retrieve.cloud_session_retriever import CloudSessionRetriever
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["LlamaCloudHybridRetriever", "retrieve_body"]

logger = logging.getLogger(__name__)


def retrieve_body(
    query: str,
    config: HybridConfig,
    *,
    screenshots: bool = False,
    figures: bool = False,
) -> dict[str, Any]:
    """The X15 request body: the query and ``config.to_llamacloud_kwargs()``, filters as JSON.

    Example:
        >>> body = retrieve_body("hay", HybridConfig(alpha=0.0, enable_reranking=False))
        >>> body["query"], body["alpha"], body["enable_reranking"]
        ('hay', 0.0, False)
    """
    body: dict[str, Any] = {"query": query}
    for key, value in config.to_llamacloud_kwargs().items():
        if key == "filters":
            body["search_filters"] = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
        else:
            body[key] = value
    if screenshots:
        body["retrieve_page_screenshot_nodes"] = True
    if figures:
        body["retrieve_page_figure_nodes"] = True
    return body


class LlamaCloudHybridRetriever(CloudSessionRetriever):
    """A LlamaIndex retriever on a LlamaCloud index, safe across event loops and threads.

    Args:
        index: the index (see :func:`~llama_index_cloudkit.retrieve.cloud.llamacloud_retriever`
            to start from a name or an SDK index).
        config: the retrieval settings; at most ``config.final_top_k`` passages come back.
        settings: key and endpoint.
        policy: retries and timeouts of the cloud core.
        retrieve_page_screenshot_nodes: ask for page screenshots and fetch each one (F3).
        retrieve_page_figure_nodes: ask for page figures and fetch each one (F4).
        callback_manager: LlamaIndex callbacks.

    Example:
        >>> ref = LlamaCloudIndexRef("handbook", "pipe-1", "proj-1")
        >>> LlamaCloudHybridRetriever(ref, HybridConfig(), CloudKitSettings()).index.name
        'handbook'
    """

    index: LlamaCloudIndexRef

    def __init__(
        self,
        index: LlamaCloudIndexRef,
        config: HybridConfig,
        settings: CloudKitSettings,
        *,
        policy: CloudPolicy | None = None,
        retrieve_page_screenshot_nodes: bool = False,
        retrieve_page_figure_nodes: bool = False,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        self.screenshots = retrieve_page_screenshot_nodes
        self.figures = retrieve_page_figure_nodes
        super().__init__(index, config, settings, policy=policy, callback_manager=callback_manager)

    async def asearch(self, session: CloudSession, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """One retrieval on an open session: text passages, then image nodes.

        Example:
            >>> hits = await retriever.asearch(session, QueryBundle("hay"))  # doctest: +SKIP
        """
        index = self.index
        with about_index(index.name, index.pipeline_id):
            body = retrieve_body(
                query_bundle.query_str, self.config, screenshots=self.screenshots, figures=self.figures
            )
            answer = await self.post_search(session, f"/api/v1/pipelines/{index.pipeline_id}/retrieve", body)
            hits = text_nodes(answer)[: self.config.final_top_k]
            refs = image_refs(answer)
            images = await asyncio.gather(*(self._image(session, ref) for ref in refs))
        return hits + [image_node(ref, image) for ref, image in zip(refs, images, strict=True)]

    async def _image(self, session: CloudSession, ref: ImageRef) -> str | None:
        wanted = self.figures if ref.figure_name is not None else self.screenshots
        if not wanted:
            return None
        kind = "page figure" if ref.figure_name is not None else "page screenshot"
        data = await session.content(
            ref.path,
            what=f"fetching the {kind} of page {ref.page_index} of file {ref.file_id}",
            params={"project_id": self.index.project_id},
        )
        return base64.b64encode(data).decode("ascii")
