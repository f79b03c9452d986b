"""Judged questions for tuning: read them, resolve what is relevant, or generate them with an LLM.

A judged question is ``(question, relevant)``, where ``relevant`` lists what answers it, each
item one of:

- a node id (``"node-17"``),
- a document id, the ``ref_doc_id`` of the passages split from it (``"handbook.pdf"``),
- a file and page pair (``("handbook.pdf", 3)``, or ``{"file": "handbook.pdf", "page": 3}``).

Each item counts once however many passages carry it, so a document split into ten passages is
one relevant item, found at the rank of its best passage.

Example:
    >>> judged = parse_questions([("How much hay?", ["hay"]), {"question": "Refunds?",
    ...                            "relevant": [{"file": "shop.md", "page": 1}]}])
    >>> judged[1].relevant
    (('shop.md', '1'),)
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.llms import LLM
from llama_index.core.schema import BaseNode, MetadataMode

from llama_index_cloudkit.errors import ConfigError

__all__ = [
    "QUESTION_PROMPT",
    "JudgedQuestion",
    "RelevantItem",
    "generate_questions",
    "load_questions",
    "parse_questions",
    "resolve",
]

RelevantItem = str | tuple[str, str]
"""A node or document id, or a ``(file name, page)`` pair (the page as text)."""

QUESTION_PROMPT = (
    "Here is a passage from a document collection.\n"
    "---------------------\n{context}\n---------------------\n"
    "Write one question that this passage answers and that a user of the collection could ask "
    "without seeing it. Reply with the question only, on one line."
)


@dataclass(frozen=True)
class JudgedQuestion:
    """A question and the items that answer it.

    Example:
        >>> JudgedQuestion("How much hay?", ("hay",)).relevant
        ('hay',)
    """

    question: str
    relevant: tuple[RelevantItem, ...]


def _item(raw: Any) -> RelevantItem:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, Mapping) and "file" in raw and "page" in raw:
        return (str(raw["file"]), str(raw["page"]))
    if isinstance(raw, Sequence) and len(raw) == 2 and isinstance(raw[0], str):
        return (raw[0], str(raw[1]))
    raise ConfigError(
        f"Cannot read the relevant item {raw!r}",
        hint='Give a node or document id ("doc-1"), or a file and page: ["guide.pdf", 3] '
        'or {"file": "guide.pdf", "page": 3}',
    )


def _one(raw: Any) -> JudgedQuestion:
    if isinstance(raw, JudgedQuestion):
        return raw
    if isinstance(raw, Mapping):
        question, relevant = raw.get("question"), raw.get("relevant")
    elif isinstance(raw, Sequence) and not isinstance(raw, str) and len(raw) == 2:
        question, relevant = raw
    else:
        raise ConfigError(
            f"Cannot read the judged question {raw!r}",
            hint='Give (question, [relevant, ...]) pairs or {"question": ..., "relevant": [...]}',
        )
    if not isinstance(question, str) or not question.strip():
        raise ConfigError(f"A judged question has no question text: {raw!r}")
    if isinstance(relevant, (str, Mapping)) or (
        isinstance(relevant, Sequence) and len(relevant) == 2 and isinstance(relevant[1], int)
    ):
        relevant = [relevant]  # one item given alone
    if not isinstance(relevant, Iterable) or not (items := tuple(_item(r) for r in relevant)):
        raise ConfigError(
            f"The question {question!r} lists nothing relevant",
            hint="Name at least one node id, document id or file and page that answers it",
        )
    return JudgedQuestion(question.strip(), items)


def parse_questions(questions: Iterable[Any] | Mapping[str, Any]) -> list[JudgedQuestion]:
    """Judged questions from pairs, dicts, or a ``{question: relevant}`` mapping.

    Raises:
        ConfigError: an entry without question text or without relevant items.

    Example:
        >>> parse_questions({"How much hay?": "hay"})[0]
        JudgedQuestion(question='How much hay?', relevant=('hay',))
    """
    if isinstance(questions, Mapping):
        return [_one((question, relevant)) for question, relevant in questions.items()]
    return [_one(raw) for raw in questions]


def load_questions(path: str | Path) -> list[JudgedQuestion]:
    """Read judged questions from JSON Lines (one ``{"question", "relevant"}`` per line) or JSON.

    Raises:
        ConfigError: a missing file or a line that is not valid JSON (its number is given).

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "questions.jsonl"
        >>> _ = path.write_text('{"question": "How much hay?", "relevant": ["hay"]}\\n')
        >>> load_questions(path)[0].question
        'How much hay?'
    """
    source = Path(path)
    if not source.is_file():
        raise ConfigError(f"No questions file at {source}")
    text = source.read_text(encoding="utf-8")
    if source.suffix == ".json":
        return parse_questions(json.loads(text))
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{source}, line {number} is not JSON: {exc.msg}",
                hint='Write one {"question": "...", "relevant": ["node or doc id"]} per line',
            ) from exc
    return parse_questions(rows)


def _keys(node: BaseNode) -> set[RelevantItem]:
    keys: set[RelevantItem] = {node.node_id}
    if node.ref_doc_id:
        keys.add(node.ref_doc_id)
    metadata = node.metadata
    page = metadata.get("page_number", metadata.get("page_label"))
    if page is not None:
        for name in (metadata.get("file_name"), metadata.get("file_path")):
            if name:
                keys.add((str(name), str(page)))
                keys.add((Path(str(name)).name, str(page)))
    return keys


def resolve(questions: Sequence[JudgedQuestion], nodes: Sequence[BaseNode]) -> list[list[set[str]]]:
    """For each question, for each relevant item, the ids of the passages that carry it.

    Items that match no passage are left out; a question with none left gets an empty list.

    Example:
        >>> from llama_index.core.schema import TextNode
        >>> passages = [TextNode(text="Llamas eat hay.", id_="p1",
        ...                      metadata={"file_name": "care.pdf", "page_number": 2})]
        >>> resolve([JudgedQuestion("How much hay?", (("care.pdf", "2"), "nowhere"))], passages)
        [[{'p1'}]]
    """
    carriers: dict[RelevantItem, set[str]] = {}
    for node in nodes:
        for key in _keys(node):
            carriers.setdefault(key, set()).add(node.node_id)
    return [[carriers[item] for item in q.relevant if item in carriers] for q in questions]


def generate_questions(
    nodes: Sequence[BaseNode], llm: LLM, *, num_questions: int = 20, seed: int = 0
) -> list[JudgedQuestion]:
    """Ask ``llm`` for one question per sampled passage; that passage is its relevant item.

    Example:
        >>> from llama_index.core.llms import MockLLM
        >>> from llama_index.core.schema import TextNode
        >>> judged = generate_questions([TextNode(text="Llamas eat hay.", id_="hay")], MockLLM())
        >>> judged[0].relevant
        ('hay',)
    """
    usable = [n for n in nodes if n.get_content().strip()]
    if not usable:
        raise ConfigError("The index has no passage with text to ask questions about")
    sample = random.Random(seed).sample(usable, min(num_questions, len(usable)))
    judged = []
    for node in sample:
        context = node.get_content(metadata_mode=MetadataMode.LLM)[:4000]
        reply = llm.complete(QUESTION_PROMPT.format(context=context)).text
        lines = [line.strip().lstrip("0123456789.-) ").strip() for line in reply.splitlines()]
        question = next((line for line in lines if line), "")
        if question:
            judged.append(JudgedQuestion(question, (node.node_id,)))
    if not judged:
        raise ConfigError("The LLM returned no question", hint="Check the LLM, or pass your own questions")
    return judged
