"""The PostgreSQL tests' URL and table names, on the session's server (``postgres_server``).

The server itself (the pgserver wheel: PostgreSQL 16 with pgvector on a unix socket, no TCP
port, no network) is the repository root conftest's, shared with the docstring examples. Where
the platform has no pgserver wheel the tests skip, saying so.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest


@pytest.fixture(scope="session")
def postgres_url(postgres_server: Any) -> str:
    """``postgresql://postgres:@/postgres?host=SOCKET_FOLDER`` of the session's server."""
    return str(postgres_server.get_uri())


@pytest.fixture()
def table_name() -> str:
    """A table name of this test's own."""
    return f"t_{uuid.uuid4().hex[:12]}"
