"""Index v1 (pipelines): the LlamaCloud index adapter of the seed's API generation.

Only this module knows the v1 retrieval routes and bodies (reference/llamacloud-api.md, section
2.4): an index name becomes a pipeline (``GET /api/v1/pipelines``, X4, in the project of X1), one
``POST /api/v1/pipelines/{id}/retrieve`` (X15) runs per query, page screenshots (F3) and figures
(F4) are fetched when asked, and the answer becomes scored nodes. Documents go in through
:mod:`.ingestion_v1`.

| HybridConfig | X15 body |
|---|---|
| ``dense_similarity_top_k``, ``sparse_similarity_top_k``, ``alpha``, ``enable_reranking`` | the same names |
| final count (``rerank_top_n`` on, ``top_k`` off) | ``rerank_top_n`` |
| ``retrieval_mode``, ``files_top_k`` | the same names |
| ``filters`` | ``search_filters`` (MetadataFilters as JSON, nesting kept) |

0, 0.0 and False are sent as given. v1 has no final count of its own: with reranking on the
service returns ``rerank_top_n`` results; with it off it returns the fused candidates, and the
adapter keeps the first ``top_k``. Answers are shape-checked: ``retrieval_nodes`` are read the way
the SDK reads them (``node.extra_info`` is the metadata, the answer's own ``metadata`` is added to
every node), ``image_nodes`` and ``page_figure_nodes`` become ImageNodes; an answer of another
shape is a ServiceError, never a pydantic or KeyError.

Example:
    >>> body = retrieve_body("hay", HybridConfig(alpha=0.0, enable_reranking=False, top_k=4))
    >>> body["query"], body["alpha"], body["enable_reranking"], body["rerank_top_n"]
    ('hay', 0.0, False, 4)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from llama_index.core.schema import (
    Document,
    ImageNode,
    NodeRelationship,
    NodeWithScore,
    RelatedNodeInfo,
    TextNode,
)

from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import ConfigError, ServiceError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.llamacloud.ingestion_v1 import aingest_documents
from llama_index_cloudkit.retrieve.llamacloud.refs import (
    LlamaCloudIndexRef,
    about_index,
    aresolve_project_id,
    index_ref_of,
    is_llamacloud_index,
    json_objects,
    object_id,
)

__all__ = ["ImageRef", "IndexV1", "image_refs", "retrieve_body", "text_nodes"]


def retrieve_body(
    query: str,
    config: HybridConfig,
    *,
    screenshots: bool = False,
    figures: bool = False,
) -> dict[str, Any]:
    """The X15 request body: exactly ``config``'s parameters, filters as JSON.

    Example:
        >>> body = retrieve_body("hay", HybridConfig(alpha=1.0, sparse_similarity_top_k=0))
        >>> body["sparse_similarity_top_k"], body["rerank_top_n"], body["retrieval_mode"]
        (0, 6, 'chunks')
    """
    body: dict[str, Any] = {
        "query": query,
        "dense_similarity_top_k": config.dense_similarity_top_k,
        "sparse_similarity_top_k": config.sparse_similarity_top_k,
        "alpha": config.alpha,
        "enable_reranking": config.enable_reranking,
        "rerank_top_n": config.final_top_k,
        "retrieval_mode": config.retrieval_mode,
    }
    if config.files_top_k is not None:
        body["files_top_k"] = config.files_top_k
    if config.filters is not None:
        body["search_filters"] = config.filters.model_dump(mode="json")
    if screenshots:
        body["retrieve_page_screenshot_nodes"] = True
    if figures:
        body["retrieve_page_figure_nodes"] = True
    return body


# --- answers to nodes ---------------------------------------------------------------------------

_HINT = "LlamaCloud answered an unexpected shape; try again later, or report it with the query"


def _malformed(what: str) -> ServiceError:
    return ServiceError(f"The retrieval answer has {what}", hint=_HINT)


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _malformed(f"{what} that is a {type(value).__name__}, not an object")
    return value


def _items(answer: Mapping[str, Any], key: str) -> list[Any]:
    value = answer.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _malformed(f"'{key}' that is a {type(value).__name__}, not a list")
    return value


def _score(raw: Mapping[str, Any], what: str) -> float | None:
    score = raw.get("score")
    if score is None:
        return None
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        raise _malformed(f"a {what} score of {score!r}")
    return float(score)


def _answer_metadata(answer: Mapping[str, Any]) -> dict[str, Any]:
    extra = answer.get("metadata")
    return dict(extra) if isinstance(extra, Mapping) else {}


def _relationships(raw: Any) -> dict[NodeRelationship, Any]:
    if not isinstance(raw, Mapping):
        return {}
    related: dict[NodeRelationship, Any] = {}
    for key, value in raw.items():
        try:
            kind = NodeRelationship(str(key))
        except ValueError:
            continue
        infos = value if isinstance(value, list) else [value]
        parsed = [
            RelatedNodeInfo(node_id=info["node_id"])
            for info in infos
            if isinstance(info, Mapping) and isinstance(info.get("node_id"), str)
        ]
        if parsed:
            related[kind] = parsed if kind is NodeRelationship.CHILD else parsed[0]
    return related


def _char_index(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text_node(raw: Any, extra: Mapping[str, Any]) -> NodeWithScore:
    item = _mapping(raw, "a retrieval node")
    node = _mapping(item.get("node"), "a retrieval node's 'node'")
    text = node.get("text")
    if not isinstance(text, str):
        raise _malformed(f"a retrieval node whose text is {type(text).__name__}")
    metadata = node.get("extra_info", node.get("metadata"))
    metadata = dict(_mapping(metadata or {}, "a retrieval node's metadata ('extra_info')"))
    node_id = node.get("id_") or node.get("id")
    if not isinstance(node_id, str) or not node_id:
        node_id = "llamacloud-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    text_node = TextNode(
        id_=node_id,
        text=text,
        metadata={**extra, **metadata},
        relationships=_relationships(node.get("relationships")),
        start_char_idx=_char_index(node.get("start_char_idx")),
        end_char_idx=_char_index(node.get("end_char_idx")),
    )
    return NodeWithScore(node=text_node, score=_score(item, "retrieval node"))


def text_nodes(answer: Mapping[str, Any]) -> list[NodeWithScore]:
    """The text passages of a retrieval answer, in the service's order.

    Raises:
        ServiceError: the answer is not of the RetrieveResults shape.

    Example:
        >>> text_nodes({"retrieval_nodes": []})
        []
    """
    extra = _answer_metadata(answer)
    return [_text_node(raw, extra) for raw in _items(answer, "retrieval_nodes")]


@dataclass(frozen=True)
class ImageRef:
    """A page screenshot or page figure the service returned, before its bytes are fetched.

    Example:
        >>> ImageRef("file-1", 0, None, 0.5).path
        '/api/v1/files/file-1/page_screenshots/0'
    """

    file_id: str
    page_index: int
    figure_name: str | None
    score: float | None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """F3 (screenshot) or F4 (figure) path of the bytes."""
        file_id = quote(self.file_id, safe="")
        if self.figure_name is None:
            return f"/api/v1/files/{file_id}/page_screenshots/{self.page_index}"
        return f"/api/v1/files/{file_id}/page-figures/{self.page_index}/{quote(self.figure_name, safe='')}"

    @property
    def node_id(self) -> str:
        """A stable node id: file, page and figure."""
        suffix = f"-figure-{self.figure_name}" if self.figure_name is not None else ""
        return f"{self.file_id}-page-{self.page_index}{suffix}"


def _image_ref(raw: Any, extra: Mapping[str, Any], *, figure: bool) -> ImageRef:
    kind = "page figure node" if figure else "image node"
    item = _mapping(raw, f"a {kind}")
    node = _mapping(item.get("node"), f"a {kind}'s 'node'")
    file_id, page_index = node.get("file_id"), node.get("page_index")
    if not isinstance(file_id, str) or not file_id:
        raise _malformed(f"a {kind} without a file_id")
    if isinstance(page_index, bool) or not isinstance(page_index, int):
        raise _malformed(f"a {kind} whose page_index is {page_index!r}")
    figure_name = node.get("figure_name") if figure else None
    if figure and (not isinstance(figure_name, str) or not figure_name):
        raise _malformed(f"a {kind} without a figure_name")
    own = node.get("metadata")
    metadata: dict[str, Any] = {
        **(dict(own) if isinstance(own, Mapping) else {}),
        **extra,
        "file_id": file_id,
        "page_index": page_index,
    }
    if figure_name is not None:
        metadata["figure_name"] = figure_name
    return ImageRef(file_id, page_index, figure_name, _score(item, kind), metadata)


def image_refs(answer: Mapping[str, Any]) -> list[ImageRef]:
    """Page screenshots (``image_nodes``) then page figures (``page_figure_nodes``).

    Example:
        >>> answer = {"image_nodes": [{"node": {"file_id": "f", "page_index": 2}, "score": 1.0}]}
        >>> [ref.node_id for ref in image_refs(answer)]
        ['f-page-2']
    """
    extra = _answer_metadata(answer)
    screenshots = [_image_ref(raw, extra, figure=False) for raw in _items(answer, "image_nodes")]
    figures = [_image_ref(raw, extra, figure=True) for raw in _items(answer, "page_figure_nodes")]
    return screenshots + figures


def _image_node(ref: ImageRef, image_b64: str | None) -> NodeWithScore:
    return NodeWithScore(
        node=ImageNode(id_=ref.node_id, image=image_b64, metadata=dict(ref.metadata)),
        score=ref.score,
    )


# --- the adapter --------------------------------------------------------------------------------


async def _aresolve_pipeline(session: CloudSession, name: str) -> LlamaCloudIndexRef:
    """The pipeline named ``name`` in the settings' project (X1 unless project_id is set, X4)."""
    with about_index(name):
        project_id = await aresolve_project_id(session)
        what = f"looking up LlamaCloud index {name!r}"
        params = {"project_id": project_id, "pipeline_name": name, "pipeline_type": "MANAGED"}
        found = json_objects(
            await session.json_list("GET", "/api/v1/pipelines", what=what, params=params), what
        )
        # The service filters by name; a stale or lenient answer must not pick another index.
        found = [p for p in found if p.get("name") in (None, name)]
        if not found:
            raise ConfigError(
                f"Unknown LlamaCloud index {name!r} in project {project_id}",
                hint="Check the name (cloudkit index ... --backend cloud creates one) and the "
                "project (LLAMA_CLOUD_PROJECT_NAME / LLAMA_CLOUD_PROJECT_ID)",
            )
        if len(found) > 1:
            raise ConfigError(
                f"{len(found)} LlamaCloud indexes are named {name!r} in project {project_id}",
                hint="Pass a LlamaCloudIndexRef with the pipeline id to pick one",
            )
        pipeline_id = object_id(found[0], what)
        owner = found[0].get("project_id")
        return LlamaCloudIndexRef(
            name, pipeline_id, owner if isinstance(owner, str) and owner else project_id
        )


class IndexV1:
    """The Index v1 adapter: pipelines by name, X15 retrieval, ingestion; answers as nodes.

    Args:
        screenshots: ask for page screenshots and fetch each one (F3).
        figures: ask for page figures and fetch each one (F4).
        score_threshold: an Index v2 parameter; v1 refuses it.

    Raises:
        ConfigError: ``score_threshold`` is set.

    Example:
        >>> IndexV1(screenshots=True).screenshots
        True
    """

    def __init__(
        self, *, screenshots: bool = False, figures: bool = False, score_threshold: float | None = None
    ) -> None:
        if score_threshold is not None:
            raise ConfigError(
                "score_threshold is an Index v2 parameter",
                hint="Use the v2 API (CLOUDKIT_API_VERSION=v2), or drop it",
            )
        self.screenshots = screenshots
        self.figures = figures

    def check(self, config: HybridConfig) -> None:
        """Every HybridConfig can be sent to v1 (filters keep their nesting).

        Example:
            >>> IndexV1().check(HybridConfig())
        """

    async def resolve(self, session: CloudSession, target: Any) -> LlamaCloudIndexRef:
        """The pipeline of a name (looked up), a reference, or an SDK ``LlamaCloudIndex`` (no request).

        Raises:
            ConfigError: an unknown or ambiguous name, or a target of another type.

        Example:
            >>> ref = LlamaCloudIndexRef("handbook", "pipe-1", "proj-1")
            >>> asyncio.run(IndexV1().resolve(None, ref)) is ref
            True
        """
        if isinstance(target, str):
            return await _aresolve_pipeline(session, target)
        if is_llamacloud_index(target):
            return index_ref_of(target)
        raise ConfigError(
            f"Cannot retrieve from a {type(target).__name__} on LlamaCloud",
            hint="Pass an index name, a LlamaCloudIndexRef or a LlamaCloudIndex",
        )

    async def search(
        self, session: CloudSession, index: LlamaCloudIndexRef, query: str, config: HybridConfig
    ) -> list[NodeWithScore]:
        """One X15 retrieval: at most ``config.final_top_k`` text passages, then any image nodes.

        A search is read-only: repeating it charges and creates nothing, so the transport may
        retry it like a GET.
        """
        with about_index(index.name, index.pipeline_id):
            answer = await session.json(
                "POST",
                f"/api/v1/pipelines/{index.pipeline_id}/retrieve",
                what=f"retrieving from LlamaCloud index {index.name!r}",
                idempotent=True,  # a search: repeating it charges and creates nothing
                json=retrieve_body(query, config, screenshots=self.screenshots, figures=self.figures),
            )
            hits = text_nodes(answer)[: config.final_top_k]
            refs = image_refs(answer)
            images = await asyncio.gather(*(self._image(session, index, ref) for ref in refs))
        return hits + [_image_node(ref, image) for ref, image in zip(refs, images, strict=True)]

    async def _image(self, session: CloudSession, index: LlamaCloudIndexRef, ref: ImageRef) -> str | None:
        wanted = self.figures if ref.figure_name is not None else self.screenshots
        if not wanted:
            return None
        kind = "page figure" if ref.figure_name is not None else "page screenshot"
        data = await session.content(
            ref.path,
            what=f"fetching the {kind} of page {ref.page_index} of file {ref.file_id}",
            params={"project_id": index.project_id},
        )
        return base64.b64encode(data).decode("ascii")

    async def ingest(
        self,
        session: CloudSession,
        documents: Sequence[Document],
        name: str,
        *,
        timeout: float,
        partial_ok: bool = False,
    ) -> LlamaCloudIndexRef:
        """Create or update the pipeline ``name`` with ``documents`` (see :mod:`.ingestion_v1`)."""
        return await aingest_documents(session, documents, name, timeout=timeout, partial_ok=partial_ok)
