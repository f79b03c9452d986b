"""Tuning a local index's retrieval settings on the user's own judged questions.

| module | holds |
|---|---|
| :mod:`.tune` | :func:`tune_retrieval` and :class:`TuningResult` |
| :mod:`.sweep` | the sweep over (alpha, per-leg top-k) on shared candidate pools, nDCG@10 |
| :mod:`.report` | the sweep as a Markdown table and a PNG plot |
| :mod:`.questions` | judged questions: read, resolved to passages, or written by an LLM |

Example:
    >>> from llama_index_cloudkit.retrieve.tuning import parse_questions
    >>> parse_questions({"How much hay?": "hay"})[0].relevant
    ('hay',)
"""

from llama_index_cloudkit.retrieve.tuning.questions import load_questions, parse_questions
from llama_index_cloudkit.retrieve.tuning.tune import TuningResult, tune_retrieval

__all__ = ["TuningResult", "load_questions", "parse_questions", "tune_retrieval"]
