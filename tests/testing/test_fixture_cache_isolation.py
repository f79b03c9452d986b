"""The ``fake_llamacloud`` fixture gives each test its own empty cache directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llama_index_cloudkit import CloudKitSettings
from llama_index_cloudkit.testing import FakeLlamaCloud

SEEN: list[str] = []


@pytest.fixture()
def cache_dir_before() -> str | None:
    return os.environ.get("CLOUDKIT_CACHE_DIR")


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_gets_its_own_empty_cache(
    run: int, cache_dir_before: str | None, fake_llamacloud: FakeLlamaCloud
) -> None:
    cache_dir = os.environ["CLOUDKIT_CACHE_DIR"]
    assert cache_dir != cache_dir_before  # never the user's (or the suite's) cache
    assert Path(cache_dir).is_dir() and not any(Path(cache_dir).iterdir())
    assert CloudKitSettings().cache_dir == Path(cache_dir)
    assert cache_dir not in SEEN  # and never another test's
    SEEN.append(cache_dir)
    (Path(cache_dir) / "left-over").write_text("x")
