"""How the Qdrant index reaches Qdrant: the client, point ids, and the one error translation.

The names of the two vectors, the payload and metadata keys and the collection format live here
too, so every part of the Qdrant index agrees on them.

Example:
    >>> point_id("0b6d1d52-1c55-4c8e-9b1e-2f3a4d5e6f70")
    '0b6d1d52-1c55-4c8e-9b1e-2f3a4d5e6f70'
    >>> client = make_client(location=":memory:")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

from llama_index_cloudkit._imports import require
from llama_index_cloudkit.errors import ConfigError, ServiceError

__all__ = [
    "DENSE",
    "FORMAT_VERSION",
    "KEY_TYPES_KEY",
    "NODE_ID_KEY",
    "RESERVED",
    "SETTINGS_KEY",
    "SPARSE",
    "make_client",
    "point_id",
    "qdrant_errors",
]

DENSE = "text-dense"
SPARSE = "text-bm25"
FORMAT_VERSION = 1
SETTINGS_KEY = "cloudkit"
KEY_TYPES_KEY = "cloudkit_key_types"
NODE_ID_KEY = "_node_id"
_NAMESPACE = uuid.UUID("5b0d3f8e-1c8e-4f43-9d55-6c1b2f0c7a17")
RESERVED = {"_node_content", "_node_type", "document_id", "doc_id", "ref_doc_id", NODE_ID_KEY}


def point_id(node_id: str) -> str:
    """The Qdrant point id of a node: the node id if it is a UUID, else a UUID5 of it.

    Example:
        >>> point_id("0b6d1d52-1c55-4c8e-9b1e-2f3a4d5e6f70")
        '0b6d1d52-1c55-4c8e-9b1e-2f3a4d5e6f70'
        >>> len(point_id("hay"))
        36
    """
    try:
        return str(uuid.UUID(node_id))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, node_id))


@contextlib.contextmanager
def qdrant_errors(action: str, where: str) -> Iterator[None]:
    """Translate the client's transport and HTTP errors into ServiceError (one place).

    Example:
        >>> with qdrant_errors("count points", "collection 'handbook'"):  # doctest: +SKIP
        ...     client.count("handbook")
    """
    exceptions = require("qdrant_client.http.exceptions", "qdrant", package="qdrant-client")
    try:
        yield
    except exceptions.UnexpectedResponse as exc:
        raise ServiceError(
            f"Qdrant refused to {action} ({where}): HTTP {exc.status_code} {exc.reason_phrase}",
            status_code=exc.status_code,
            hint="Check the collection name, the API key (QDRANT_API_KEY) and the server's version (1.16+)",
        ) from exc
    except exceptions.ResponseHandlingException as exc:
        raise ServiceError(
            f"Could not reach Qdrant to {action} ({where}): {exc}",
            hint="Check that the Qdrant server is running and the URL is right",
        ) from exc


def make_client(
    client: Any = None,
    *,
    location: str | None = None,
    path: str | os.PathLike[str] | None = None,
    url: str | None = None,
    api_key: str | None = None,
) -> Any:
    """The ``QdrantClient`` for one of ``client``, ``location``, ``path`` or ``url`` (default in memory).

    Raises:
        ConfigError: more than one place given, or a folder another client holds.

    Example:
        >>> client = make_client(url="http://localhost:6333")  # doctest: +SKIP
    """
    candidates = (("client", client), ("location", location), ("path", path), ("url", url))
    given = [name for name, value in candidates if value is not None]
    if len(given) > 1:
        raise ConfigError(
            f"Give one of client, location, path and url, not {' and '.join(given)}",
            hint="location=':memory:' (embedded, in memory), path=... (embedded, on disk) "
            "or url=... (a server)",
        )
    if client is not None:
        return client
    qdrant_client = require("qdrant_client", "qdrant", package="qdrant-client")
    if url is not None:
        key = api_key or os.environ.get("QDRANT_API_KEY") or None
        return qdrant_client.QdrantClient(url=url, api_key=key)
    if path is not None:
        try:
            return qdrant_client.QdrantClient(path=os.fspath(path))
        except RuntimeError as exc:  # portalocker: another client holds the folder
            raise ConfigError(
                f"The Qdrant folder {os.fspath(path)} is open in another client or process",
                hint="Close the other client (index.close()), or run a Qdrant server for concurrent use",
            ) from exc
    return qdrant_client.QdrantClient(location=location or ":memory:")
