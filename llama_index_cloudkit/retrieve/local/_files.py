"""LocalHybridIndex on disk: plain files that reload with every setting that changes scoring.

| file | holds |
|---|---|
| ``embeddings.npy`` | the passage vectors (``allow_pickle=False``, memory-mappable) |
| ``nodes.json`` | the passages (``TextNode.to_dict``) |
| ``params.json`` | format and package version, k1, b, language, the embedder, dimension, count |
| ``retrieval.json`` | the tuned retrieval settings, when ``tune_retrieval`` chose some |
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import BaseNode, TextNode

from llama_index_cloudkit._imports import require
from llama_index_cloudkit._llama_settings import explicit_embed_model
from llama_index_cloudkit._version import __version__
from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding

__all__ = [
    "FORMAT_VERSION",
    "RETRIEVAL_FILE",
    "StoredIndex",
    "read_index_files",
    "write_index_files",
    "write_retrieval_config",
]

FORMAT_VERSION = 1
RETRIEVAL_FILE = "retrieval.json"


@dataclass
class StoredIndex:
    """What :func:`read_index_files` found: the settings, the embedder, vectors and passages."""

    params: dict[str, Any]
    embed_model: BaseEmbedding
    embeddings: Any
    nodes: list[BaseNode]
    retrieval_config: HybridConfig | None


def write_index_files(
    persist_dir: str | Path,
    embeddings: Any,
    nodes: Sequence[BaseNode],
    settings: Mapping[str, Any],
    embed_model: BaseEmbedding,
) -> Path:
    """Write embeddings.npy, nodes.json and params.json (``settings``: k1, b, language)."""
    np = require("numpy", "local")
    target = Path(persist_dir)
    target.mkdir(parents=True, exist_ok=True)
    np.save(target / "embeddings.npy", embeddings, allow_pickle=False)
    raw_nodes = [n.to_dict() for n in nodes]
    (target / "nodes.json").write_text(json.dumps(raw_nodes, ensure_ascii=False), encoding="utf-8")
    params = {
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        **settings,
        "embed_model": embed_model.model_name,
        "embed_class": embed_model.class_name(),
        "dimension": int(embeddings.shape[1]) if embeddings.ndim == 2 else 0,
        "count": len(nodes),
    }
    (target / "params.json").write_text(json.dumps(params, indent=2), encoding="utf-8")
    return target


def write_retrieval_config(persist_dir: str | Path, config: HybridConfig | None) -> Path | None:
    """Write (or, with no config, remove) retrieval.json beside an index persisted there.

    Raises:
        ConfigError: no index was persisted there (params.json is missing).
    """
    target = Path(persist_dir)
    if not (target / "params.json").is_file():
        raise ConfigError(
            f"No LocalHybridIndex at {target} (params.json is missing)",
            hint="Persist the index there first: index.persist(...)",
        )
    path = target / RETRIEVAL_FILE
    if config is None:
        path.unlink(missing_ok=True)
        return None
    path.write_text(config.to_json(), encoding="utf-8")
    return path


def read_index_files(persist_dir: str | Path, embed_model: BaseEmbedding | None) -> StoredIndex:
    """Read what :func:`write_index_files` (and :func:`write_retrieval_config`) wrote.

    Raises:
        ConfigError: a missing folder, an unknown format, or an embedder that differs from the
            one the vectors were made with.
    """
    np = require("numpy", "local")
    source = Path(persist_dir)
    params_path = source / "params.json"
    if not params_path.is_file():
        raise ConfigError(
            f"No LocalHybridIndex at {source} (params.json is missing)",
            hint="Build one with LocalHybridIndex.from_documents(...).persist()",
        )
    params = json.loads(params_path.read_text(encoding="utf-8"))
    if params.get("format_version") != FORMAT_VERSION:
        raise ConfigError(
            f"Index format {params.get('format_version')} is not supported",
            hint="Rebuild the index with this version of llama-index-cloudkit",
        )
    embedder = embed_model or explicit_embed_model()
    if embedder is None or (embed_model is None and embedder.model_name != params["embed_model"]):
        embedder = MiniLMEmbedding()  # Settings.embed_model is used only when it built the index
    if embedder.model_name != params["embed_model"]:
        raise ConfigError(
            f"The index was built with {params['embed_model']!r}, not {embedder.model_name!r}",
            hint="Pass the same embed_model used to build it",
        )
    embeddings = np.load(source / "embeddings.npy", allow_pickle=False)
    raw_nodes = json.loads((source / "nodes.json").read_text(encoding="utf-8"))
    nodes: list[BaseNode] = [TextNode.from_dict(raw) for raw in raw_nodes]
    tuned = source / RETRIEVAL_FILE
    retrieval_config = HybridConfig.from_json(tuned.read_text(encoding="utf-8")) if tuned.is_file() else None
    return StoredIndex(params, embedder, embeddings, nodes, retrieval_config)
