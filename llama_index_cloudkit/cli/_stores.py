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


def open_qdrant(spec: str, *, collection: str) -> Any:
    """Open the Qdrant store ``spec`` (``qdrant:PATH_OR_URL``) for querying.

    Raises:
        ConfigError: this installation has no Qdrant support.
        ImportError: the ``qdrant`` extra is not installed.

    Example:
        >>> index = open_qdrant("qdrant:./qdrant-data", collection="cloudkit")  # doctest: +SKIP
    """
    return _member(_qdrant_module(), "open_qdrant_index")(spec, collection=collection)


def build_qdrant(documents: Sequence[Any], spec: str, *, collection: str) -> Any:
    """Index ``documents`` into the Qdrant store ``spec`` (``qdrant:PATH_OR_URL``).

    Raises:
        ConfigError: this installation has no Qdrant support.
        ImportError: the ``qdrant`` extra is not installed.

    Example:
        >>> index = build_qdrant(docs, "qdrant:./qdrant-data", collection="cloudkit")  # doctest: +SKIP
    """
    index_class = _member(_qdrant_module(), "QdrantHybridIndex")
    return index_class.from_documents(list(documents), spec, collection=collection)
