"""FakeLlamaCloud: the emulator as a real HTTP server on 127.0.0.1, in a background thread.

Example:
    >>> import httpx
    >>> with FakeLlamaCloud() as fake:  # point LlamaParse / LlamaExtract at base_url, api_key
    ...     answer = httpx.get(fake.base_url + "/api/v1/projects",
    ...                        headers={"Authorization": f"Bearer {fake.api_key}"})
    >>> answer.json()[0]["name"], fake.count("GET", "/api/v1/projects")
    ('Default', 1)
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

from llama_index_cloudkit._imports import require
from llama_index_cloudkit.testing.controls import ControlPlane

__all__ = ["FakeLlamaCloud"]


class FakeLlamaCloud(ControlPlane):
    """An emulated LlamaCloud API for tests, served over HTTP: the control plane on a real socket.

    Args:
        api_key: the key clients must send as ``Authorization: Bearer ...``.
        port: 0 picks a free port.
        connection_close: answer ``Connection: close`` on every response. Off by default, like
            the real API, so that clients that reuse connections across event loops fail here
            as they would in production.

    Example:
        >>> fake = FakeLlamaCloud().start()
        >>> fake.base_url.startswith("http://127.0.0.1:")
        True
        >>> fake.stop()
    """

    def __init__(
        self,
        api_key: str = "llx-fake-emulator-key",
        port: int = 0,
        connection_close: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(api_key, connection_close)
        self.host = host
        self._requested_port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> FakeLlamaCloud:
        """Start serving; returns self once the server accepts connections.

        After a :meth:`stop`, it serves again on the same port (so ``base_url`` stays valid),
        with the state, scripts, faults and request log it had.

        Example:
            >>> fake = FakeLlamaCloud().start()
            >>> fake.running
            True
            >>> fake.stop()
        """
        if self._server is not None:
            return self
        uvicorn = require("uvicorn", "testing")
        config = uvicorn.Config(
            self._gate,
            host=self.host,
            port=self.port if self.port is not None else self._requested_port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="FakeLlamaCloud", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start on {self.host}")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end.

        Example:
            >>> fake = FakeLlamaCloud().start()
            >>> fake.stop()
            >>> fake.running
            False
        """
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def restart(self, timeout: float = 10.0) -> FakeLlamaCloud:
        """Stop, then serve again on the same port with the same state (an outage in a test).

        Open keep-alive connections are closed by the stop, as a real restart would.

        Example:
            >>> import httpx
            >>> fake = FakeLlamaCloud().start()
            >>> port = fake.port
            >>> _ = httpx.get(fake.base_url + "/api/v1/projects")
            >>> fake.restart().port == port, fake.count("GET", "/api/v1/projects")  # the log survives
            (True, 1)
            >>> fake.stop()
        """
        self.stop()
        return self.start(timeout)

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections.

        Example:
            >>> with FakeLlamaCloud() as fake:
            ...     fake.running
            True
        """
        return self._server is not None and bool(self._server.started)

    def __enter__(self) -> FakeLlamaCloud:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The URL to pass as ``base_url`` (or ``LLAMA_CLOUD_BASE_URL``).

        Example:
            >>> with FakeLlamaCloud(port=0) as fake:
            ...     fake.base_url == f"http://127.0.0.1:{fake.port}"
            True
        """
        if self.port is None:
            raise RuntimeError("the emulator is not started: call start() or use `with`")
        return f"http://{self.host}:{self.port}"
