"""Helpers for the emulator's tests: SDK clients pointed at the emulator, fast polling.

The v2 contract modules (``test_v2_*.py``) share one emulator per module (starting one costs
0.2 s), reset before each test and as strict at teardown as the plugin's fixture: a module opts
in by defining ``fake_llamacloud`` as ``module_fake_llamacloud``, and talks to it with ``api``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from llama_index_cloudkit.testing import FakeLlamaCloud
from llama_index_cloudkit.testing.plugin import describe_unexpected

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import llama_cloud_services  # noqa: F401  (the SDK under contract test)


@pytest.fixture()
def parser_kwargs(fake_llamacloud: Any) -> dict[str, Any]:
    """LlamaParse arguments for the emulator: no sleeps between polls, quiet."""
    return {
        "api_key": fake_llamacloud.api_key,
        "base_url": fake_llamacloud.base_url,
        "check_interval": 0,
        "max_timeout": 30,
        "verbose": False,
    }


@pytest.fixture(scope="module")
def module_emulator() -> Iterator[FakeLlamaCloud]:
    """One emulator for the module (reset before each test): starting one costs 0.2 s."""
    with FakeLlamaCloud() as fake:
        yield fake


@pytest.fixture()
def module_fake_llamacloud(module_emulator: FakeLlamaCloud) -> Iterator[FakeLlamaCloud]:
    """The module's emulator, reset; strict at teardown like the plugin's fixture."""
    module_emulator.reset()
    yield module_emulator
    unexpected = module_emulator.unexpected()
    if unexpected:
        pytest.fail(describe_unexpected(unexpected), pytrace=False)


@pytest.fixture(scope="module")
def api(module_emulator: FakeLlamaCloud) -> Iterator[httpx.Client]:
    """A keep-alive client with the emulator's key, shared by the module's tests."""
    headers = {"Authorization": f"Bearer {module_emulator.api_key}"}
    with httpx.Client(base_url=module_emulator.base_url, headers=headers, timeout=30) as client:
        yield client
