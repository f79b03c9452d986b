"""The ``cloudkit`` group: one-line errors with the README's exit codes, and lazy commands.

Every error that stops a command is printed as one line on stderr (``Error: ...``) and exits 2
for usage and configuration errors, 1 for anything else; ``cloudkit --debug ...`` prints the
traceback first. Commands that live in other modules (``tune``) are imported only when used, and
a missing one answers with a one-line error instead of an ImportError.

Example:
    >>> group = CloudKitGroup(lazy_commands={"tune": ("llama_index_cloudkit.cli._tune", "tune", "Tune")})
    >>> sorted(group.lazy_commands)
    ['tune']
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Mapping
from typing import Any, NoReturn

import click

from llama_index_cloudkit.cli._errors import EXIT_USAGE, exit_code_for, one_line
from llama_index_cloudkit.errors import CloudKitError

__all__ = ["CloudKitGroup", "OneLineUsageError", "fail_usage"]

# click >= 8.2 shows the help for a bare group through this UsageError: leave it as it is.
_NO_ARGS_IS_HELP: tuple[type[Exception], ...] = tuple(
    cls for cls in [getattr(click.exceptions, "NoArgsIsHelpError", None)] if cls is not None
)


class OneLineUsageError(click.UsageError):
    """A usage error shown as one line, with where to find help."""

    def __init__(self, message: str, ctx: click.Context | None = None, *, point_to_help: bool = True) -> None:
        super().__init__(message, ctx=ctx)
        self.point_to_help = point_to_help

    def show(self, file: Any = None) -> None:
        """Print ``Error: <message> (see 'cloudkit <command> --help')`` on stderr."""
        where = f" (see '{self.ctx.command_path} --help')" if self.ctx and self.point_to_help else ""
        message = _flatten(self.format_message())
        click.echo(f"Error: {message.rstrip('.') if where else message}{where}", err=True)


def _flatten(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def fail_usage(message: str, cause: BaseException | None = None) -> NoReturn:
    """Stop the command with a one-line usage error (exit code 2).

    Args:
        message: what is wrong, in one line.
        cause: the exception behind it; ``cloudkit --debug`` prints its traceback.
    """
    raise OneLineUsageError(
        message, ctx=click.get_current_context(silent=True), point_to_help=False
    ) from cause


def _one_line_usage(error: click.UsageError) -> OneLineUsageError:
    if isinstance(error, OneLineUsageError):
        return error
    return OneLineUsageError(error.format_message(), ctx=error.ctx)


def _debug(ctx: click.Context) -> bool:
    return bool(ctx.find_root().params.get("debug"))


def _debug_first(args: list[str]) -> list[str]:
    """``args`` with every ``--debug`` before a ``--`` moved to the front (the group's option)."""
    end = args.index("--") if "--" in args else len(args)
    if "--debug" not in args[:end]:
        return args
    rest = [arg for arg in args[:end] if arg != "--debug"] + args[end:]
    return ["--debug", *rest]


def _traceback(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)).rstrip()


class _UnavailableCommand(click.Command):
    """Stands in for a command whose module could not be imported; says why, exits 2."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(
            name,
            help=f"(not available: {reason})",
            context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
            add_help_option=False,
        )
        self.reason = reason

    def invoke(self, ctx: click.Context) -> NoReturn:
        raise OneLineUsageError(f"cloudkit {self.name} is not available: {self.reason}")


class CloudKitGroup(click.Group):
    """A click group that turns every error into one line and the README's exit codes.

    Args:
        lazy_commands: command name -> (module, attribute, one-line help), imported on use.

    Example:
        >>> @click.group(cls=CloudKitGroup)
        ... @click.option("--debug", is_flag=True)
        ... def cli(debug: bool) -> None: ...
    """

    def __init__(
        self,
        *args: Any,
        lazy_commands: Mapping[str, tuple[str, str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    # --- lazy commands ------------------------------------------------------------------------

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, the lazy ones included, sorted."""
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, importing a lazy one on first use."""
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in self.lazy_commands:
            return command
        module_name, attribute, _ = self.lazy_commands[cmd_name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            missing = getattr(exc, "name", None)
            if missing == module_name or (missing and module_name.startswith(missing + ".")):
                reason = f"this installation has no {module_name} module"
            else:
                reason = one_line(exc)
            return _UnavailableCommand(cmd_name, reason)
        loaded = getattr(module, attribute, None)
        if not isinstance(loaded, click.Command):
            return _UnavailableCommand(cmd_name, f"{module_name} has no click command {attribute!r}")
        self.add_command(loaded, cmd_name)
        return loaded

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands without importing the lazy ones (their help is given up front)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(name) for name in names), default=0)
        rows = []
        for name in names:
            if name in self.lazy_commands and name not in self.commands:
                rows.append((name, self.lazy_commands[name][2]))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    # --- errors -------------------------------------------------------------------------------

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Parse the group's own options; a usage error there is one line too.

        ``--debug`` is the group's option but is accepted anywhere before a ``--``, also after
        the subcommand (``cloudkit parse x.pdf --debug``).
        """
        if parent is None:
            args = _debug_first(args)
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _NO_ARGS_IS_HELP:
            raise
        except click.UsageError as exc:
            raise _one_line_usage(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; map what escapes it to one line on stderr and an exit code."""
        try:
            return super().invoke(ctx)
        except _NO_ARGS_IS_HELP:
            raise
        except click.UsageError as exc:
            if exc.__cause__ is not None and _debug(ctx):
                click.echo(_traceback(exc.__cause__), err=True)
            raise _one_line_usage(exc) from exc
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise
        except Exception as exc:
            code = exit_code_for(exc)
            debug = _debug(ctx)
            if debug:
                click.echo(_traceback(exc), err=True)
            # Our own errors say what to do; for anything else, say where to see more.
            unexpected = not debug and code != EXIT_USAGE and not isinstance(exc, CloudKitError)
            hint = " (run 'cloudkit --debug ...' to see the traceback)" if unexpected else ""
            click.echo(f"Error: {one_line(exc)}{hint}", err=True)
            ctx.exit(code)
