"""Shared fixtures: no network but loopback, a clean environment, the shared corpus."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "data" / "corpus"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"

_ENV_KEYS = (
    "LLAMA_CLOUD_API_KEY",
    "LLAMA_CLOUD_BASE_URL",
    "LLAMA_CLOUD_PROJECT_NAME",
    "LLAMA_CLOUD_PROJECT_ID",
    "LLAMA_CLOUD_ORGANIZATION_ID",
    "CLOUDKIT_BACKEND",
    "CLOUDKIT_CACHE_DIR",
    "CLOUDKIT_API_VERSION",
    "OPENAI_API_KEY",
)


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return isinstance(address, (str, bytes))  # AF_UNIX paths are local


@pytest.fixture(autouse=True)
def _refuse_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection that does not go to 127.0.0.1 / ::1 / a unix socket."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guard(address: object) -> None:
        if not _is_loopback(address):
            raise ConnectionRefusedError(f"tests may not reach the network: {address!r}")

    def connect(self: socket.socket, address: object) -> None:
        guard(address)
        real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        guard(address)
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No key, endpoint or backend leaks in from the developer's shell; caches go to tmp."""
    for key in _ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CLOUDKIT_CACHE_DIR", str(tmp_path_factory.mktemp("cloudkit-cache")))


@pytest.fixture(scope="session")
def corpus() -> Iterator[Path]:
    """The shared test corpus, read in place; tests using it skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(
            f"the shared corpus is not here ({CORPUS}); it ships beside the checkout "
            "in the project's CI, not with the repository"
        )
    yield CORPUS


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    """The project's own example documents."""
    return EXAMPLES


def has_env(name: str) -> bool:
    """Whether an environment variable is set (helper for skip conditions)."""
    return bool(os.environ.get(name))
