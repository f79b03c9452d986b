"""Helpers for the emulator's tests: SDK clients pointed at the emulator, fast polling."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

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
