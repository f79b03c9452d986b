"""A LlamaCloud emulator for tests: a real HTTP server on 127.0.0.1 (what moto is for AWS).

It needs the ``[testing]`` extra (fastapi, uvicorn): ``pip install "llama-index-cloudkit[testing]"``.
Importing this package does not: the names below load on first use, so the pytest plugin this
package registers never breaks a project that installed the package without the extra.

Example:
    >>> from llama_index_cloudkit.testing import FakeLlamaCloud
    >>> with FakeLlamaCloud() as fake:  # point LlamaParse / LlamaExtract at base_url, api_key
    ...     fake.base_url.startswith("http://127.0.0.1:")
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_index_cloudkit._imports import import_testing

if TYPE_CHECKING:
    from llama_index_cloudkit.testing.gatekeeper import FaultRule, RateLimiter, RecordedRequest
    from llama_index_cloudkit.testing.jobs import JobScript
    from llama_index_cloudkit.testing.server import FakeLlamaCloud
    from llama_index_cloudkit.testing.state import EmulatorState

__all__ = ["EmulatorState", "FakeLlamaCloud", "FaultRule", "JobScript", "RateLimiter", "RecordedRequest"]

# Each public name and the module that defines it, imported when the name is first asked for.
_DEFINED_IN = {
    "EmulatorState": "llama_index_cloudkit.testing.state",
    "FakeLlamaCloud": "llama_index_cloudkit.testing.server",
    "FaultRule": "llama_index_cloudkit.testing.gatekeeper",
    "JobScript": "llama_index_cloudkit.testing.jobs",
    "RateLimiter": "llama_index_cloudkit.testing.gatekeeper",
    "RecordedRequest": "llama_index_cloudkit.testing.gatekeeper",
}


def __getattr__(name: str) -> Any:
    module = _DEFINED_IN.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_testing(module), name)
