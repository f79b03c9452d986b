"""``cloudkit parse``: files or folders into one document per page.

Example:
    $ cloudkit parse examples/data --out parsed/
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from llama_index_cloudkit.cli._group import fail_usage
from llama_index_cloudkit.cli._inputs import gather_files, read_files, report_problems
from llama_index_cloudkit.cli._options import backend_option, command_settings, connection_options
from llama_index_cloudkit.cli._outputs import OutputExistsError, OutputPlan
from llama_index_cloudkit.parse.presets import ParsePreset
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["parse"]


@click.command()
@click.argument("paths", nargs=-1, required=True)
@backend_option("local", "Where to parse.")
@click.option(
    "--preset",
    type=click.Choice([p.value for p in ParsePreset]),
    default="agentic",
    show_default=True,
    help="LlamaParse preset (cloud backend; fast needs CLOUDKIT_API_VERSION=v2).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print what LlamaParse would cost (pages, cached files, credits per preset) and exit; "
    "nothing is uploaded.",
)
@click.option(
    "--max-credits",
    type=click.FloatRange(min=0),
    default=None,
    help="Cloud: a budget; a file that would pass it is not submitted (it is reported as failed).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the Documents as JSON lines.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write one markdown file per page into this folder (a.pdf -> a.pdf.p1.md, sub/a.pdf -> "
    "sub/a.pdf.p1.md).",
)
@click.option("--overwrite", is_flag=True, help="With --out: replace page files left by an earlier run.")
@connection_options
def parse(
    paths: tuple[str, ...],
    backend: str,
    preset: str,
    as_json: bool,
    out_dir: Path | None,
    overwrite: bool,
    dry_run: bool,
    max_credits: float | None,
    connection: dict[str, Any],
) -> None:
    """Parse files or folders into one document per page.

    \b
    Examples:
      cloudkit parse examples/data
      cloudkit parse examples/data/llama-care-guide.pdf --json
      cloudkit parse examples/data --backend cloud --preset agentic_plus
      cloudkit parse examples/data --dry-run     # what it would cost, per preset
      cloudkit parse examples/data --backend cloud --max-credits 500
      cloudkit parse examples/data --out parsed/
    """
    if as_json and out_dir is not None:
        fail_usage("--json prints to the terminal and --out writes files: choose one")
    if overwrite and out_dir is None:
        fail_usage("--overwrite only applies with --out")
    settings = command_settings(backend, connection)
    files = gather_files(paths, exclude=out_dir)
    if dry_run:
        _print_estimate(files, settings, preset)
        return
    plan = OutputPlan(out_dir, files) if out_dir is not None else None
    if plan is not None and not overwrite:
        existing = plan.existing_outputs()
        if existing:  # refuse before parsing, so a refused run costs no credits
            raise OutputExistsError(existing[0])
    documents, report = read_files(
        files, settings, preset=preset, progress=not as_json, max_credits=max_credits
    )
    from llama_index_cloudkit.retrieve.passages import format_citation

    written = 0
    for doc in documents:
        if as_json:
            click.echo(json.dumps({"text": doc.text, "metadata": doc.metadata}, default=str))
        elif plan is not None:
            plan.write(plan.page_path(doc.metadata), doc.text, overwrite=overwrite)
            written += 1
        else:
            click.echo(f"--- {format_citation(doc.metadata)} ---")
            click.echo(doc.text)
    click.echo(report.summary(), err=True)
    if settings.resolved_backend() == "cloud":
        click.echo(f"cost: {report.cost_summary()}", err=True)
    if plan is not None:
        click.echo(f"wrote {written} page file(s) to {plan.out_dir}", err=True)
    sys.exit(report_problems(report))


def _print_estimate(files: list[Path], settings: CloudKitSettings, preset: str) -> None:
    """The dry run: a table of what each file would cost, from the files and the local cache only."""
    from llama_index_cloudkit.parse.inputs import FileInput
    from llama_index_cloudkit.parse.reader import CloudKitReader

    offline = settings.model_copy(update={"backend": "local"})  # no key needed to estimate
    labels: list[FileInput] = [
        os.path.relpath(f) if Path(f).resolve().is_relative_to(Path.cwd()) else str(f) for f in files
    ]
    report = CloudKitReader(settings=offline, preset=preset).estimate(labels)
    click.echo(report.table())
    click.echo(f"dry run: {report.summary()}; nothing was uploaded", err=True)
