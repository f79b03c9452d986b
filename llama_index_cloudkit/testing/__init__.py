"""A LlamaCloud emulator for tests: a real HTTP server on 127.0.0.1 (what moto is for AWS).

Example:
    >>> from llama_index_cloudkit.testing import FakeLlamaCloud
    >>> with FakeLlamaCloud() as fake:  # point LlamaParse / LlamaExtract at base_url, api_key
    ...     fake.base_url.startswith("http://127.0.0.1:")
    True
"""

from llama_index_cloudkit.testing.gatekeeper import FaultRule, RateLimiter, RecordedRequest
from llama_index_cloudkit.testing.jobs import JobScript
from llama_index_cloudkit.testing.server import FakeLlamaCloud
from llama_index_cloudkit.testing.state import EmulatorState

__all__ = ["EmulatorState", "FakeLlamaCloud", "FaultRule", "JobScript", "RateLimiter", "RecordedRequest"]
