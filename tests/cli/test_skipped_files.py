"""Files of types no backend reads are counted and named by suffix, never silently dropped."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from llama_index_cloudkit.cli import cli


def _folder(tmp_path: Path) -> Path:
    for name in ("a.rtf", "b.rtf", "c.xyz"):
        (tmp_path / name).write_text("x")
    return tmp_path


def test_a_folder_of_only_unsupported_files_says_so_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["parse", str(_folder(tmp_path))])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "no readable files found" in lines[0] and ".rtf x2, .xyz x1" in lines[0]
    assert "ValueError" not in result.stderr


def test_skipped_files_are_counted_beside_the_ones_read(tmp_path: Path, examples_dir: Path) -> None:
    folder = _folder(tmp_path)
    shutil.copy(examples_dir / "faq.html", folder)
    result = CliRunner().invoke(cli, ["parse", str(folder), "--backend", "local"])
    assert result.exit_code == 0, result.stderr
    assert "skipped 3 file(s) of unsupported types: .rtf x2, .xyz x1" in result.stderr
    assert "1/1 file(s) read" in result.stderr
