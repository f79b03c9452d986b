"""``cloudkit index DIR --store postgresql://...`` and ``cloudkit ask postgresql://...`` on a real server."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llama_index_cloudkit.cli import cli

pytest.importorskip("llama_index.vector_stores.postgres")


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_index_a_folder_into_postgresql_then_ask_it_with_citations(
    postgres_url: str, table_name: str, examples_dir: Path
) -> None:
    built = _run(
        "index", str(examples_dir), "--name", "handbook", "--store", postgres_url, "--table", table_name
    )
    assert built.exit_code == 0, built.output
    assert "PostgreSQL index 'handbook'" in built.stdout and f"(table {table_name!r})" in built.stdout
    assert "s3cr3t" not in built.stdout

    answer = _run("ask", postgres_url, "How much hay does an adult llama eat per day?", "--table", table_name)
    assert answer.exit_code == 0, answer.output
    assert "[1] llama-care-guide.pdf, page 2" in answer.stdout
    assert "[3] " in answer.stdout and "[4] " not in answer.stdout


def test_indexing_the_same_folder_again_inserts_nothing(
    postgres_url: str, table_name: str, examples_dir: Path
) -> None:
    args = ["index", str(examples_dir), "--name", "handbook", "--store", postgres_url, "--table", table_name]
    first = _run(*args)
    assert first.exit_code == 0, first.output
    rows = first.stdout.split(" passages inserted, ")[1].split(" in the table")[0]
    again = _run(*args)
    assert again.exit_code == 0, again.output
    assert f"0 passages inserted, {rows} in the table" in again.stdout
    rebuilt = _run(*args, "--overwrite")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"{rows} passages inserted, {rows} in the table" in rebuilt.stdout


def test_ask_on_a_missing_table_is_a_usage_error_saying_how_to_build_it(
    postgres_url: str, table_name: str
) -> None:
    result = _run("ask", postgres_url, "anything?", "--table", table_name)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "cloudkit index" in result.stderr and "--table" in result.stderr


def test_an_unreachable_server_is_a_one_line_error_without_the_password() -> None:
    result = _run("ask", "postgresql://app:s3cr3t-pw@127.0.0.1:9/handbook", "anything?")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "127.0.0.1:9/handbook" in result.stderr
    assert "s3cr3t-pw" not in result.output
