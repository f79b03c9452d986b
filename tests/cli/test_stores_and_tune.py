"""``cloudkit index --store qdrant:...`` / ``cloudkit ask qdrant:...``, and ``cloudkit tune``;
each with a one-line error when its module or extra is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llama_index_cloudkit.cli import cli


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _error_line(result: Result) -> str:
    assert "Traceback" not in result.output
    [line] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    return line


@pytest.fixture()
def qdrant_store(tmp_path: Path) -> str:
    pytest.importorskip("qdrant_client")
    return f"qdrant:{tmp_path / 'qdrant-data'}"


def test_index_into_a_qdrant_folder_then_ask_it(qdrant_store: str, examples_dir: Path) -> None:
    result = _run("index", str(examples_dir), "--name", "handbook", "--store", qdrant_store)
    assert result.exit_code == 0, result.output
    assert "Qdrant index 'handbook'" in result.stdout
    result = _run("ask", qdrant_store, "When can I visit the farm?", "--top-k", "2")
    assert result.exit_code == 0, result.output
    assert "[1] faq.html, page 1" in result.stdout
    assert "[2] " in result.stdout and "[3] " not in result.stdout


def test_indexing_into_a_filled_qdrant_collection_needs_overwrite(
    qdrant_store: str, examples_dir: Path
) -> None:
    args = ["index", str(examples_dir), "--name", "handbook", "--store", qdrant_store]
    first = _run(*args)
    assert first.exit_code == 0, first.output
    again = _run(*args)
    assert again.exit_code == 2
    assert "already has" in _error_line(again) and "--overwrite" in _error_line(again)
    rebuilt = _run(*args, "--overwrite")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.stdout == first.stdout  # the same passages, not twice as many


def test_ask_on_an_empty_qdrant_store_is_a_usage_error(qdrant_store: str) -> None:
    result = _run("ask", qdrant_store, "anything?")
    assert result.exit_code == 2
    assert "cloudkit index" in _error_line(result)


def test_an_unknown_store_is_a_usage_error(examples_dir: Path) -> None:
    result = _run("index", str(examples_dir), "--name", "x", "--store", "mysql://db")
    assert result.exit_code == 2
    assert "local, llamacloud, qdrant:PATH_OR_URL or postgresql://" in _error_line(result)


def test_without_the_qdrant_module_the_store_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "llama_index_cloudkit.retrieve.qdrant", None)
    result = _run("ask", f"qdrant:{tmp_path}", "anything?")
    assert result.exit_code == 2
    assert "Qdrant stores are not available" in _error_line(result)


def test_tune_is_a_command_of_cloudkit() -> None:
    assert "tune" in _run("--help").stdout
    result = _run("tune", "--help")
    assert result.exit_code == 0, result.output
    assert "Usage: cli tune" in result.stdout


def test_without_the_tune_module_tune_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_index_cloudkit.cli._tune", None)
    monkeypatch.delitem(cli.commands, "tune", raising=False)  # type: ignore[attr-defined]
    result = _run("tune", "questions.jsonl")
    assert result.exit_code == 2
    assert "cloudkit tune is not available" in _error_line(result)
