"""The PostgreSQL index's table: LlamaIndex's PGVectorStore table, checked, completed and described.

The rows are ``PGVectorStore``'s own (``data_<name>``: ``node_id``, ``text``, ``metadata_`` as
JSONB, ``embedding`` as pgvector, ``text_search_tsv`` computed by PostgreSQL full-text search),
so plain LlamaIndex code can read them. This module adds what a shared database table needs:

- the ``vector`` extension, checked before anything else (a server without it is a
  :class:`ConfigError` saying how to get it);
- a unique index on ``node_id`` (a passage is stored once, whoever inserts it);
- ``cloudkit_length``, the passage's token count after stopwords, a stored generated column
  (BM25's length normalization reads it instead of unnesting every tsvector);
- the table's settings, kept as JSON in the table's comment: format, the embedder and its
  dimension, BM25 k1, b and the fixed ``avgdl``, the text search configuration, and the JSON
  kinds of each metadata key (for filter type checks). A table re-opens by name, from any
  machine, with the settings it was built with.

Schema changes and settings updates run under one advisory lock per table, so concurrent
writers (processes or machines) never race.

Example (``postgres_url`` is a server's ``postgresql://user:password@host:5432/database``):
    >>> table = PostgresTable(postgres_url, "handbook")
    >>> table.sql_name, table.exists()
    ('public.data_handbook', False)
    >>> table.create(384, {"k1": 1.5, "b": 0.75})["k1"]
    1.5
    >>> PostgresTable(postgres_url, "handbook").settings()["dimension"]
    384
"""

from __future__ import annotations

import contextlib
import json
import re
import zlib
from collections.abc import Iterator
from typing import Any

from llama_index_cloudkit._imports import require
from llama_index_cloudkit._version import __version__
from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.retrieve.postgres.connection import make_engines, postgres_errors, where

__all__ = ["FORMAT_VERSION", "LENGTH_COLUMN", "PostgresTable"]

FORMAT_VERSION = 1
LENGTH_COLUMN = "cloudkit_length"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,53}$")
_EXTENSION_HINT = (
    "Install pgvector on the server (https://github.com/pgvector/pgvector: apt install "
    "postgresql-<version>-pgvector, or enable 'vector' in your managed service), then run "
    "CREATE EXTENSION vector; as a superuser in that database"
)


def _checked_name(kind: str, name: str) -> str:
    lowered = name.strip().lower()
    if not _NAME.match(lowered):
        raise ConfigError(
            f"The {kind} name {name!r} is not a plain PostgreSQL name",
            hint="Use lowercase letters, digits and underscores, starting with a letter (at most 54)",
        )
    return lowered


class PostgresTable:
    """One PGVectorStore table and its settings (used by ``PostgresHybridIndex``).

    Args:
        url: ``postgresql://user:password@host:5432/database``.
        table_name: the PGVectorStore table name (the SQL table is ``data_<table_name>``).
        schema_name: the schema (default ``public``).
        text_search_config: PostgreSQL's text search configuration for new tables.
        hnsw: HNSW settings for the vector column of new tables (``{"hnsw_m": 16,
            "hnsw_ef_construction": 64, "hnsw_ef_search": 100}``), or None for exact search.

    Raises:
        ConfigError: a name that is not a plain identifier, a server without pgvector, or a
            refused login. ServiceError: the server cannot be reached.

    Example:
        >>> table = PostgresTable(postgres_url, "handbook")
        >>> table.exists()
        False
        >>> PostgresTable(postgres_url, "Hand-book")
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: The table name 'Hand-book' is not a plain ... name. ...
    """

    def __init__(
        self,
        url: str,
        table_name: str = "cloudkit",
        *,
        schema_name: str = "public",
        text_search_config: str = "english",
        hnsw: dict[str, int] | None = None,
    ) -> None:
        self.sa = require("sqlalchemy", "postgres", package="llama-index-vector-stores-postgres")
        self.url = url
        self.table_name = _checked_name("table", table_name)
        self.schema_name = _checked_name("schema", schema_name)
        self.text_search_config = _checked_name("text search configuration", text_search_config)
        self.hnsw = dict(hnsw) if hnsw else None
        self.place = f"{where(url)}, table {self.table_name!r}"
        self.engine, self.async_engine = make_engines(url)
        self._lock_key = zlib.crc32(f"cloudkit:{self.schema_name}.{self.table_name}".encode()) - 2**31
        self.store: Any = None
        self.check_extension()

    # --- names ---------------------------------------------------------------------------------

    @property
    def sql_name(self) -> str:
        """``schema.data_<table>``, the table PGVectorStore creates.

        Example:
            >>> PostgresTable(postgres_url, "handbook", schema_name="docs").sql_name
            'docs.data_handbook'
        """
        return f"{self.schema_name}.data_{self.table_name}"

    def columns(self, dimension: int | None = None) -> Any:
        """A SQLAlchemy table clause over the columns the searches read.

        Example:
            >>> table = PostgresTable(postgres_url, "handbook")
            >>> [column.name for column in table.columns(384).c]
            ['node_id', 'text', 'metadata_', 'embedding', 'text_search_tsv', 'cloudkit_length']
        """
        from pgvector.sqlalchemy import Vector
        from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR

        sa = self.sa
        return sa.table(
            f"data_{self.table_name}",
            sa.column("node_id", sa.String),
            sa.column("text", sa.String),
            sa.column("metadata_", JSONB),
            sa.column("embedding", Vector(dimension)),
            sa.column("text_search_tsv", TSVECTOR),
            sa.column(LENGTH_COLUMN, sa.Integer),
            schema=self.schema_name,
        )

    # --- connections ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def connect(self, action: str) -> Iterator[Any]:
        """A connection in a transaction, errors translated (committed on success).

        Example:
            >>> from sqlalchemy import text
            >>> table = PostgresTable(postgres_url, "handbook")
            >>> with table.connect("read the server version") as connection:
            ...     connection.execute(text("SHOW server_version_num")).scalar() >= "160000"
            True
        """
        with postgres_errors(action, self.place), self.engine.begin() as connection:
            yield connection

    @contextlib.contextmanager
    def locked(self, action: str) -> Iterator[Any]:
        """A connection holding this table's advisory lock (writers queue here, readers do not).

        Example:
            >>> from sqlalchemy import text
            >>> table = PostgresTable(postgres_url, "handbook")
            >>> advisory = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
            >>> with table.locked("count locks") as connection:
            ...     connection.execute(advisory).scalar()
            1
        """
        with self.connect(action) as connection:
            connection.execute(self.sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": self._lock_key})
            yield connection

    def check_extension(self) -> None:
        """Make sure the ``vector`` extension is in the database (create it when allowed).

        Raises:
            ConfigError: the server has no pgvector, or this user may not create it.

        Example:
            >>> table = PostgresTable(postgres_url, "handbook")  # checks once here
            >>> table.check_extension()  # and again: the server has pgvector, nothing to say
        """
        text = self.sa.text
        with self.connect("look the vector extension up") as connection:
            if connection.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'vector'")).first():
                return
            available = connection.execute(
                text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
            ).first()
        if not available:
            raise ConfigError(
                f"The PostgreSQL server at {where(self.url)} has no vector extension (pgvector)",
                hint=_EXTENSION_HINT,
            )
        exc_module = require("sqlalchemy.exc", "postgres")
        try:
            with self.engine.begin() as connection:
                connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
        except exc_module.DBAPIError as exc:
            first = (str(getattr(exc, "orig", exc)).strip().splitlines() or [""])[0]
            raise ConfigError(
                f"The database at {where(self.url)} has no vector extension, and this user may not "
                f"create it ({first})",
                hint=_EXTENSION_HINT,
            ) from exc

    # --- the store -----------------------------------------------------------------------------

    def vector_store(self, dimension: int) -> Any:
        """LlamaIndex's ``PGVectorStore`` on this table (hybrid search on, JSONB metadata).

        Example:
            >>> store = PostgresTable(postgres_url, "handbook").vector_store(384)
            >>> type(store).__name__, store.table_name, store.embed_dim
            ('PGVectorStore', 'handbook', 384)
        """
        if self.store is None or self.store.embed_dim != dimension:
            postgres = require(
                "llama_index.vector_stores.postgres", "postgres", package="llama-index-vector-stores-postgres"
            )
            sync_url, async_url = (str(u) for u in (self.engine.url, self.async_engine.url))
            self.store = postgres.PGVectorStore(
                connection_string=sync_url,
                async_connection_string=async_url,
                table_name=self.table_name,
                schema_name=self.schema_name,
                hybrid_search=True,
                text_search_config=self.text_search_config,
                embed_dim=dimension,
                use_jsonb=True,
                hnsw_kwargs=dict(self.hnsw) if self.hnsw else None,
                initialization_fail_on_error=True,
                engine=self.engine,
                async_engine=self.async_engine,
            )
        return self.store

    def exists(self) -> bool:
        """Whether the table is there (made by anyone).

        Example:
            >>> table = PostgresTable(postgres_url, "handbook")
            >>> table.exists()
            False
            >>> _ = table.create(384, {"k1": 1.5, "b": 0.75})
            >>> table.exists()
            True
        """
        with self.connect("look the table up") as connection:
            found = connection.execute(
                self.sa.text("SELECT to_regclass(:name) IS NOT NULL"), {"name": self.sql_name}
            ).scalar()
        return bool(found)

    def create(self, dimension: int, settings: dict[str, Any]) -> dict[str, Any]:
        """Create the table (PGVectorStore's DDL) and complete it; returns the stored settings.

        Another client may have created it meanwhile: its settings win, and are returned.

        Example:
            >>> table = PostgresTable(postgres_url, "handbook")
            >>> settings = table.create(384, {"k1": 1.5, "b": 0.75})
            >>> settings["dimension"], settings["text_search_config"], settings["k1"]
            (384, 'english', 1.5)
            >>> table.create(384, {"k1": 2.0, "b": 0.75})["k1"]  # already there: the stored settings win
            1.5
        """
        store = self.vector_store(dimension)
        with self.locked("create the table") as connection:
            stored = self.read_settings(connection)
            if stored is not None:
                return stored
            with postgres_errors("create the table", self.place):
                store.add([])  # PGVectorStore's own setup: schema, extension, table, indexes
            name = f"data_{self.table_name}"
            function = f"{self.schema_name}.cloudkit_token_count"
            tokens = f"to_tsvector('{self.text_search_config}'::regconfig, text)"
            statements = [
                f"CREATE OR REPLACE FUNCTION {function}(tsvector) RETURNS integer "
                "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
                "$$ SELECT coalesce(sum(coalesce(array_length(positions, 1), 1)), 0)::integer "
                "FROM unnest($1) $$",
                f"ALTER TABLE {self.sql_name} ADD COLUMN IF NOT EXISTS {LENGTH_COLUMN} integer "
                f"GENERATED ALWAYS AS ({function}({tokens})) STORED",
                f"CREATE UNIQUE INDEX IF NOT EXISTS {name}_node_id_key ON {self.sql_name} (node_id)",
            ]
            for statement in statements:
                connection.execute(self.sa.text(statement))
            full = {
                "format_version": FORMAT_VERSION,
                "package_version": __version__,
                "dimension": dimension,
                "text_search_config": self.text_search_config,
                "key_types": {},
                **settings,
            }
            self._write(connection, full)
            return full

    # --- settings ------------------------------------------------------------------------------

    def read_settings(self, connection: Any) -> dict[str, Any] | None:
        """The stored settings read on ``connection`` (None when there is no table yet).

        Raises:
            ConfigError: a table not made by this package, or of another format.

        Example:
            >>> table = PostgresTable(postgres_url, "handbook")
            >>> _ = table.create(384, {"k1": 1.5, "b": 0.75})
            >>> with table.connect("read the settings") as connection:
            ...     table.read_settings(connection)["k1"]
            1.5
        """
        text = self.sa.text
        if not connection.execute(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": self.sql_name}).scalar():
            return None
        comment = connection.execute(
            text("SELECT obj_description(to_regclass(:n), 'pg_class')"), {"n": self.sql_name}
        ).scalar()
        try:
            settings = json.loads(comment or "")
        except ValueError:
            settings = None
        if not isinstance(settings, dict) or "format_version" not in settings:
            raise ConfigError(
                f"The table {self.sql_name} at {where(self.url)} was not made by PostgresHybridIndex "
                "(no settings in its comment)",
                hint="Open it with LlamaIndex's PGVectorStore, or choose another table name",
            )
        if settings["format_version"] != FORMAT_VERSION:
            raise ConfigError(
                f"The table {self.sql_name} has format {settings['format_version']}, not {FORMAT_VERSION}",
                hint="Rebuild it with this version of llama-index-cloudkit",
            )
        return settings

    def _write(self, connection: Any, settings: dict[str, Any]) -> None:
        comment = json.dumps(settings, sort_keys=True).replace("'", "''")
        # exec_driver_sql: a colon in a metadata key is no bind parameter here.
        connection.exec_driver_sql(f"COMMENT ON TABLE {self.sql_name} IS '{comment}'")

    def settings(self) -> dict[str, Any] | None:
        """The stored settings, or None when the table does not exist yet.

        Raises:
            ConfigError: a table not made by this package, or of another format.

        Example:
            >>> table = PostgresTable(postgres_url, "handbook")
            >>> table.settings() is None
            True
            >>> _ = table.create(384, {"k1": 1.5, "b": 0.75, "avgdl": None})
            >>> table.settings()["b"]
            0.75
        """
        with self.connect("read the table's settings") as connection:
            return self.read_settings(connection)

    def update_settings(self, connection: Any, **changes: Any) -> dict[str, Any]:
        """Merge ``changes`` into the stored settings (call inside :meth:`locked`).

        Example:
            >>> table = PostgresTable(postgres_url, "handbook")
            >>> _ = table.create(384, {"k1": 1.5, "b": 0.75, "avgdl": None})
            >>> with table.locked("record the mean length") as connection:
            ...     table.update_settings(connection, avgdl=80.0)["avgdl"]
            80.0
            >>> table.settings()["avgdl"]
            80.0
        """
        stored = self.read_settings(connection) or {}
        merged = {**stored, **changes}
        if merged != stored:
            self._write(connection, merged)
        return merged

    def drop(self) -> None:
        """Drop the table (``--overwrite``); nothing happens when it does not exist.

        Example:
            >>> table = PostgresTable(postgres_url, "handbook")
            >>> _ = table.create(384, {"k1": 1.5, "b": 0.75})
            >>> table.drop()
            >>> table.exists()
            False
        """
        with self.locked("drop the table") as connection:
            connection.execute(self.sa.text(f"DROP TABLE IF EXISTS {self.sql_name}"))
        self.store = None

    def close(self) -> None:
        """Release the connections.

        Example:
            >>> table = PostgresTable(postgres_url, "handbook")
            >>> table.close()
        """
        self.engine.dispose()
