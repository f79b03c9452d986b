"""pytest plugin: the ``fake_llamacloud`` fixture (registered through a ``pytest11`` entry point).

The fixture starts the emulator, points ``LLAMA_CLOUD_BASE_URL`` and ``LLAMA_CLOUD_API_KEY`` at
it for the test, and restores the environment afterwards. It is strict, like respx's
``assert_all_mocked``: at teardown it fails the test when the request log holds a 5xx answer
that no fault rule injected (an emulator bug, or a request the service would have failed), or a
request to a route the emulator does not have (501 ``not emulated``). Configure it with a marker:

    @pytest.mark.fake_llamacloud(connection_close=True)  # FakeLlamaCloud keyword arguments
    def test_something(fake_llamacloud): ...

    @pytest.mark.fake_llamacloud(allow_not_emulated=True, allow_errors=True)
    def test_a_client_that_probes_unknown_routes(fake_llamacloud): ...

A test that parses through the emulator (LlamaParse reads the environment the fixture set):

    def test_parse(fake_llamacloud):
        LlamaParse().parse("a.pdf")
        assert fake_llamacloud.count("POST", "/api/parsing/upload") == 1
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from llama_index_cloudkit._imports import import_testing

if TYPE_CHECKING:  # the emulator needs the [testing] extra: imported when the fixture is used
    from llama_index_cloudkit.testing.gatekeeper import RecordedRequest
    from llama_index_cloudkit.testing.server import FakeLlamaCloud

__all__ = ["STRICTNESS_OPTIONS", "describe_unexpected", "fake_llamacloud"]

# Marker keywords the fixture reads itself; the others go to FakeLlamaCloud.
STRICTNESS_OPTIONS = ("allow_not_emulated", "allow_errors")


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        "fake_llamacloud(connection_close=False, api_key=..., allow_not_emulated=False, "
        "allow_errors=False): configure the LlamaCloud emulator and its teardown checks",
    )


def describe_unexpected(requests: list[RecordedRequest]) -> str:
    """The teardown failure message: one line per unexpected request.

    Example:
        >>> from llama_index_cloudkit.testing.gatekeeper import RecordedRequest
        >>> request = RecordedRequest("GET", "/api/v1/x", {}, {}, status=501, source="not_emulated")
        >>> describe_unexpected([request]).splitlines()[1]
        '  GET /api/v1/x -> 501 (not_emulated)'
    """
    lines = ["The LlamaCloud emulator answered requests the test did not expect:"]
    lines += [f"  {r.method} {r.path} -> {r.status} ({r.source})" for r in requests]
    lines.append(
        "A 501 is a route the emulator does not have: add it, or mark the test "
        "@pytest.mark.fake_llamacloud(allow_not_emulated=True). A 500 that no fault rule "
        "injected is an emulator bug (see the log) or, with allow_errors=True, expected."
    )
    return "\n".join(lines)


@pytest.fixture()
def fake_llamacloud(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FakeLlamaCloud]:
    """A running LlamaCloud emulator; the environment points at it during the test.

    The test also gets its own empty cache directory (``CLOUDKIT_CACHE_DIR``), so parsed results
    and journaled jobs never leak into the user's cache or between tests.
    """
    try:
        server = import_testing("llama_index_cloudkit.testing.server")
    except ImportError as missing:
        pytest.fail(f"fake_llamacloud: {missing}", pytrace=False)
    marker = request.node.get_closest_marker("fake_llamacloud")
    options = dict(marker.kwargs) if marker else {}
    strictness = {name: bool(options.pop(name, False)) for name in STRICTNESS_OPTIONS}
    cache_dir = tmp_path_factory.mktemp("cloudkit-cache")
    with server.FakeLlamaCloud(**options) as fake:
        monkeypatch.setenv("CLOUDKIT_CACHE_DIR", str(cache_dir))
        monkeypatch.setenv("LLAMA_CLOUD_BASE_URL", fake.base_url)
        monkeypatch.setenv("LLAMA_CLOUD_API_KEY", fake.api_key)
        yield fake
        unexpected = fake.unexpected(**strictness)
    if unexpected:
        pytest.fail(describe_unexpected(unexpected), pytrace=False)
