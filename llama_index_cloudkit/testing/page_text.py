"""A page's ``text`` and ``md`` as LlamaParse gives them: layout text versus reflowed markdown.

On the service the two differ on ordinary prose too. ``text`` keeps the page's line breaks
(the layout), and holds no markdown syntax. ``md`` joins the lines of a paragraph into one
line (a hyphen at a line end joins without a space), and separates paragraphs and headings
with blank lines.

Example:
    >>> block = "Care Guide\\nLlamas are social herd animals: never keep a single llama alone, keep\\ntwo."
    >>> print(markdown_block(block))
    Care Guide
    <BLANKLINE>
    Llamas are social herd animals: never keep a single llama alone, keep two.
    >>> print(text_block("# Care Guide\\n\\nLlamas **eat** hay, see [the guide](g.pdf)."))
    Care Guide
    <BLANKLINE>
    Llamas eat hay, see the guide.
"""

from __future__ import annotations

import re

__all__ = ["markdown_block", "text_block"]

_END = re.compile(r"[.!?:;)\"'\u201d]$")
_STRUCTURED = re.compile(r"^(#{1,6}\s|[-*+]\s|\d+[.)]\s|\||>|```|<)")
_KEEP_LINES = re.compile(r"^([-*+]\s|\d+[.)]\s|```|\|)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)


def _paragraphs(lines: list[str]) -> list[list[str]]:
    """Group layout lines into paragraphs: a short line ends one, as does a short title line."""
    width = max((len(line) for line in lines), default=0)
    groups: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if _STRUCTURED.match(line):  # markdown structure already: one line, one unit
            if current:
                groups.append(current)
                current = []
            groups.append([line])
            continue
        current.append(line)
        short = len(line) < 0.8 * width
        if short and (_END.search(line) or len(current) == 1):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _join(lines: list[str]) -> str:
    joined = ""
    for line in lines:
        if joined.endswith("-") and line[:1].islower():
            joined = joined[:-1] + line
        else:
            joined = f"{joined} {line}" if joined else line
    return joined


def markdown_block(block: str) -> str:
    """A text block as LlamaParse's markdown: paragraphs reflowed onto one line each.

    Example:
        >>> markdown_block("A line long enough to wrap at the right\\nmargin of the page.\\nNext.")
        'A line long enough to wrap at the right margin of the page.\\n\\nNext.'
    """
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", block.strip()):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        if lines and (_KEEP_LINES.match(lines[0]) or any(line.startswith("|") for line in lines)):
            out.append("\n".join(lines))  # lists, tables and code keep their lines
            continue
        out.extend(_join(group) for group in _paragraphs(lines))
    return "\n\n".join(p for p in out if p)


def text_block(block: str) -> str:
    """A block as LlamaParse's plain text: the layout's line breaks, no markdown syntax.

    Example:
        >>> text_block("## Feeding\\nHay, **not** grain.")
        'Feeding\\nHay, not grain.'
    """
    text = _HEADING.sub("", block.strip())
    text = _LINK.sub(r"\1", text)
    previous = None
    while previous != text:
        previous, text = text, _EMPHASIS.sub(r"\2", text)
    return text
