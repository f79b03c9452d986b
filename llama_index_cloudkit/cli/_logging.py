"""Library log lines in the ``cloudkit`` command: errors only, or everything with ``--debug``.

The command prints each failed file and each warning itself, from the reader's report, so the
library's own warning lines would say the same thing twice. During one command, a handler on the
``llama_index_cloudkit`` logger shows ERROR records (every record, DEBUG up, with ``--debug``);
it is removed, and the logger's level restored, when the command ends.

Example:
    >>> ctx = click.Context(click.Command("x"))
    >>> with ctx:
    ...     show_library_logs(ctx, debug=False)
"""

from __future__ import annotations

import logging

import click

__all__ = ["show_library_logs"]

_PACKAGE_LOGGER = "llama_index_cloudkit"


class _EchoHandler(logging.Handler):
    """Writes records to the command's stderr (whatever ``sys.stderr`` is at the time)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            click.echo(f"{record.levelname.lower()}: {self.format(record)}", err=True)
        except Exception:
            self.handleError(record)


def show_library_logs(ctx: click.Context, *, debug: bool) -> None:
    """Show the package's log records on stderr for the rest of the command ``ctx``."""
    logger = logging.getLogger(_PACKAGE_LOGGER)
    handler = _EchoHandler(logging.DEBUG if debug else logging.ERROR)
    if debug:
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    previous_level = logger.level
    logger.addHandler(handler)
    if debug:
        logger.setLevel(logging.DEBUG)

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)

    ctx.call_on_close(restore)
