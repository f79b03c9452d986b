"""The BM25 leg of the Qdrant index: term frequencies as sparse vectors, scored with Qdrant's IDF.

Qdrant stores, per passage, one value per term; a query sends one value per term; with
``modifier=IDF`` on the sparse vector Qdrant multiplies each query term by its inverse document
frequency over the live collection. BM25 (the Lucene variant bm25s uses in LocalHybridIndex) is

    score(q, d) = sum over terms t of q:  idf(t) * tf(t, d) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))

with ``idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))``, the very formula Qdrant applies. So:

- the **query** vector holds how often each term occurs in the query (bm25s counts a repeated
  query term again; so does this);
- the **document** vector holds the saturated, length-normalized term frequency above. Its
  ``avgdl`` is fixed when the collection is created (the mean passage length of the first
  batch, stored in the collection's metadata) and reused for every later insert, so earlier
  passages never need rewriting; IDF, which moves as the collection grows or shrinks, is left
  to Qdrant, which computes it from the collection's statistics at query time.

Tokens are those of LocalHybridIndex exactly (bm25s tokenizer: lowercase words of two or more
characters, English stopwords, PyStemmer stems). A token becomes a sparse index by CRC-32 of its
UTF-8 bytes; two terms sharing an index (about one pair in a 100k-term vocabulary) add up.

Example:
    >>> indices, values = BM25SparseEncoder().query("llamas eat hay")
    >>> values
    [1.0, 1.0, 1.0]
"""

from __future__ import annotations

import functools
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

from llama_index_cloudkit._imports import require

__all__ = ["BM25SparseEncoder", "SparseVectorData", "term_index"]

SparseVectorData = tuple[list[int], list[float]]


@functools.lru_cache(maxsize=1 << 18)
def term_index(token: str) -> int:
    """The sparse index of a token: CRC-32 of its UTF-8 bytes (an unsigned 32-bit integer).

    Example:
        >>> term_index("llama")
        1222885593
    """
    return zlib.crc32(token.encode("utf-8"))


@functools.lru_cache(maxsize=8)
def _stemmer(language: str) -> Any:
    return require("Stemmer", "local", package="PyStemmer").Stemmer(language)


class BM25SparseEncoder:
    """Turns passages and queries into BM25 sparse vectors for a Qdrant collection with IDF.

    Args:
        k1: BM25 term saturation (LocalHybridIndex's default 1.5).
        b: BM25 length normalization (default 0.75).
        language: stemmer and stopword language.
        avgdl: the mean passage length in tokens, fixed for the collection; None until known.

    Example:
        >>> encoder = BM25SparseEncoder(avgdl=3.0)
        >>> indices, values = encoder.document_vector(encoder.tokenize(["Llamas eat hay."])[0])
        >>> len(indices), round(values[0], 3)
        (3, 0.4)
    """

    def __init__(
        self, *, k1: float = 1.5, b: float = 0.75, language: str = "english", avgdl: float | None = None
    ) -> None:
        self.k1, self.b, self.language, self.avgdl = k1, b, language, avgdl

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Tokens as LocalHybridIndex makes them (bm25s, stopwords, PyStemmer)."""
        if not texts:
            return []
        bm25s = require("bm25s", "local")
        stopwords = "en" if self.language == "english" else self.language
        tokens: list[list[str]] = bm25s.tokenize(
            list(texts),
            stopwords=stopwords,
            stemmer=_stemmer(self.language),
            show_progress=False,
            return_ids=False,
        )
        return [list(t) for t in tokens]

    @staticmethod
    def mean_length(tokens: Sequence[Sequence[str]]) -> float:
        """The mean token count of passages (1.0 for none or only empty ones, to stay usable).

        Example:
            >>> BM25SparseEncoder.mean_length([["a", "b"], ["c"]])
            1.5
        """
        total = sum(len(t) for t in tokens)
        return total / len(tokens) if total else 1.0

    def document_vector(self, tokens: Sequence[str]) -> SparseVectorData:
        """BM25's document side: ``tf / (tf + k1 * (1 - b + b * |d| / avgdl))`` per term.

        Example:
            >>> BM25SparseEncoder(k1=1.5, b=0.0, avgdl=2.0).document_vector(["hay", "hay"])[1]
            [0.5714285714285714]
        """
        if self.avgdl is None:
            raise ValueError("avgdl is not set: build the collection's first batch first")
        norm = self.k1 * (1 - self.b + self.b * len(tokens) / self.avgdl)
        weights: dict[int, float] = {}
        for token, tf in Counter(tokens).items():
            index = term_index(token)
            weights[index] = weights.get(index, 0.0) + tf / (tf + norm)
        return _sorted(weights)

    def query(self, text: str) -> SparseVectorData:
        """BM25's query side: how often each term occurs in the query (Qdrant adds the IDF)."""
        weights: dict[int, float] = {}
        for token in self.tokenize([text])[0] if text.strip() else []:
            index = term_index(token)
            weights[index] = weights.get(index, 0.0) + 1.0
        return _sorted(weights)


def _sorted(weights: dict[int, float]) -> SparseVectorData:
    indices = sorted(weights)
    return indices, [weights[i] for i in indices]
