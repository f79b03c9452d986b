"""Exit codes and one-line error messages for the ``cloudkit`` command.

| exit code | meaning |
|---|---|
| 0 | everything worked |
| 1 | some files failed, or the service failed (AuthError, ServiceError, JobFailedError, ...) |
| 2 | usage or configuration error (bad option, ConfigError, unknown index, bad schema) |

Example:
    >>> from llama_index_cloudkit.errors import AuthError, ConfigError
    >>> exit_code_for(ConfigError("no key")), exit_code_for(AuthError("401"))
    (2, 1)
    >>> one_line(ValueError("first\\n  second"))
    'ValueError: first second'
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from llama_index_cloudkit.errors import (
    CloudKitError,
    ConfigError,
    SchemaError,
    UnsupportedFileError,
    redact,
)

__all__ = ["EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "cli_syntax", "exit_code_for", "one_line"]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2

# Errors that the user fixes by changing the command, a setting or an install: exit 2.
_USAGE_ERRORS: tuple[type[BaseException], ...] = (
    ConfigError,
    SchemaError,
    UnsupportedFileError,
    ValidationError,
    ImportError,
)


# Hints the library words for Python callers, and what the same advice is on the command line.
_CLI_SYNTAX = (
    (re.compile(r"\bapi_key=\.\.\."), "--api-key KEY"),
    (re.compile(r"\bbackend=['\"](\w+)['\"]"), r"--backend \1"),
    (re.compile(r"\bproject_id=\.\.\."), "--project-id ID"),
    (re.compile(r"\bbase_url=\.\.\."), "--base-url URL"),
    (re.compile(r"\bpreset=['\"](\w+)['\"]"), r"--preset \1"),
)


def cli_syntax(text: str) -> str:
    """A library hint as the command line's advice: ``api_key=...`` becomes ``--api-key KEY``.

    Example:
        >>> cli_syntax("pass api_key=..., or use backend='local' to work offline")
        'pass --api-key KEY, or use --backend local to work offline'
    """
    for pattern, replacement in _CLI_SYNTAX:
        text = pattern.sub(replacement, text)
    return text


def exit_code_for(error: BaseException) -> int:
    """The exit code for an error that stopped a command.

    Example:
        >>> exit_code_for(ImportError("pip install 'llama-index-cloudkit[qdrant]'"))
        2
    """
    return EXIT_USAGE if isinstance(error, _USAGE_ERRORS) else EXIT_PARTIAL


def _flatten(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def one_line(error: BaseException, *, with_type: bool = True) -> str:
    """``error`` as one line without a traceback, with any API key redacted.

    Our own errors show their message and hint; pydantic errors list each field and problem;
    anything else is prefixed with its type (unless ``with_type`` is False), since its message
    alone may not say what failed.

    Example:
        >>> from llama_index_cloudkit.errors import SchemaError
        >>> one_line(SchemaError(["$: root must be of type 'object'", "$.a: 'format' is not supported"]))
        "2 schema problem(s): $: root must be of type 'object'; $.a: 'format' is not supported"
    """
    if isinstance(error, SchemaError):
        text = f"{len(error.problems)} schema problem(s): " + "; ".join(error.problems)
        if error.hint:
            text += f". {error.hint}"
    elif isinstance(error, ValidationError):
        problems = [
            ".".join(str(part) for part in item["loc"]) + ": " + item["msg"] if item["loc"] else item["msg"]
            for item in error.errors()
        ]
        text = f"invalid {error.title}: " + "; ".join(problems)
    elif isinstance(error, CloudKitError):
        text = str(error)
    else:
        message = str(error)
        name = type(error).__name__
        text = (f"{name}: {message}" if with_type else message) if message else name
    return redact(cli_syntax(_flatten(text)))
