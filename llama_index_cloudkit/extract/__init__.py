"""Structured extraction: schemas checked up front, LlamaExtract or any LLM, as agent tools.

- :mod:`.tool`: :func:`extraction_tool`, the FunctionTool with a typed result;
- :mod:`.spec`: :class:`ExtractionToolSpec`, tools to manage LlamaExtract agents and their queue;
- :mod:`.schema`: :func:`check_schema`, LlamaExtract's schema rules, before any request;
- :mod:`.model`: the neutral results and :func:`model_from_schema`;
- :mod:`.llm`: extraction with any LlamaIndex LLM (the local backend);
- :mod:`.llamacloud`: LlamaExtract as one protocol, one adapter per API generation.

Example:
    >>> from llama_index_cloudkit.extract import check_schema
    >>> schema = {"type": "object", "required": ["total"], "properties": {"total": {"type": "number"}}}
    >>> check_schema(schema)["type"]
    'object'
"""

from llama_index_cloudkit.extract.llm import extract_with_llm
from llama_index_cloudkit.extract.model import ExtractResult, SavedExtraction, model_from_schema
from llama_index_cloudkit.extract.schema import check_schema
from llama_index_cloudkit.extract.spec import ExtractionToolSpec
from llama_index_cloudkit.extract.tool import ExtractionOutput, ExtractionTool, extraction_tool

__all__ = [
    "ExtractResult",
    "ExtractionOutput",
    "ExtractionTool",
    "ExtractionToolSpec",
    "SavedExtraction",
    "check_schema",
    "extract_with_llm",
    "extraction_tool",
    "model_from_schema",
]
