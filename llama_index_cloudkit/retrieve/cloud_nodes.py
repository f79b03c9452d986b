"""LlamaCloud retrieval answers (X15 ``RetrieveResults``) to LlamaIndex nodes, shape-checked.

Pure functions, no HTTP: :func:`text_nodes` reads ``retrieval_nodes`` the way the SDK does
(``node.extra_info`` is the metadata, ``relationships["1"]`` the source document, the
answer's own ``metadata`` added to every node) and :func:`image_refs` reads ``image_nodes``
(page screenshots) and ``page_figure_nodes``. An answer of another shape is a
:class:`~llama_index_cloudkit.errors.ServiceError`, never a pydantic or KeyError.

Example:
    >>> answer = {"pipeline_id": "p", "retrieval_nodes": [
    ...     {"node": {"id_": "n1", "text": "llamas eat hay", "extra_info": {"file_name": "a.pdf"}},
    ...      "score": 0.8}]}
    >>> hit = text_nodes(answer)[0]
    >>> hit.node.text, hit.node.metadata["file_name"], hit.score
    ('llamas eat hay', 'a.pdf', 0.8)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.schema import ImageNode, NodeRelationship, NodeWithScore, RelatedNodeInfo, TextNode

from llama_index_cloudkit.errors import ServiceError

__all__ = ["ImageRef", "image_node", "image_refs", "text_nodes"]

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
        from urllib.parse import quote

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


def image_node(ref: ImageRef, image_b64: str | None) -> NodeWithScore:
    """An ImageNode for ``ref``, with the base64 image when it was fetched.

    Example:
        >>> image_node(ImageRef("f", 0, None, 0.5), None).node.node_id
        'f-page-0'
    """
    return NodeWithScore(
        node=ImageNode(id_=ref.node_id, image=image_b64, metadata=dict(ref.metadata)),
        score=ref.score,
    )
