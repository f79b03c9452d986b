"""``cloudkit extract``: the data a JSON schema describes, from one file, as JSON.

Example:
    $ cloudkit extract --schema examples/shipping.schema.json examples/data/shipping-policy.docx
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from llama_index_cloudkit.cli._options import backend_option, command_settings, connection_options
from llama_index_cloudkit.errors import ConfigError

__all__ = ["extract"]


def _read_schema(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"The schema file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            file=path,
            hint="Give a JSON-schema file, for example "
            '{"type": "object", "properties": {"total": {"type": "number"}}}',
        ) from exc


@click.command(short_help="Extract the JSON a schema describes from one file.")
@click.option(
    "--schema",
    "schema_path",
    type=click.Path(exists=True, dir_okay=False),
    required=True,
    help="A JSON-schema file.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@backend_option("auto", "cloud: LlamaExtract; local: OPENAI_API_KEY's LLM.")
@click.option(
    "--mode",
    type=click.Choice(["FAST", "BALANCED", "MULTIMODAL", "PREMIUM"]),
    default="BALANCED",
    show_default=True,
    help="LlamaExtract extraction mode.",
)
@connection_options
def extract(schema_path: str, file: str, backend: str, mode: str, connection: dict[str, Any]) -> None:
    """Extract the data described by a JSON schema from FILE; prints JSON.

    The schema is checked against LlamaExtract's rules first: nothing is sent if it fails.
    Exit codes: 2 for a bad schema or setting, 1 when the service fails (refused key, HTTP
    error, failed job).

    \b
    Examples:
      cloudkit extract --schema examples/shipping.schema.json examples/data/shipping-policy.docx
      cloudkit extract --schema examples/shipping.schema.json examples/data/faq.html --mode PREMIUM
    """
    from llama_index_cloudkit.extract.tool import extraction_tool

    schema = _read_schema(schema_path)
    settings = command_settings(backend, connection)
    tool = extraction_tool(
        schema=schema,
        backend=settings.resolved_backend(),
        config={"extraction_mode": mode},
        allowed_dirs=[Path(file).resolve().parent],
        raise_errors=True,
        settings=settings,
    )
    output = tool.call(file_path=file)
    click.echo(output.content)
