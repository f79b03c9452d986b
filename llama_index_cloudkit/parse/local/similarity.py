"""How close parsed text is to a reference: word-sequence similarity after stripping markdown.

Used by the corpus tests and ``benchmarks/local_parse.py`` to report parsing and OCR quality.

Example:
    >>> text_similarity("# Hello **world**", "hello world")
    1.0
"""

from __future__ import annotations

import difflib
import re

__all__ = ["text_similarity", "words"]


def words(markdown: str) -> list[str]:
    """The lower-cased words of ``markdown``, without tags, images and link targets.

    Example:
        >>> words("See [the docs](http://x.y) <b>now</b>")
        ['see', 'the', 'docs', 'now']
    """
    markdown = re.sub(r"<[^>]+>", " ", markdown)
    markdown = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", markdown)
    markdown = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return re.findall(r"\w+", markdown.lower())


def text_similarity(ours: str, reference: str) -> float:
    """Word-sequence similarity of two texts, from 0 (nothing shared) to 1 (same words, same order).

    Example:
        >>> round(text_similarity("a b c d", "a b x d"), 2)
        0.75
    """
    return difflib.SequenceMatcher(None, words(ours), words(reference), autojunk=False).ratio()
