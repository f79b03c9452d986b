"""MiniLMEmbedding's async methods run ONNX off the event loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from pydantic import PrivateAttr

from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding


class RecordingMiniLM(MiniLMEmbedding):
    """The real embedder, noting which thread each ONNX run happens on."""

    _threads: list[int] = PrivateAttr(default_factory=list)

    def embed(self, texts: list[str]) -> Any:
        self._threads.append(threading.get_ident())
        return super().embed(texts)


async def test_async_embeddings_run_outside_the_event_loop_thread() -> None:
    embedder = RecordingMiniLM()
    loop_thread = threading.get_ident()
    query = await embedder.aget_query_embedding("how much hay")
    text = await embedder.aget_text_embedding("llamas eat hay")
    batch = await embedder.aget_text_embedding_batch(["a", "b", "c"])
    assert len(query) == len(text) == 384 and len(batch) == 3
    assert embedder._threads and loop_thread not in embedder._threads


async def test_the_loop_keeps_serving_while_a_batch_is_embedded() -> None:
    embedder = MiniLMEmbedding()
    embedder.embed(["warm up"])
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    vectors = await embedder.aget_text_embedding_batch(
        [f"passage number {i} about llamas" for i in range(256)]
    )
    done.set()
    await task
    assert len(vectors) == 256
    assert ticks > 10  # the ticker ran while ONNX worked
