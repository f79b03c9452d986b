"""`cloudkit parse --dry-run`: rows and total agree, cached rows are free for their preset, and
files a real run would refuse are flagged, not priced."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from llama_index_cloudkit.cli import cli
from llama_index_cloudkit.testing import FakeLlamaCloud


def _rows(output: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split()[1:] for line in output.splitlines() if line.strip()}


def test_cached_rows_are_free_for_their_preset_and_the_total_agrees(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path, examples_dir: Path
) -> None:
    shutil.copy(examples_dir / "faq.html", tmp_path)
    shutil.copy(examples_dir / "release-notes.md", tmp_path)
    runner = CliRunner()
    paid = runner.invoke(cli, ["parse", str(tmp_path / "faq.html"), "--backend", "cloud", "--json"])
    assert paid.exit_code == 0, paid.output
    dry = runner.invoke(cli, ["parse", str(tmp_path), "--dry-run", "--preset", "agentic"])
    assert dry.exit_code == 0, dry.output
    rows = _rows(dry.stdout)
    header = rows.pop("file")
    column = {name: i for i, name in enumerate(header)}  # rows without a "free" cell shift by one
    faq = next(v for k, v in rows.items() if k.endswith("faq.html"))
    notes = next(v for k, v in rows.items() if k.endswith("release-notes.md"))
    assert faq[1] == "cached"
    assert faq[column["agentic"]] == "0"  # free under the preset it was cached for
    assert faq[column["cost_effective"]] == "3"  # cache entries are per preset
    assert rows["total"][column["agentic"] - 1] == notes[column["agentic"] - 1]  # rows and total agree
    assert fake_llamacloud.count("POST", "/api/parsing/upload") == 1  # the dry run uploaded nothing


def test_files_a_run_would_refuse_are_flagged_not_priced(tmp_path: Path) -> None:
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "broken.pdf").write_bytes(b"this is not a PDF")
    (tmp_path / "ok.md").write_text("# Fine\n\nA page.")
    result = CliRunner().invoke(cli, ["parse", str(tmp_path), "--dry-run"])
    assert result.exit_code == 0, result.output
    unreadable = [line for line in result.stdout.splitlines() if line.startswith("unreadable:")]
    assert len(unreadable) == 2, result.stdout
    assert any("empty.pdf" in line and "empty" in line for line in unreadable)
    assert any("broken.pdf" in line for line in unreadable)
    rows = _rows(result.stdout)
    assert rows["total"][0] == "1"  # only ok.md's page is counted
    assert "2 unreadable" in result.stderr
