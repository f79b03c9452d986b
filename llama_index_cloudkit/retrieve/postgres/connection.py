"""How the PostgreSQL index reaches its server: the URL, the engines, and the one error translation.

A user gives one ``postgresql://user:password@host:5432/database`` URL (the form every managed
service prints: Supabase, Neon, Cloud SQL, AlloyDB, RDS); a unix socket folder goes in the
``host`` query parameter (``postgresql://postgres@/postgres?host=/tmp/pg``). From it come the
two SQLAlchemy engines LlamaIndex's ``PGVectorStore`` wants (psycopg2 and asyncpg). Every
database error is translated here, once: a server that cannot be reached or refuses the login is
a :class:`ServiceError` / :class:`ConfigError` naming the host and database, never the password.

Example:
    >>> where("postgresql://bob:s3cret@db.internal:5433/app")
    'db.internal:5433/app'
    >>> driver_urls("postgresql://bob:s3cret@db.internal/app")[0].drivername
    'postgresql+psycopg2'
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from llama_index_cloudkit._imports import require
from llama_index_cloudkit.errors import ConfigError, ServiceError

__all__ = ["SCHEMES", "driver_urls", "make_engines", "postgres_errors", "where"]

SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg2://")

_AUTH_WORDS = ("password authentication failed", "no password supplied", "role ", "pg_hba.conf")


def _url(url: str) -> Any:
    sqlalchemy = require("sqlalchemy", "postgres", package="llama-index-vector-stores-postgres")
    text = url.strip()
    if not text.lower().startswith(SCHEMES):
        raise ConfigError(
            "A PostgreSQL URL starts with postgresql://",
            hint="For example postgresql://user:password@host:5432/database",
        )
    try:
        return sqlalchemy.engine.make_url(text)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError: the text is not a URL
        raise ConfigError(
            "The PostgreSQL URL cannot be read", hint="Use postgresql://user:password@host:5432/database"
        ) from exc


def where(url: str) -> str:
    """``host:port/database`` (or ``socket-folder/database``) of a URL, never its password.

    Example:
        >>> where("postgresql://postgres:@/postgres?host=/tmp/pg")
        '/tmp/pg/postgres'
    """
    parsed = _url(url)
    host = parsed.host or parsed.query.get("host") or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{host}{port}/{parsed.database or ''}"


def driver_urls(url: str) -> tuple[Any, Any]:
    """The psycopg2 and asyncpg SQLAlchemy URLs of a ``postgresql://`` URL.

    Example:
        >>> driver_urls("postgres://u@h/db")[1].drivername
        'postgresql+asyncpg'
    """
    parsed = _url(url)
    return parsed.set(drivername="postgresql+psycopg2"), parsed.set(drivername="postgresql+asyncpg")


def make_engines(url: str, *, pool_size: int = 5) -> tuple[Any, Any]:
    """The sync (psycopg2) and async (asyncpg) engines; neither connects before it is used.

    Example:
        >>> engine, async_engine = make_engines("postgresql://bob:s3cret@db.internal/app")
        >>> engine.url.drivername, async_engine.url.drivername
        ('postgresql+psycopg2', 'postgresql+asyncpg')
        >>> engine.dispose()
    """
    sqlalchemy = require("sqlalchemy", "postgres", package="llama-index-vector-stores-postgres")
    asyncio_ext = require("sqlalchemy.ext.asyncio", "postgres", package="llama-index-vector-stores-postgres")
    sync_url, async_url = driver_urls(url)
    engine = sqlalchemy.create_engine(
        sync_url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )
    async_engine = asyncio_ext.create_async_engine(async_url, pool_size=pool_size, max_overflow=pool_size)
    return engine, async_engine


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0]


@contextlib.contextmanager
def postgres_errors(action: str, place: str) -> Iterator[None]:
    """Translate SQLAlchemy / driver errors into ServiceError or ConfigError (one place).

    ``place`` names the server (``where(url)``) and the table; the password is never in it,
    and the driver's message (which never echoes it) is kept to its first line.

    Example:
        >>> from sqlalchemy import text
        >>> engine, _ = make_engines(postgres_url)
        >>> with postgres_errors("count rows", where(postgres_url)), engine.connect() as connection:
        ...     connection.execute(text("SELECT count(*) FROM missing"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ServiceError: PostgreSQL at ... refused to count rows: ...
        >>> engine.dispose()
    """
    exc_module = require("sqlalchemy.exc", "postgres", package="llama-index-vector-stores-postgres")
    try:
        yield
    except exc_module.OperationalError as exc:
        detail = _first_line(exc)
        if any(word in detail for word in _AUTH_WORDS):
            raise ConfigError(
                f"PostgreSQL at {place} refused the login to {action}: {detail}",
                hint="Check the user and password in the URL, and the server's pg_hba.conf",
            ) from exc
        raise ServiceError(
            f"Could not reach PostgreSQL at {place} to {action}: {detail}",
            hint="Check that the server is running and that the host, port and database are right",
        ) from exc
    except exc_module.DBAPIError as exc:
        raise ServiceError(
            f"PostgreSQL at {place} refused to {action}: {_first_line(exc)}",
            hint="Check the user's privileges on the database and the table",
        ) from exc
