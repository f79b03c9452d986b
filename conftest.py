"""The PostgreSQL server of the test session, and ``postgres_url`` for the docstring examples.

``python -m pytest --doctest-modules llama_index_cloudkit`` runs every docstring example. An
example that names ``postgres_url`` finds there the URL of a fresh, empty database of its own
(so examples never see each other's tables), on one server per session (per xdist worker): the
``pgserver`` wheel's PostgreSQL 16 with pgvector, on a unix socket in a temporary folder (no TCP
port, no network). The server starts the first time an example or a test asks for it; nothing
starts for the others. ``tests/retrieve/postgres`` uses the same server (``postgres_server``).

This file sits at the repository root, outside the package: it is never installed.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_TEMPLATE = "cloudkit_doctest_template"


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
def _postgres_admin(postgres_server: Any) -> Iterator[Any]:
    """An autocommit engine on the server's ``postgres`` database, and a template with pgvector."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    url = sqlalchemy.engine.make_url(str(postgres_server.get_uri())).set(drivername="postgresql+psycopg2")
    admin = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {_TEMPLATE}")
    template = sqlalchemy.create_engine(url.set(database=_TEMPLATE), poolclass=sqlalchemy.pool.NullPool)
    with template.begin() as connection:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
    template.dispose()
    try:
        yield admin
    finally:
        admin.dispose()


@pytest.fixture(autouse=True)
def _postgres_url_for_doctests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Give a docstring example that names ``postgres_url`` a fresh database (dropped after it)."""
    examples = getattr(getattr(request.node, "dtest", None), "examples", None)
    if not examples or not any("postgres_url" in example.source for example in examples):
        yield
        return
    admin = request.getfixturevalue("_postgres_admin")
    namespace = request.getfixturevalue("doctest_namespace")
    name = f"doctest_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE {_TEMPLATE}")
    url = admin.url.set(drivername="postgresql", database=name)
    namespace["postgres_url"] = url.render_as_string(hide_password=False)
    try:
        yield
    finally:
        namespace.pop("postgres_url", None)
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
