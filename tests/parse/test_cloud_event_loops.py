"""Parsing works from a second, third and tenth event loop, sync and async, on a keep-alive service."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from llama_index_cloudkit import CloudKitReader, CloudKitSettings
from llama_index_cloudkit.testing import FakeLlamaCloud


def _reader(fake: FakeLlamaCloud) -> CloudKitReader:
    settings = CloudKitSettings(api_key=fake.api_key, base_url=fake.base_url)
    return CloudKitReader(backend="cloud", settings=settings, poll_interval=0.05, use_cache=False)


def _note(folder: Path, i: int) -> Path:
    path = folder / f"loop-{i}.md"
    path.write_text(f"# Loop {i}\n\nLlama {i} crossed event loop number {i}.")
    return path


def test_asyncio_run_ten_times_in_a_row_sync_and_async(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    reader = _reader(fake_llamacloud)  # one reader, reused across loops, like a module-level one

    async def inside_a_loop(path: Path) -> int:
        sync_docs = reader.load_data(path)  # sync entry point inside a running loop
        async_docs = await reader.aload_data(path)
        return len(sync_docs) + len(async_docs)

    for i in range(10):
        assert asyncio.run(inside_a_loop(_note(tmp_path, i))) == 2
        assert len(reader.load_data(_note(tmp_path, 100 + i))) == 1  # and with no loop at all
    assert fake_llamacloud.count("POST", "/api/parsing/upload") == 30


def test_one_event_loop_per_thread(fake_llamacloud: FakeLlamaCloud, tmp_path: Path) -> None:
    reader = _reader(fake_llamacloud)
    counts: list[int] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            counts.append(len(asyncio.run(reader.aload_data(_note(tmp_path, i)))))
            counts.append(len(reader.load_data(_note(tmp_path, 50 + i))))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert counts == [1] * 12
