"""``cloudkit ask``: a question over a folder, a local index, a Qdrant store or a LlamaCloud index.

Example:
    $ cloudkit ask examples/data "How much hay does an adult llama eat per day?"
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from pydantic import ValidationError

from llama_index_cloudkit.cli._errors import EXIT_OK, EXIT_PARTIAL, one_line
from llama_index_cloudkit.cli._group import fail_usage
from llama_index_cloudkit.cli._inputs import gather_files, read_files, report_problems
from llama_index_cloudkit.cli._options import backend_option, command_settings, connection_options
from llama_index_cloudkit.cli._stores import POSTGRES_SCHEMES, QDRANT_PREFIX, open_postgres, open_qdrant
from llama_index_cloudkit.errors import CloudKitError, ConfigError
from llama_index_cloudkit.retrieve.presets import RetrievalPreset
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["ask"]


def _index_for(target: str, settings: CloudKitSettings, collection: str, table: str) -> tuple[Any, Any]:
    """The thing to query for ``target``, and the parse report when a folder was read."""
    path = Path(target)
    if target.lower().startswith(POSTGRES_SCHEMES):  # postgres hook (issue 25)
        return open_postgres(target, table=table), None
    if target.startswith(QDRANT_PREFIX):
        return open_qdrant(target, collection=collection), None
    if (path / "params.json").is_file():  # a local index made by `cloudkit index`
        from llama_index_cloudkit.retrieve.local import LocalHybridIndex

        return LocalHybridIndex.load(path), None
    if path.exists():
        from llama_index_cloudkit.retrieve.local import LocalHybridIndex

        documents, report = read_files(gather_files([target]), settings)
        if not documents:
            report_problems(report)
            click.echo(f"No text could be read from {target}", err=True)
            sys.exit(EXIT_PARTIAL)
        return LocalHybridIndex.from_documents(documents), report
    return target, None  # a LlamaCloud index name


def _engine(target: Any, preset: str | None, settings: CloudKitSettings, top_k: int, name: str) -> Any:
    from llama_index_cloudkit.retrieve.factory import make_query_engine

    # top_k is the final count without reranking, rerank_top_n with it: N wins either way.
    overrides: dict[str, Any] = {"top_k": top_k, "rerank_top_n": top_k}
    if not isinstance(target, str):
        return make_query_engine(target, preset=preset, settings=settings, **overrides)
    try:
        return make_query_engine(target, preset=preset, settings=settings, **overrides)
    except CloudKitError as exc:
        if not isinstance(exc, ConfigError):
            raise  # AuthError, ServiceError: the service failed, exit 1
        _not_an_index(name, exc)
    except ValidationError:
        raise  # settings out of range: the group says which, exit 2
    except ValueError as exc:  # the SDK's "Unknown index name ..."
        _not_an_index(name, exc)


def _not_an_index(name: str, error: BaseException) -> NoReturn:
    fail_usage(
        f"{name!r} is not a folder or a local index folder, so it was taken as a LlamaCloud index "
        f"name, and that failed: {one_line(error, with_type=False)}",
        cause=error,
    )


@click.command(short_help="Answer a question from a folder, a local or Qdrant index, or a LlamaCloud index.")
@click.argument("target")
@click.argument("question")
@click.option(
    "--top-k",
    type=click.IntRange(1, 50),
    default=3,
    show_default=True,
    help="How many passages to show (exactly this many when the index has them).",
)
@backend_option("local", "Where to parse the folder.")
@click.option(
    "--preset",
    type=click.Choice([p.value for p in RetrievalPreset]),
    default=None,
    help="Retrieval preset (default: the index's tuned settings from cloudkit tune, else balanced).",
)
@click.option(
    "--collection",
    default="cloudkit",
    show_default=True,
    help="Collection name, for a qdrant:PATH_OR_URL target.",
)
@click.option(
    "--table", default="cloudkit", show_default=True, help="Table name, for a postgresql://... target."
)
@connection_options
def ask(
    target: str,
    question: str,
    top_k: int,
    backend: str,
    preset: str | None,
    collection: str,
    table: str,
    connection: dict[str, Any],
) -> None:
    """Answer QUESTION from TARGET: a folder, a local index folder, qdrant:PATH_OR_URL,
    postgresql://..., or a LlamaCloud index name.

    A folder is parsed and indexed locally (BM25 + MiniLM embeddings, fused). With no LLM
    configured (offline), prints the best passages and their citations; with OPENAI_API_KEY
    set, an answer with its sources.

    \b
    Examples:
      cloudkit ask examples/data "How much hay does an adult llama eat per day?"
      cloudkit ask examples/data "What is the refund window?" --top-k 5
      cloudkit ask handbook-index "When can I visit?"       (made by cloudkit index)
      cloudkit ask qdrant:./qdrant-data "When can I visit?" (made by cloudkit index --store)
      cloudkit ask postgresql://app:secret@db/app "When can I visit?" --table handbook
      cloudkit ask my-llamacloud-index "What changed in 2.1?" (needs LLAMA_CLOUD_API_KEY)
    """
    from llama_index_cloudkit.retrieve.passages import format_citation

    settings = command_settings(backend, connection)
    index, report = _index_for(target, settings, collection, table)
    try:
        response = _engine(index, preset, settings, top_k, target).query(question)
    finally:
        if target.startswith(QDRANT_PREFIX) or target.lower().startswith(POSTGRES_SCHEMES):
            index.close()  # the embedded engine locks its folder until closed
    click.echo(f"Question: {question}")
    if response.metadata and response.metadata.get("llm", "") is None:
        click.echo("No LLM is configured, so here are the most relevant passages:\n")
    else:
        click.echo(f"Answer: {response}\n")
        click.echo("Sources:")
    for rank, hit in enumerate(response.source_nodes, start=1):
        click.echo(f"[{rank}] {format_citation(hit.node.metadata)} (score {hit.score or 0:.2f})")
        click.echo("    " + hit.node.get_content().strip().replace("\n", "\n    "))
        click.echo()
    sys.exit(report_problems(report) if report is not None else EXIT_OK)
