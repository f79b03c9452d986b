"""`cloudkit parse` says what it will cost before paying, holds a budget, and sums up the cost."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from llama_index_cloudkit.cli import cli
from llama_index_cloudkit.testing import FakeLlamaCloud

UPLOAD = ("POST", "/api/parsing/upload")


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _notes(folder: Path, count: int) -> Path:
    folder.mkdir()
    for i in range(count):
        (folder / f"note-{i}.md").write_text(f"# Note {i}\n\nLlama {i} eats hay.")
    return folder


def test_dry_run_prints_the_estimate_and_uploads_nothing(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    result = _run("parse", str(examples_dir), "--backend", "cloud", "--dry-run")
    assert result.exit_code == 0, result.output
    assert fake_llamacloud.requests == []
    header, *rows, total = result.stdout.strip().splitlines()
    assert header.split() == ["file", "pages", "free", "cost_effective", "agentic", "agentic_plus"]
    assert len(rows) == 4 and total.split() == ["total", "5", "15", "50", "225"]
    assert "nothing was uploaded" in result.stderr


def test_dry_run_shows_cached_files_as_free(fake_llamacloud: FakeLlamaCloud, examples_dir: Path) -> None:
    assert _run("parse", str(examples_dir / "faq.html"), "--backend", "cloud").exit_code == 0
    uploads = fake_llamacloud.count(*UPLOAD)
    result = _run("parse", str(examples_dir), "--backend", "cloud", "--dry-run")
    faq = next(line for line in result.stdout.splitlines() if "faq.html" in line)
    # free under the preset it was parsed with (agentic); the other presets would parse it anew
    assert "cached" in faq and faq.split()[-3:] == ["3", "0", "45"]
    assert result.stdout.splitlines()[-1].split()[2:] == ["15", "40", "225"]
    assert fake_llamacloud.count(*UPLOAD) == uploads


def test_max_credits_stops_before_the_budget_is_passed(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    folder = _notes(tmp_path / "notes", 3)  # agentic: 10 credits each
    result = _run("parse", str(folder), "--backend", "cloud", "--max-credits", "25")
    assert result.exit_code == 1
    assert fake_llamacloud.count(*UPLOAD) == 2
    assert "CreditLimitError" in result.stderr or "max_credits" in result.stderr


def test_every_cloud_parse_ends_with_a_cost_line_that_matches_the_report(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    folder = _notes(tmp_path / "notes", 2)
    result = _run("parse", str(folder), "--backend", "cloud", "--preset", "cost_effective")
    assert result.exit_code == 0, result.output
    cost = next(line for line in result.stderr.splitlines() if line.startswith("cost: "))
    assert cost == (
        "cost: 2 file(s), 2 page(s), 0 cache hit(s), about 6 credits estimated, 6 reported by LlamaCloud"
    )
    again = _run("parse", str(folder), "--backend", "cloud", "--preset", "cost_effective")
    assert "cost: 2 file(s), 2 page(s), 2 cache hit(s), about 0 credits estimated" in again.stderr
