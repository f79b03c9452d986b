"""`cloudkit tune NAME` finds the local index `cloudkit index --name NAME` built."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llama_index_cloudkit.cli import cli

QUESTIONS = [
    ("How much hay does an adult llama eat per day?", [["llama-care-guide.pdf", 1]]),
    ("When can I visit?", [["faq.html", 1]]),
    ("What is the refund window?", [["faq.html", 1]]),
    ("How often should llamas be sheared?", [["llama-care-guide.pdf", 1]]),
]


def test_tune_takes_the_name_given_to_index(
    tmp_path: Path, examples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["index", str(examples_dir), "--name", "handbook"]).exit_code == 0
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps({"question": q, "relevant": r}) + "\n" for q, r in QUESTIONS))
    result = runner.invoke(cli, ["tune", "handbook", "--questions", str(questions), "--no-save"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "handbook-index" / "tuning" / "tuning.md").is_file()


def test_an_unknown_name_says_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q.jsonl").write_text("")
    result = CliRunner().invoke(cli, ["tune", "nosuch", "--questions", "q.jsonl"])
    assert result.exit_code == 2
    assert "cloudkit index FOLDER --name nosuch" in result.stderr
