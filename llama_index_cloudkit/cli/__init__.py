"""The ``cloudkit`` command.

Exit codes: 0 everything worked, 1 some files failed (partial result) or the service failed,
2 usage or configuration error (bad option, ConfigError, unknown index). Every error is one line
on stderr; ``cloudkit --debug <command> ...`` prints the traceback too.

Example:
    $ cloudkit ask examples/data "How much hay does an adult llama eat per day?"
    $ cloudkit parse examples/data/llama-care-guide.pdf --json
"""

from __future__ import annotations

import click

from llama_index_cloudkit._version import __version__
from llama_index_cloudkit.cli._ask import ask
from llama_index_cloudkit.cli._extract import extract
from llama_index_cloudkit.cli._group import CloudKitGroup
from llama_index_cloudkit.cli._index import index
from llama_index_cloudkit.cli._logging import show_library_logs
from llama_index_cloudkit.cli._parse import parse
from llama_index_cloudkit.cli._server import fake_server

__all__ = ["cli", "main"]

# Commands that live in other modules, imported on first use: name -> (module, attribute, help).
LAZY_COMMANDS = {
    "tune": (
        "llama_index_cloudkit.cli._tune",
        "tune",
        "Tune a local index's retrieval settings on your own judged questions.",
    ),
}


@click.group(
    cls=CloudKitGroup,
    lazy_commands=LAZY_COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="cloudkit")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """LlamaCloud parse, extract and retrieve as LlamaIndex components; works offline too.

    Exit codes: 0 success, 1 some files failed (the rest was processed), 2 usage or
    configuration error.
    """
    show_library_logs(ctx, debug=debug)


for _command in (parse, ask, index, extract, fake_server):
    cli.add_command(_command)


def main() -> None:
    """Entry point of the ``cloudkit`` console script.

    Example:
        >>> import sys
        >>> sys.argv = ["cloudkit", "--version"]
        >>> try:
        ...     main()
        ... except SystemExit as done:
        ...     print("exit", done.code)  # doctest: +ELLIPSIS
        cloudkit, version ...
        exit 0
    """
    cli()


if __name__ == "__main__":
    main()
