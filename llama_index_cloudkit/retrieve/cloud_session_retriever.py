"""What both LlamaCloud retrievers (v1 pipelines, Index v2) share: one session per call.

Every call opens its own :class:`~llama_index_cloudkit.cloud.session.CloudSession` in the running
event loop and closes it before returning (sync calls go through ``run_in_session``), so a
retriever works from any number of event loops and threads. A subclass says only how one
retrieval runs on an open session (:meth:`CloudSessionRetriever.asearch`).

Example:
    >>> class Echo(CloudSessionRetriever):  # doctest: +SKIP
    ...     async def asearch(self, session, query_bundle):
    ...         return []
    >>> Echo(ref, HybridConfig(), CloudKitSettings()).retrieve("hay")  # doctest: +SKIP
    []
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle

from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession, run_in_session
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["CloudSessionRetriever"]


class CloudSessionRetriever(BaseRetriever):
    """A LlamaIndex retriever on a LlamaCloud index that opens a session for each call.

    Args:
        index: the index reference (its ``str`` names it in the repr).
        config: the retrieval settings; at most ``config.final_top_k`` passages come back.
        settings: key and endpoint.
        policy: retries and timeouts of the cloud core (default ``CloudPolicy()``).
        callback_manager: LlamaIndex callbacks.

    Example:
        >>> retriever = LlamaCloudV2Retriever(ref, HybridConfig(), CloudKitSettings())  # doctest: +SKIP
        >>> repr(retriever)  # doctest: +SKIP
        "LlamaCloudV2Retriever(LlamaCloud index 'handbook' (index idx-1), final_top_k=6)"
    """

    def __init__(
        self,
        index: Any,
        config: HybridConfig,
        settings: CloudKitSettings,
        *,
        policy: CloudPolicy | None = None,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        self.index = index
        self.config = config
        self.settings = settings
        self.policy = policy or CloudPolicy()
        super().__init__(callback_manager=callback_manager)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.index}, final_top_k={self.config.final_top_k})"

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return run_in_session(self.settings, self.policy, lambda session: self.asearch(session, query_bundle))

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        async with CloudSession(self.settings, self.policy) as session:
            return await self.asearch(session, query_bundle)

    async def post_search(
        self, session: CloudSession, path: str, body: dict[str, Any], **request_options: Any
    ) -> dict[str, Any]:
        """POST one search body and return the JSON answer (``request_options``: e.g. ``params``).

        A search is read-only: repeating it charges and creates nothing, so the transport may
        retry it like a GET. Errors name the index.

        Example:
            >>> answer = await retriever.post_search(session, RETRIEVE, body)  # doctest: +SKIP
        """
        return await session.json(
            "POST",
            path,
            what=f"retrieving from LlamaCloud index {self.index.name!r}",
            idempotent=True,  # a search: repeating it charges and creates nothing
            json=body,
            **request_options,
        )

    async def asearch(self, session: CloudSession, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """One retrieval on an open session (each LlamaCloud retriever says how).

        Example:
            >>> hits = await retriever.asearch(session, QueryBundle("hay"))  # doctest: +SKIP
        """
        raise NotImplementedError
