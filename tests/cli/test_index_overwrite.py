"""`cloudkit index` never silently replaces an index, and a replaced index keeps no stale tuning."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from llama_index_cloudkit.cli import cli


def test_indexing_twice_needs_overwrite_and_drops_the_old_tuning(
    tmp_path: Path, examples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    first = runner.invoke(cli, ["index", str(examples_dir), "--name", "handbook"])
    assert first.exit_code == 0, first.stderr
    target = tmp_path / "handbook-index"
    (target / "retrieval.json").write_text('{"stale": true}')  # as if tuned before
    stamp = os.stat(target / "nodes.json").st_mtime_ns

    again = runner.invoke(cli, ["index", str(examples_dir), "--name", "handbook"])
    assert again.exit_code == 2
    lines = [line for line in again.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--overwrite" in lines[0], again.stderr
    assert os.stat(target / "nodes.json").st_mtime_ns == stamp  # untouched
    assert "Parsing" not in again.stderr  # refused before parsing anything

    replaced = runner.invoke(cli, ["index", str(examples_dir), "--name", "handbook", "--overwrite"])
    assert replaced.exit_code == 0, replaced.stderr
    assert not (target / "retrieval.json").exists()  # tuning of the old index is not applied to the new


def test_name_is_optional_where_it_means_nothing(
    tmp_path: Path, examples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("qdrant_client")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    qdrant = runner.invoke(cli, ["index", str(examples_dir), "--store", f"qdrant:{tmp_path / 'q'}"])
    assert qdrant.exit_code == 0, qdrant.output
    local = runner.invoke(cli, ["index", str(examples_dir), "--persist-dir", str(tmp_path / "idx")])
    assert local.exit_code == 0, local.output
    needed = runner.invoke(cli, ["index", str(examples_dir)])
    assert needed.exit_code == 2 and "--name is needed for a local index" in needed.stderr
