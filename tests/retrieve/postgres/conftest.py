"""One real PostgreSQL server (pgvector, full-text search) for the session, from the pgserver wheel.

The server listens on a unix socket in a temporary folder (no TCP port, no network); each test
gets its own table. Where the platform has no pgserver wheel the tests skip, saying so.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A PostgreSQL 16 server with pgvector, started once per test session (per xdist worker)."""
    pgserver = pytest.importorskip(
        "pgserver", reason="no pgserver wheel for this platform: the PostgreSQL tests need a local server"
    )
    folder = Path(tempfile.mkdtemp(prefix="cloudkit-pg-"))
    server = pgserver.get_server(folder / "data", cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: Any) -> str:
    """``postgresql://postgres:@/postgres?host=SOCKET_FOLDER`` of the session's server."""
    return str(postgres_server.get_uri())


@pytest.fixture()
def table_name() -> str:
    """A table name of this test's own."""
    return f"t_{uuid.uuid4().hex[:12]}"
