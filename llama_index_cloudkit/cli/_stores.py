"""Where ``cloudkit index`` keeps an index, and opening a Qdrant store for ``cloudkit ask``.

``--store`` is ``local`` (a folder of plain files), ``llamacloud`` (a LlamaCloud index),
``qdrant:PATH_OR_URL`` (an embedded Qdrant folder, or a Qdrant server or cluster URL) or
``postgresql://...`` (a table on a PostgreSQL server with pgvector).

Example:
    >>> parse_store("qdrant:./qdrant-data")
    ('qdrant', 'qdrant:./qdrant-data')
    >>> parse_store("local")
    ('local', None)
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from llama_index_cloudkit.errors import ConfigError

__all__ = [
    "POSTGRES_SCHEMES",
    "QDRANT_PREFIX",
    "STORE_HELP",
    "build_postgres",
    "build_qdrant",
    "open_postgres",
    "open_qdrant",
    "parse_store",
]

QDRANT_PREFIX = "qdrant:"
_QDRANT_MODULE = "llama_index_cloudkit.retrieve.qdrant"
# --- postgres hook (issue 25): PostgreSQL URLs as stores ---
POSTGRES_SCHEMES = ("postgresql://", "postgres://")

STORE_HELP = (
    "Where the index lives: local (a folder, see --persist-dir), llamacloud, qdrant:PATH_OR_URL "
    "(an embedded Qdrant folder or a server URL) or postgresql://USER:PASSWORD@HOST/DB (a table "
    "on a PostgreSQL server with pgvector). Default: llamacloud when the backend is cloud, else local."
)


def parse_store(value: str) -> tuple[str, str | None]:
    """``(kind, spec)`` for a ``--store`` value: kind ``local``, ``llamacloud``, ``qdrant`` or ``postgres``.

    Raises:
        ConfigError: anything else, or ``qdrant:`` with nothing after it.

    Example:
        >>> parse_store("llamacloud")
        ('llamacloud', None)
    """
    text = value.strip()
    if text.lower() in ("local", "llamacloud"):
        return text.lower(), None
    if text.lower().startswith(POSTGRES_SCHEMES):
        return "postgres", text
    if text.lower().startswith(QDRANT_PREFIX):
        if not text[len(QDRANT_PREFIX) :].strip():
            raise ConfigError(
                "--store qdrant: needs a folder or a URL",
                hint="For example --store qdrant:./qdrant-data or --store qdrant:http://localhost:6333",
            )
        return "qdrant", QDRANT_PREFIX + text[len(QDRANT_PREFIX) :]
    raise ConfigError(
        f"Unknown --store {value!r}", hint="Use local, llamacloud, qdrant:PATH_OR_URL or postgresql://..."
    )


def _qdrant_module() -> ModuleType:
    try:
        return importlib.import_module(_QDRANT_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == _QDRANT_MODULE:
            raise ConfigError(
                f"Qdrant stores are not available in this installation ({_QDRANT_MODULE} is missing)",
                hint="Upgrade llama-index-cloudkit, or use --store local",
            ) from exc
        raise ImportError(
            f"{exc.name} is needed for Qdrant stores and is not installed: "
            "pip install 'llama-index-cloudkit[qdrant]'"
        ) from exc


def _member(module: ModuleType, name: str) -> Any:
    member = getattr(module, name, None)
    if member is None:
        raise ConfigError(
            f"{_QDRANT_MODULE} has no {name}", hint="Upgrade llama-index-cloudkit, or use --store local"
        )
    return member


def _location(spec: str) -> str:
    return spec[len(QDRANT_PREFIX) :] if spec.lower().startswith(QDRANT_PREFIX) else spec


def open_qdrant(spec: str, *, collection: str) -> Any:
    """Open the Qdrant collection in ``spec`` (``qdrant:PATH_OR_URL``) for querying.

    Close it (``.close()``) when done: the embedded engine locks its folder.

    Raises:
        ConfigError: no Qdrant support in this installation, or no such collection (or an
            empty one) at that place.
        ImportError: the ``qdrant`` extra is not installed.
    """
    index = _member(_qdrant_module(), "open_qdrant_index")(_location(spec), collection=collection)
    if len(index) == 0:
        index.close()
        raise ConfigError(
            f"No passages in the Qdrant collection {collection!r} at {_location(spec)}",
            hint=f"Build it first: cloudkit index FOLDER --name NAME --store {spec} "
            f"--collection {collection}",
        )
    return index


def build_qdrant(documents: Sequence[Any], spec: str, *, collection: str, overwrite: bool) -> int:
    """Index ``documents`` into the collection in ``spec`` (``qdrant:PATH_OR_URL``); its passages.

    An existing collection with passages is never added to silently (that would index every
    page twice): it is refused, or rebuilt with ``overwrite``.

    Raises:
        ConfigError: no Qdrant support, or the collection exists and ``overwrite`` is False.
        ImportError: the ``qdrant`` extra is not installed.
    """
    module = _qdrant_module()
    index_class = _member(module, "QdrantHybridIndex")
    opened = _member(module, "open_qdrant_index")(_location(spec), collection=collection)
    try:
        existing = len(opened)
        if existing and not overwrite:
            raise ConfigError(
                f"The Qdrant collection {collection!r} at {_location(spec)} already has {existing} passages",
                hint="Pass --overwrite to rebuild it, or choose another --collection",
            )
        built = index_class.from_documents(
            list(documents),
            client=opened.client,
            collection_name=collection,
            overwrite=overwrite,
            show_progress=True,
        )
        return len(built)
    finally:
        opened.close()


# --- postgres hook (issue 25) ----------------------------------------------------------------------


def open_postgres(url: str, *, table: str) -> Any:
    """Open the table ``table`` on the PostgreSQL server at ``url`` for querying.

    Raises:
        ConfigError: no such table (or an empty one), a server without pgvector, or a refused
            login. ServiceError: the server cannot be reached.
        ImportError: the ``postgres`` extra is not installed.
    """
    from llama_index_cloudkit.retrieve.postgres.connection import where
    from llama_index_cloudkit.retrieve.postgres.index import open_postgres_index

    index = open_postgres_index(url, table_name=table)
    if len(index) == 0:
        index.close()
        raise ConfigError(
            f"No passages in the PostgreSQL table {table!r} at {where(url)}",
            hint="Build it first: cloudkit index FOLDER --name NAME --store postgresql://... "
            f"--table {table}",
        )
    return index


def build_postgres(documents: Sequence[Any], url: str, *, table: str, overwrite: bool) -> tuple[int, int]:
    """Bring the table ``table`` up to date with ``documents``: ``(passages inserted, rows)``.

    Passages have stable ids, so indexing the same folder again inserts nothing; a changed
    page replaces its old passages. ``overwrite`` drops the table first.

    Raises:
        ConfigError / ServiceError: see :func:`open_postgres`.
        ImportError: the ``postgres`` extra is not installed.
    """
    from llama_index_cloudkit.retrieve.postgres.index import PostgresHybridIndex

    index = PostgresHybridIndex.open(url, table_name=table, overwrite=overwrite)
    try:
        inserted = index.insert_documents(list(documents), show_progress=True)
        return len(inserted), len(index)
    finally:
        index.close()
