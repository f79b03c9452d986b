"""The full-text leg of the PostgreSQL index: PostgreSQL's own text search, ranked by BM25.

PGVectorStore keeps ``text_search_tsv = to_tsvector(config, text)`` (a GIN index on it) and
ranks with ``ts_rank``, which is not BM25 (it ignores how rare a word is in the table), and
unions the two legs with no fusion. Here the candidates come from the same tsvector and GIN
index, and are ranked with the BM25 that LocalHybridIndex uses (bm25s' Lucene variant):

    score(q, d) = sum over query terms t of
                  qtf(t) * idf(t) * tf(t, d) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))
    idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

computed in SQL: the query's lexemes come from ``to_tsvector(config, query)`` (the same
parser, stopwords and Snowball stemmer as the passages; ``qtf`` counts a repeated term again,
as bm25s does), ``N`` and ``df`` are counted on the live table through the GIN index, ``tf``
is read from each candidate's tsvector, ``|d|`` is the stored ``cloudkit_length`` column and
``avgdl`` is fixed when the table is first filled (kept in its settings). Only the terms differ
from the local index: PostgreSQL's parser and stopword list rather than bm25s' regular
expression and list (a hyphenated word also counts as its parts; one-letter words count).

Example:
    >>> tsquery_literal(["llama", "hay"])
    "'llama' | 'hay'"
    >>> round(idf(1000, 10), 3)
    4.557
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["FullTextLeg", "idf", "tsquery_literal"]


def tsquery_literal(lexemes: Sequence[str]) -> str:
    """A tsquery matching any of ``lexemes`` exactly (quoted, so nothing is parsed again).

    Example:
        >>> tsquery_literal(["o'neil"])
        "'o''neil'"
    """
    quoted = ("'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'" for lexeme in lexemes)
    return " | ".join(quoted)


def idf(total: int, frequency: int) -> float:
    """BM25's inverse document frequency (bm25s / Lucene): ``ln(1 + (N - df + 0.5) / (df + 0.5))``.

    Example:
        >>> round(idf(2, 1), 4)
        0.6931
    """
    return math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))


class FullTextLeg:
    """Builds and runs the BM25 full-text search of one table.

    Args:
        table: the table clause (``PostgresTable.columns()``).
        config: the text search configuration (``english``).
        k1: BM25 term saturation.
        b: BM25 length normalization.

    Example (``postgres_url`` is a server's ``postgresql://user:password@host:5432/database``):
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.postgres.index import PostgresHybridIndex
        >>> nodes = [TextNode(id_="hay", text="Llamas eat hay."), TextNode(id_="news", text="Stocks fell.")]
        >>> index = PostgresHybridIndex.from_nodes(nodes, postgres_url)
        >>> leg = FullTextLeg(index.table.columns(), "english", k1=1.5, b=0.75)
        >>> with index.table.connect("search") as connection:
        ...     scores = leg.search(connection, "what do llamas eat", 30, None, avgdl=3.0)
        >>> {node_id: round(score, 3) for node_id, score in scores.items()}
        {'hay': 0.555}
    """

    def __init__(self, table: Any, config: str, *, k1: float, b: float) -> None:
        import sqlalchemy

        self.sa = sqlalchemy
        self.table = table
        self.config = config
        self.k1, self.b = k1, b

    def query_terms(self, connection: Any, query: str) -> dict[str, int]:
        """The query's lexemes and how often each occurs (PostgreSQL's parser and stemmer).

        Example:
            >>> from llama_index_cloudkit.retrieve.postgres.table import PostgresTable
            >>> table = PostgresTable(postgres_url, "handbook")
            >>> leg = FullTextLeg(table.columns(), "english", k1=1.5, b=0.75)
            >>> with table.connect("read the query") as connection:
            ...     sorted(leg.query_terms(connection, "Llamas eat hay, llamas!").items())
            [('eat', 1), ('hay', 1), ('llama', 2)]
        """
        rows = connection.execute(
            self.sa.text(
                "SELECT lexeme, coalesce(array_length(positions, 1), 1) "
                "FROM unnest(to_tsvector(CAST(:config AS regconfig), :query))"
            ),
            {"config": self.config, "query": query},
        )
        return {str(lexeme): int(count) for lexeme, count in rows}

    def weights(self, connection: Any, terms: dict[str, int]) -> dict[str, float]:
        """``qtf * idf`` per term, with N and df counted on the live table (GIN index).

        Example:
            >>> from llama_index.core.schema import TextNode
            >>> from llama_index_cloudkit.retrieve.postgres.index import PostgresHybridIndex
            >>> texts = ["Llamas eat hay.", "Llamas drink water.", "Stocks fell."]
            >>> index = PostgresHybridIndex.from_nodes([TextNode(text=t) for t in texts], postgres_url)
            >>> leg = FullTextLeg(index.table.columns(), "english", k1=1.5, b=0.75)
            >>> with index.table.connect("weigh the query") as connection:
            ...     weights = leg.weights(connection, {"llama": 2, "hay": 1})
            >>> {term: round(weight, 3) for term, weight in weights.items()}  # llama: twice, in 2 of 3
            {'hay': 0.981, 'llama': 0.94}
        """
        sa, t = self.sa, self.table
        from sqlalchemy.dialects.postgresql import TSQUERY

        lexemes = sorted(terms)
        counts = [sa.select(sa.func.count()).select_from(t).scalar_subquery()]
        for lexeme in lexemes:
            match = t.c.text_search_tsv.op("@@")(sa.cast(sa.literal(tsquery_literal([lexeme])), TSQUERY))
            counts.append(sa.select(sa.func.count()).select_from(t).where(match).scalar_subquery())
        row = connection.execute(sa.select(*counts)).one()
        total = int(row[0])
        return {
            lexeme: terms[lexeme] * idf(total, int(df)) for lexeme, df in zip(lexemes, row[1:], strict=True)
        }

    def search(
        self, connection: Any, query: str, limit: int, where: Any, *, avgdl: float | None
    ) -> dict[str, float]:
        """The ``limit`` best passages by BM25 (node id -> score), among those ``where`` admits.

        A query with no lexeme (only stopwords) has no full-text evidence: empty.

        Example:
            >>> from llama_index.core.schema import TextNode
            >>> from llama_index_cloudkit.retrieve.postgres.index import PostgresHybridIndex
            >>> nodes = [TextNode(id_="hay", text="Llamas eat hay."), TextNode(text="Stocks fell.")]
            >>> index = PostgresHybridIndex.from_nodes(nodes, postgres_url)
            >>> leg = FullTextLeg(index.table.columns(), "english", k1=1.5, b=0.75)
            >>> with index.table.connect("search") as connection:
            ...     hay = leg.search(connection, "hay", 5, None, avgdl=3.0)
            ...     stopwords_only = leg.search(connection, "the", 5, None, avgdl=3.0)
            >>> list(hay), stopwords_only
            (['hay'], {})
        """
        terms = self.query_terms(connection, query)
        if not terms or limit <= 0:
            return {}
        weights = self.weights(connection, terms)
        sa, t = self.sa, self.table
        from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY

        if avgdl is None:  # the table's first fill is still running: the live mean
            avgdl = float(connection.execute(sa.select(sa.func.avg(t.c.cloudkit_length))).scalar() or 1.0)
        lexemes = sorted(weights)
        lexeme_array = sa.cast(sa.literal(lexemes, ARRAY(sa.Text)), ARRAY(sa.Text))
        only_query_terms = sa.func.ts_filter(
            sa.func.setweight(t.c.text_search_tsv, sa.literal_column("'A'::\"char\""), lexeme_array),
            sa.literal_column("'{a}'::\"char\"[]"),
        )
        found = (
            sa.func.unnest(only_query_terms)
            .table_valued(sa.column("lexeme", sa.Text), sa.column("positions", ARRAY(sa.Integer)))
            .lateral("found")
        )
        query_weights = (
            sa.func.unnest(
                sa.cast(sa.literal(lexemes, ARRAY(sa.Text)), ARRAY(sa.Text)),
                sa.cast(sa.literal([weights[x] for x in lexemes], ARRAY(sa.Float)), ARRAY(sa.Float)),
            )
            .table_valued(sa.column("lexeme", sa.Text), sa.column("weight", sa.Float))
            .render_derived(name="query_terms")
        )
        tf = sa.cast(sa.func.coalesce(sa.func.array_length(found.c.positions, 1), 1), sa.Float)
        length = sa.cast(t.c.cloudkit_length, sa.Float)
        norm = self.k1 * (1 - self.b + self.b * length / max(avgdl, 1e-9))
        score = sa.func.sum(query_weights.c.weight * tf / (tf + norm)).label("score")
        matches = t.c.text_search_tsv.op("@@")(sa.cast(sa.literal(tsquery_literal(lexemes)), TSQUERY))
        statement = (
            sa.select(t.c.node_id, score)
            .select_from(
                t.join(found, sa.true()).join(query_weights, query_weights.c.lexeme == found.c.lexeme)
            )
            .where(matches)
            .group_by(t.c.node_id)
            .order_by(score.desc(), t.c.node_id)
            .limit(limit)
        )
        if where is not None:
            statement = statement.where(where)
        return {str(node_id): float(value) for node_id, value in connection.execute(statement)}
