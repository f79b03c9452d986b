"""BM25 over a list of passage texts (bm25s + PyStemmer): the sparse leg of every in-process search.

:class:`~llama_index_cloudkit.retrieve.local.index.LocalHybridIndex` scores with it, and so does
the BM25 leg the factory adds to a LlamaIndex ``VectorStoreIndex`` whose vector store has no sparse
search (:mod:`llama_index_cloudkit.retrieve.vector_store`): one tokenizer, one scoring, one ranking.

A passage with no BM25 term (only digits of one letter, stop words, emoji), a corpus with none at
all, or a query with none leaves the scores at zero: the dense leg answers alone.

Example:
    >>> scorer = BM25Scorer(["llamas eat hay", "stocks fell today"])
    >>> [round(float(s), 3) > 0 for s in scorer.scores("what do llamas eat")]
    [True, False]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index_cloudkit._imports import require

__all__ = ["BM25Scorer"]


class BM25Scorer:
    """BM25 scores of a query against a fixed list of texts (zeros where BM25 has nothing to say).

    Args:
        texts: the passages, in the order their scores come back.
        k1: BM25 term saturation.
        b: BM25 length normalisation.
        language: stemmer and stopword language (PyStemmer / bm25s).

    Example:
        >>> BM25Scorer(["hay", "water"]).scores("hay").tolist()[1]
        0.0
    """

    def __init__(
        self, texts: Sequence[str], *, k1: float = 1.5, b: float = 0.75, language: str = "english"
    ) -> None:
        self._np = require("numpy", "local")
        self.k1, self.b, self.language = k1, b, language
        self._count = len(texts)
        self._bm25: Any = None
        if not texts:
            return
        tokens = self._tokenize(list(texts))
        if not any(tokens):  # no passage has a BM25 term: the sparse leg stays silent
            return
        bm25s = require("bm25s", "local")
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        with self._np.errstate(divide="ignore", invalid="ignore"):  # passages with no term score 0
            self._bm25.index(tokens, show_progress=False)

    def _tokenize(self, texts: list[str]) -> Any:
        bm25s = require("bm25s", "local")
        stemmer = require("Stemmer", "local", package="PyStemmer").Stemmer(self.language)
        stopwords = "en" if self.language == "english" else self.language
        return bm25s.tokenize(
            texts, stopwords=stopwords, stemmer=stemmer, show_progress=False, return_ids=False
        )

    def scores(self, query: str) -> Any:
        """BM25 score of ``query`` against every text (a float32 array, zeros when silent).

        Example:
            >>> len(BM25Scorer(["a b", "c d"]).scores("the"))
            2
        """
        silent = self._np.zeros(self._count, dtype=self._np.float32)
        if self._bm25 is None:  # no text, or no text with a BM25 term
            return silent
        tokens = self._tokenize([query])[0]
        if not tokens:  # only stopwords or one-letter words: no sparse evidence
            return silent
        scores = self._np.asarray(self._bm25.get_scores(tokens), dtype=self._np.float32)
        return self._np.nan_to_num(scores, nan=0.0, posinf=0.0, neginf=0.0)
