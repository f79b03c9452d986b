"""``cloudkit parse --out`` never overwrites silently: distinct names, and a refusal or --overwrite."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llama_index_cloudkit.cli import cli


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture()
def same_stems(tmp_path: Path, examples_dir: Path) -> Path:
    """a.md, a.html and sub/a.md: three one-page files with the same stem."""
    inputs = tmp_path / "inputs"
    (inputs / "sub").mkdir(parents=True)
    (inputs / "a.md").write_text("# Top-level markdown\n\nfirst")
    shutil.copy(examples_dir / "faq.html", inputs / "a.html")
    (inputs / "sub" / "a.md").write_text("# Nested markdown\n\nsecond")
    return inputs


def _outputs(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_three_files_with_the_same_stem_give_three_outputs(same_stems: Path, tmp_path: Path) -> None:
    out = tmp_path / "parsed"
    result = _run("parse", str(same_stems), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "3/3 file(s) read" in result.stderr
    assert _outputs(out) == ["a.html.p1.md", "a.md.p1.md", "sub/a.md.p1.md"]
    assert "first" in (out / "a.md.p1.md").read_text()
    assert "second" in (out / "sub" / "a.md.p1.md").read_text()


def test_files_given_one_by_one_are_named_from_their_common_folder(same_stems: Path, tmp_path: Path) -> None:
    out = tmp_path / "parsed"
    files = [str(same_stems / "a.md"), str(same_stems / "sub" / "a.md")]
    result = _run("parse", *files, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert _outputs(out) == ["a.md.p1.md", "sub/a.md.p1.md"]


def test_a_second_run_refuses_to_overwrite_and_changes_nothing(same_stems: Path, tmp_path: Path) -> None:
    out = tmp_path / "parsed"
    assert _run("parse", str(same_stems), "--out", str(out)).exit_code == 0
    (out / "a.md.p1.md").write_text("my notes")
    result = _run("parse", str(same_stems), "--out", str(out))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    [line] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "already there" in line and "--overwrite" in line
    assert (out / "a.md.p1.md").read_text() == "my notes"


def test_overwrite_replaces_the_outputs_of_an_earlier_run(same_stems: Path, tmp_path: Path) -> None:
    out = tmp_path / "parsed"
    assert _run("parse", str(same_stems), "--out", str(out)).exit_code == 0
    (out / "a.md.p1.md").write_text("stale")
    result = _run("parse", str(same_stems), "--out", str(out), "--overwrite")
    assert result.exit_code == 0, result.output
    assert "first" in (out / "a.md.p1.md").read_text()
    assert len(_outputs(out)) == 3


def test_an_output_folder_inside_the_input_folder_is_not_read_back(same_stems: Path) -> None:
    out = same_stems / "parsed"
    assert _run("parse", str(same_stems), "--out", str(out)).exit_code == 0
    result = _run("parse", str(same_stems), "--out", str(out), "--overwrite")
    assert result.exit_code == 0, result.output
    assert "3/3 file(s) read" in result.stderr
    assert len(_outputs(out)) == 3


def test_json_and_out_together_is_a_usage_error(same_stems: Path, tmp_path: Path) -> None:
    result = _run("parse", str(same_stems), "--json", "--out", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert not (tmp_path / "x").exists()
