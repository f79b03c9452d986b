"""pytest plugin: the ``fake_llamacloud`` fixture (registered through a ``pytest11`` entry point).

The fixture starts the emulator, points ``LLAMA_CLOUD_BASE_URL`` and ``LLAMA_CLOUD_API_KEY`` at
it for the test, and restores the environment afterwards. Configure it with a marker:

    @pytest.mark.fake_llamacloud(connection_close=True)
    def test_something(fake_llamacloud): ...

Example:
    >>> def test_parse(fake_llamacloud):  # doctest: +SKIP
    ...     LlamaParse().parse("a.pdf")  # reads the environment the fixture set
    ...     assert fake_llamacloud.count("POST", "/api/parsing/upload") == 1
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llama_index_cloudkit.testing.server import FakeLlamaCloud

__all__ = ["fake_llamacloud"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        "fake_llamacloud(connection_close=False, api_key=...): configure the LlamaCloud emulator",
    )


@pytest.fixture()
def fake_llamacloud(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeLlamaCloud]:
    """A running LlamaCloud emulator; the environment points at it during the test."""
    marker = request.node.get_closest_marker("fake_llamacloud")
    options = dict(marker.kwargs) if marker else {}
    with FakeLlamaCloud(**options) as fake:
        monkeypatch.setenv("LLAMA_CLOUD_BASE_URL", fake.base_url)
        monkeypatch.setenv("LLAMA_CLOUD_API_KEY", fake.api_key)
        yield fake
