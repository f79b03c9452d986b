"""Where ``cloudkit index`` keeps an index, and opening a Qdrant store for ``cloudkit ask``.

``--store`` is ``local`` (a folder of plain files), ``llamacloud`` (a LlamaCloud index) or
``qdrant:PATH_OR_URL`` (an embedded Qdrant folder, or a Qdrant server or cluster URL).

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

__all__ = ["QDRANT_PREFIX", "STORE_HELP", "build_qdrant", "open_qdrant", "parse_store"]

QDRANT_PREFIX = "qdrant:"
_QDRANT_MODULE = "llama_index_cloudkit.retrieve.qdrant"

STORE_HELP = (
    "Where the index lives: local (a folder, see --persist-dir), llamacloud, or qdrant:PATH_OR_URL "
    "(an embedded Qdrant folder or a server URL). Default: llamacloud when the backend is cloud, "
    "else local."
)


def parse_store(value: str) -> tuple[str, str | None]:
    """``(kind, spec)`` for a ``--store`` value: kind ``local``, ``llamacloud`` or ``qdrant``.

    Raises:
        ConfigError: anything else, or ``qdrant:`` with nothing after it.

    Example:
        >>> parse_store("llamacloud")
        ('llamacloud', None)
    """
    text = value.strip()
    if text.lower() in ("local", "llamacloud"):
        return text.lower(), None
    if text.lower().startswith(QDRANT_PREFIX):
        if not text[len(QDRANT_PREFIX) :].strip():
            raise ConfigError(
                "--store qdrant: needs a folder or a URL",
                hint="For example --store qdrant:./qdrant-data or --store qdrant:http://localhost:6333",
            )
        return "qdrant", QDRANT_PREFIX + text[len(QDRANT_PREFIX) :]
    raise ConfigError(f"Unknown --store {value!r}", hint="Use local, llamacloud or qdrant:PATH_OR_URL")


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
