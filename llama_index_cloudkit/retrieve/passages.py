"""The offline answer: the top passages with file and page citations, when no LLM is configured.

Example:
    >>> format_citation({"file_name": "guide.pdf", "page_number": 2})
    'guide.pdf, page 2'
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.prompts.mixin import PromptDictType, PromptMixinType
from llama_index.core.schema import NodeWithScore, QueryBundle

__all__ = ["NO_LLM_NOTE", "PassagesQueryEngine", "format_citation"]

NO_LLM_NOTE = (
    "No LLM is configured (pass llm=..., set Settings.llm, or set OPENAI_API_KEY), "
    "so here are the most relevant passages:"
)


def format_citation(metadata: dict[str, Any]) -> str:
    """``file, page N`` from a node's metadata.

    Example:
        >>> format_citation({"file_name": "guide.pdf", "page_number": 2})
        'guide.pdf, page 2'
    """
    page = metadata.get("page_label") or metadata.get("page_number")
    name = metadata.get("file_name") or metadata.get("file_path") or "unknown source"
    return f"{name}, page {page}" if page is not None else str(name)


class PassagesQueryEngine(BaseQueryEngine):
    """The offline query engine: the top passages with file and page citations, no LLM.

    Example:
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
        >>> passage = TextNode(text="Llamas eat hay.", metadata={"file_name": "care.pdf", "page_number": 2})
        >>> engine = PassagesQueryEngine(LocalHybridIndex([passage]).as_retriever("fast"))
        >>> str(engine.query("What do llamas eat?")).splitlines()[1]
        '[1] (care.pdf, page 2) Llamas eat hay.'
    """

    def __init__(self, retriever: BaseRetriever) -> None:
        self.retriever = retriever
        super().__init__(callback_manager=CallbackManager([]))

    def _get_prompts(self) -> PromptDictType:
        return {}

    def _update_prompts(self, prompts_dict: PromptDictType) -> None:
        """No prompts: this engine never calls an LLM."""

    def _get_prompt_modules(self) -> PromptMixinType:
        return {}

    @staticmethod
    def _answer(nodes: list[NodeWithScore]) -> Response:
        lines = [NO_LLM_NOTE]
        for rank, hit in enumerate(nodes, start=1):
            text = " ".join(hit.node.get_content().split())
            lines.append(f"[{rank}] ({format_citation(hit.node.metadata)}) {text}")
        if not nodes:
            lines.append("(no passage matched)")
        return Response(
            response="\n".join(lines),
            source_nodes=nodes,
            metadata={"llm": None, "citations": [format_citation(n.node.metadata) for n in nodes]},
        )

    def _query(self, query_bundle: QueryBundle) -> Response:
        return self._answer(self.retriever.retrieve(query_bundle))

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return self._answer(await self.retriever.aretrieve(query_bundle))
