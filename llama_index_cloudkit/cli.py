"""The ``cloudkit`` command.

Exit codes: 0 everything worked, 1 some files failed (partial result), 2 usage error.

Example:
    $ cloudkit ask examples/data "How much hay does an adult llama eat per day?"
    $ cloudkit parse examples/data/llama-care-guide.pdf --json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from llama_index_cloudkit._version import __version__
from llama_index_cloudkit.errors import CloudKitError

__all__ = ["main"]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


def _backend_option(default: str, help_text: str) -> Any:
    return click.option(
        "--backend",
        type=click.Choice(["auto", "local", "cloud"]),
        default=default,
        show_default=True,
        help=help_text,
    )


def _fail_usage(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _load_folder_or_files(
    paths: tuple[str, ...], backend: str | None, progress: bool, preset: str = "agentic"
) -> Any:
    from llama_index.core import SimpleDirectoryReader

    from llama_index_cloudkit.parse.local import SUPPORTED_SUFFIXES
    from llama_index_cloudkit.parse.reader import CloudKitReader

    reader = CloudKitReader(backend=backend, preset=preset, on_error="report")
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = SimpleDirectoryReader(
                str(path), recursive=True, required_exts=list(SUPPORTED_SUFFIXES)
            ).input_files
            files.extend(Path(f) for f in found)
        elif path.is_file():
            files.append(path)
        else:
            _fail_usage(f"{raw} is neither a file nor a folder")
    if not files:
        _fail_usage("no readable files found (supported: " + ", ".join(SUPPORTED_SUFFIXES) + ")")
    reader.show_progress = progress
    documents = reader.load_data([str(f) for f in files])
    return documents, reader.last_report


def _report_failures(report: Any) -> int:
    for failure in report.failures:
        click.echo(f"warning: {failure.file}: {failure.error}", err=True)
    return EXIT_PARTIAL if report.failures else EXIT_OK


def _citation(metadata: dict[str, Any]) -> str:
    page = metadata.get("page_label") or metadata.get("page_number")
    return f"{metadata.get('file_name', '?')}, page {page}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cloudkit")
def cli() -> None:
    """LlamaCloud parse, extract and retrieve as LlamaIndex components; works offline too."""


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@_backend_option("local", "Where to parse.")
@click.option(
    "--preset",
    type=click.Choice(["cost_effective", "agentic", "agentic_plus"]),
    default="agentic",
    show_default=True,
    help="LlamaParse preset (cloud backend).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the Documents as JSON lines.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write one markdown file per page into this folder.",
)
def parse(paths: tuple[str, ...], backend: str, preset: str, as_json: bool, out_dir: str | None) -> None:
    """Parse files or folders into one document per page.

    \b
    Examples:
      cloudkit parse examples/data
      cloudkit parse report.pdf --json
      cloudkit parse scans/ --backend cloud --preset agentic_plus
      cloudkit parse examples/data --out parsed/
    """
    try:
        documents, report = _load_folder_or_files(paths, backend, progress=not as_json, preset=preset)
    except CloudKitError as exc:
        _fail_usage(str(exc))
    for doc in documents:
        if as_json:
            click.echo(json.dumps({"text": doc.text, "metadata": doc.metadata}, default=str))
        elif out_dir:
            target = Path(out_dir)
            target.mkdir(parents=True, exist_ok=True)
            name = f"{Path(doc.metadata['file_name']).stem}.p{doc.metadata['page_number']}.md"
            (target / name).write_text(doc.text, encoding="utf-8")
        else:
            click.echo(f"--- {_citation(doc.metadata)} ---")
            click.echo(doc.text)
    click.echo(report.summary(), err=True)
    sys.exit(_report_failures(report))


@cli.command()
@click.argument("target")
@click.argument("question")
@click.option(
    "--top-k", type=click.IntRange(1, 50), default=3, show_default=True, help="How many passages to show."
)
@_backend_option("local", "Where to parse the folder.")
@click.option(
    "--preset",
    type=click.Choice(["balanced", "semantic", "keyword", "fast", "deep"]),
    default="balanced",
    show_default=True,
    help="Retrieval preset.",
)
def ask(target: str, question: str, top_k: int, backend: str, preset: str) -> None:
    """Answer QUESTION from TARGET (a folder, a local index folder, or a LlamaCloud index name).

    The folder is parsed and indexed locally (BM25 + MiniLM embeddings, fused). With no LLM
    configured (offline), prints the best passages and their citations; with OPENAI_API_KEY
    set, an answer with its sources.

    \b
    Examples:
      cloudkit ask examples/data "How much hay does an adult llama eat per day?"
      cloudkit ask docs/ "What is the refund window?" --top-k 5
      cloudkit ask handbook-index "When can I visit?"       (made by cloudkit index)
      cloudkit ask my-llamacloud-index "What changed in 2.1?" (needs LLAMA_CLOUD_API_KEY)
    """
    from llama_index_cloudkit.retrieve.factory import make_query_engine
    from llama_index_cloudkit.retrieve.local import LocalHybridIndex

    path = Path(target)
    report = None
    try:
        if (path / "params.json").is_file():  # a local index made by `cloudkit index`
            engine = make_query_engine(LocalHybridIndex.load(path), preset=preset, rerank_top_n=top_k)
        elif path.exists():
            documents, report = _load_folder_or_files((target,), backend, progress=False)
            if not documents:
                click.echo("No text could be read from " + target, err=True)
                sys.exit(_report_failures(report) or EXIT_PARTIAL)
            engine = make_query_engine(
                LocalHybridIndex.from_documents(documents), preset=preset, rerank_top_n=top_k
            )
        else:  # a LlamaCloud index name
            engine = make_query_engine(target, preset=preset, rerank_top_n=top_k)
    except CloudKitError as exc:
        _fail_usage(f"{exc} (TARGET is a folder, a local index folder or a LlamaCloud index name)")
    response = engine.query(question)
    click.echo(f"Question: {question}")
    if response.metadata and response.metadata.get("llm", "") is None:
        click.echo("No LLM is configured, so here are the most relevant passages:\n")
    else:
        click.echo(f"Answer: {response}\n")
        click.echo("Sources:")
    for rank, hit in enumerate(response.source_nodes, start=1):
        click.echo(f"[{rank}] {_citation(hit.node.metadata)} (score {hit.score or 0:.2f})")
        click.echo("    " + hit.node.get_content().strip().replace("\n", "\n    "))
        click.echo()
    sys.exit(_report_failures(report) if report is not None else EXIT_OK)


@cli.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--name", required=True, help="Index name (LlamaCloud) or label (local).")
@_backend_option("local", "Where to parse and index.")
@click.option(
    "--persist-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Local index folder (default: ./<name>-index).",
)
def index(folder: str, name: str, backend: str, persist_dir: str | None) -> None:
    """Parse FOLDER and build an index: a local hybrid index on disk, or a LlamaCloud index.

    \b
    Examples:
      cloudkit index examples/data --name handbook
      cloudkit ask handbook-index "What is the refund window?"
      cloudkit index reports/ --name reports --backend cloud
    """
    from llama_index_cloudkit.settings import CloudKitSettings

    try:
        documents, report = _load_folder_or_files((folder,), backend, progress=True)
        if not documents:
            click.echo("No text could be read from " + folder, err=True)
            sys.exit(_report_failures(report) or EXIT_PARTIAL)
        if CloudKitSettings.model_validate({"backend": backend}).resolved_backend() == "cloud":
            from llama_index_cloudkit.retrieve.cloud import llamacloud_index_from_documents

            cloud_index = llamacloud_index_from_documents(documents, name, CloudKitSettings())
            click.echo(f"LlamaCloud index {name!r} ({cloud_index.id}): {len(documents)} pages")
        else:
            from llama_index_cloudkit.retrieve.local import LocalHybridIndex

            target = Path(persist_dir or f"{name}-index")
            local_index = LocalHybridIndex.from_documents(documents)
            local_index.persist(target)
            click.echo(
                f"Local index {name!r} in {target}: {len(documents)} pages, {len(local_index)} passages"
            )
    except CloudKitError as exc:
        _fail_usage(str(exc))
    sys.exit(_report_failures(report))


@cli.command()
@click.option(
    "--schema",
    "schema_path",
    type=click.Path(exists=True, dir_okay=False),
    required=True,
    help="A JSON-schema file.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@_backend_option("auto", "cloud: LlamaExtract; local: OPENAI_API_KEY's LLM.")
@click.option(
    "--mode",
    type=click.Choice(["FAST", "BALANCED", "MULTIMODAL", "PREMIUM"]),
    default="BALANCED",
    show_default=True,
    help="LlamaExtract extraction mode.",
)
def extract(schema_path: str, file: str, backend: str, mode: str) -> None:
    """Extract the data described by a JSON schema from FILE; prints JSON.

    The schema is checked against LlamaExtract's rules first: nothing is sent if it fails.

    \b
    Examples:
      cloudkit extract --schema invoice.schema.json invoice.pdf
      cloudkit extract --schema terms.json contract.docx --mode PREMIUM
    """
    from llama_index_cloudkit.extract.tool import extraction_tool
    from llama_index_cloudkit.settings import CloudKitSettings

    try:
        schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
        chosen = CloudKitSettings.model_validate({"backend": backend}).resolved_backend()
        tool = extraction_tool(
            schema=schema,
            backend=chosen,
            config={"extraction_mode": mode},
            allowed_dirs=[Path(file).resolve().parent],
            raise_errors=True,
        )
        output = tool.call(file_path=file)
    except (CloudKitError, ValueError) as exc:
        _fail_usage(str(exc))
    click.echo(output.content)


@cli.command("fake-server")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port on 127.0.0.1 (0 picks a free one).",
)
@click.option(
    "--api-key", default="llx-fake-emulator-key", show_default=True, help="The key clients must send."
)
@click.option(
    "--connection-close",
    is_flag=True,
    help="Answer 'Connection: close' (hides the SDK's keep-alive event-loop trap).",
)
def fake_server(port: int, api_key: str, connection_close: bool) -> None:
    """Run the LlamaCloud emulator until interrupted, for your own tests and demos.

    \b
    Examples:
      cloudkit fake-server --port 8765
      LLAMA_CLOUD_BASE_URL=http://127.0.0.1:8765 LLAMA_CLOUD_API_KEY=llx-fake-emulator-key pytest
    """
    import time

    from llama_index_cloudkit.testing import FakeLlamaCloud

    fake = FakeLlamaCloud(api_key=api_key, port=port, connection_close=connection_close)
    fake.start()
    click.echo(f"LlamaCloud emulator on {fake.base_url}")
    click.echo(f"export LLAMA_CLOUD_BASE_URL={fake.base_url}")
    click.echo(f"export LLAMA_CLOUD_API_KEY={api_key}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        fake.stop()


def main() -> None:
    """Entry point of the ``cloudkit`` console script."""
    cli()


if __name__ == "__main__":
    main()
