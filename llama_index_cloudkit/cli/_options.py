"""Options shared by several commands: the backend and the LlamaCloud connection.

The connection options are the same keywords every cloud-facing constructor takes
(``api_key``, ``base_url``, ``project_name``, ``project_id``, ``organization_id``); they go
through :func:`llama_index_cloudkit.settings.settings_with`, so they win over the environment.

Example:
    >>> settings = command_settings("local", {"base_url": "http://127.0.0.1:8765"})
    >>> settings.base_url, settings.backend
    ('http://127.0.0.1:8765', 'local')
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from llama_index_cloudkit.settings import CONNECTION_FIELDS, CloudKitSettings, settings_with

__all__ = ["backend_option", "command_settings", "connection_options"]

F = TypeVar("F", bound=Callable[..., Any])

_CONNECTION_HELP = {
    "api_key": "LlamaCloud API key (default: LLAMA_CLOUD_API_KEY; prefer the variable, "
    "a key on the command line shows in the process list).",
    "base_url": "LlamaCloud API root (default: LLAMA_CLOUD_BASE_URL, else the US region).",
    "project_name": "LlamaCloud project name (default: LLAMA_CLOUD_PROJECT_NAME, else Default).",
    "project_id": "LlamaCloud project id (default: LLAMA_CLOUD_PROJECT_ID).",
    "organization_id": "LlamaCloud organization id (default: LLAMA_CLOUD_ORGANIZATION_ID).",
}


def backend_option(default: str, help_text: str) -> Callable[[F], F]:
    """The ``--backend auto|local|cloud`` option.

    Example:
        >>> @backend_option("local", "Where to parse.")
        ... def command(backend: str) -> None: ...
    """
    return click.option(
        "--backend",
        type=click.Choice(["auto", "local", "cloud"]),
        default=default,
        show_default=True,
        help=help_text,
    )


def connection_options(function: F) -> F:
    """Add ``--api-key``, ``--base-url``, ``--project-name``, ``--project-id``, ``--organization-id``.

    The command receives them as one ``connection`` dict (values None when not given). Put this
    decorator below ``@cli.command()``.

    Example:
        >>> @click.command()
        ... @connection_options
        ... def command(connection: dict[str, str | None]) -> None: ...
    """

    @functools.wraps(function)
    def with_connection(*args: Any, **kwargs: Any) -> Any:
        connection = {name: kwargs.pop(name, None) for name in CONNECTION_FIELDS}
        return function(*args, connection=connection, **kwargs)

    decorated: Callable[..., Any] = with_connection
    for field in reversed(CONNECTION_FIELDS):
        decorated = click.option(
            "--" + field.replace("_", "-"), field, default=None, help=_CONNECTION_HELP[field]
        )(decorated)
    return decorated  # type: ignore[return-value]


def command_settings(backend: str, connection: Mapping[str, Any]) -> CloudKitSettings:
    """Settings for one command: the environment, then ``--backend``, then the connection options.

    Raises:
        ConfigError: an unknown connection keyword.
        pydantic.ValidationError: a value the settings refuse (for example a base URL without
            http:// or https://).

    Example:
        >>> command_settings("cloud", {"api_key": "llx-1"}).resolved_backend()
        'cloud'
    """
    return settings_with(CloudKitSettings(backend=backend), connection)  # type: ignore[arg-type]
