"""``cloudkit index``: parse a folder and build an index (local files, LlamaCloud or Qdrant).

Example:
    $ cloudkit index examples/data --name handbook
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from llama_index_cloudkit.cli._errors import EXIT_PARTIAL
from llama_index_cloudkit.cli._group import fail_usage
from llama_index_cloudkit.cli._inputs import gather_files, read_files, report_problems
from llama_index_cloudkit.cli._options import backend_option, command_settings, connection_options
from llama_index_cloudkit.cli._stores import STORE_HELP, build_postgres, build_qdrant, parse_store

__all__ = ["index"]

# The files a persisted LocalHybridIndex is made of; any of them means the folder holds an index.
_INDEX_FILES = ("params.json", "nodes.json", "embeddings.npy")


def _holds_index(folder: Path) -> bool:
    return any((folder / name).exists() for name in _INDEX_FILES)


@click.command(short_help="Parse a folder and build an index: local files, LlamaCloud or Qdrant.")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--name",
    default=None,
    help="Index name: the LlamaCloud index, or the local index (its folder is NAME-index). Not "
    "needed with --persist-dir, --store qdrant:... or --store postgresql://...",
)
@backend_option("local", "Where to parse (and, by default, where to index).")
@click.option(
    "--store", default=None, metavar="local|llamacloud|qdrant:PATH_OR_URL|postgresql://...", help=STORE_HELP
)
@click.option(
    "--persist-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Local index folder (default: ./<name>-index).",
)
@click.option(
    "--collection", default="cloudkit", show_default=True, help="Collection name, for --store qdrant:..."
)
@click.option(
    "--table", default="cloudkit", show_default=True, help="Table name, for --store postgresql://..."
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace an existing index: the local folder (its tuned settings are dropped with it), or a "
    "Qdrant collection or PostgreSQL table that has passages.",
)
@connection_options
def index(
    folder: str,
    name: str | None,
    backend: str,
    store: str | None,
    persist_dir: str | None,
    collection: str,
    table: str,
    overwrite: bool,
    connection: dict[str, Any],
) -> None:
    """Parse FOLDER and build an index: a local hybrid index on disk, a LlamaCloud index, or a
    Qdrant collection.

    \b
    Examples:
      cloudkit index examples/data --name handbook
      cloudkit ask handbook-index "What is the refund window?"
      cloudkit index examples/data --name handbook --backend cloud
      cloudkit index examples/data --store qdrant:./qdrant-data
      cloudkit ask qdrant:./qdrant-data "What is the refund window?"
      cloudkit index examples/data --name handbook --store postgresql://app:secret@db/app
      cloudkit ask postgresql://app:secret@db/app "What is the refund window?"
    """
    settings = command_settings(backend, connection)
    if store is None:
        kind, spec = ("llamacloud" if settings.resolved_backend() == "cloud" else "local"), None
    else:
        kind, spec = parse_store(store)
    if persist_dir is not None and kind != "local":
        fail_usage(f"--persist-dir is for a local index, and the index goes to {store or kind}")
    if name is None and (kind == "llamacloud" or (kind == "local" and persist_dir is None)):
        needed_for = "a LlamaCloud index" if kind == "llamacloud" else "a local index (or give --persist-dir)"
        fail_usage(f"--name is needed for {needed_for}")
    if kind == "llamacloud":
        settings.require_key()  # fail before parsing, not after
    label = name or (store if kind != "local" else persist_dir) or "index"
    target = Path(persist_dir or f"{name}-index")
    if kind == "local" and not overwrite and _holds_index(target):  # refused before any parsing
        fail_usage(
            f"{target} already holds an index: pass --overwrite to replace it (its tuned settings "
            "go with it), or choose another --name / --persist-dir"
        )
    documents, report = read_files(gather_files([folder]), settings, progress=True)
    if not documents:
        report_problems(report)
        click.echo(f"No text could be read from {folder}", err=True)
        sys.exit(EXIT_PARTIAL)
    if kind == "llamacloud":
        from llama_index_cloudkit.retrieve.llamacloud.service import llamacloud_index_from_documents

        cloud_index = llamacloud_index_from_documents(documents, label, settings)
        click.echo(f"LlamaCloud index {label!r} ({cloud_index.id}): {len(documents)} pages")
    elif kind == "qdrant" and spec is not None:
        passages = build_qdrant(documents, spec, collection=collection, overwrite=overwrite)
        click.echo(
            f"Qdrant index {label!r} in {spec} (collection {collection!r}): {len(documents)} pages, "
            f"{passages} passages"
        )
    elif kind == "postgres" and spec is not None:  # postgres hook (issue 25)
        from llama_index_cloudkit.retrieve.postgres.connection import where

        inserted, rows = build_postgres(documents, spec, table=table, overwrite=overwrite)
        click.echo(
            f"PostgreSQL index {label!r} at {where(spec)} (table {table!r}): {len(documents)} pages, "
            f"{inserted} passages inserted, {rows} in the table"
        )
    else:
        from llama_index_cloudkit.retrieve.local import LocalHybridIndex

        local_index = LocalHybridIndex.from_documents(documents)
        local_index.persist(target)
        click.echo(f"Local index {label!r} in {target}: {len(documents)} pages, {len(local_index)} passages")
    sys.exit(report_problems(report))
