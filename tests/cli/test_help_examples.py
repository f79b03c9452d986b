"""The examples in `cloudkit CMD --help` and in the README's console block name files that exist
in a fresh clone, and the offline ones run as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from llama_index_cloudkit.cli import cli

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ("parse", "ask", "index", "extract", "tune", "fake-server")


def _help_examples() -> list[str]:
    lines = []
    for command in COMMANDS:
        text = CliRunner().invoke(cli, [command, "--help"]).output
        lines += [line.strip() for line in text.splitlines() if line.strip().startswith("cloudkit ")]
    return lines


def _readme_examples() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```console\n(.*?)```", readme, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.startswith("cloudkit ")]


def _words(line: str) -> list[str]:
    return shlex.split(line.split("  #")[0].split("(made by")[0].split("(needs")[0])


def test_every_example_names_only_files_a_fresh_clone_has() -> None:
    examples = _help_examples() + _readme_examples()
    assert len(examples) >= 20
    inputs = re.compile(r"(\.(pdf|docx|pptx|xlsx|html|md|json|jsonl|png|jpg)|/)$")
    outputs = {"parsed/"}  # written by the example itself
    named = [
        word
        for line in examples
        for word in _words(line)
        if (word.startswith("examples/") or inputs.search(word)) and word not in outputs and ":" not in word
    ]
    assert named, examples
    missing = sorted({word for word in named if not (ROOT / word).exists()})
    assert missing == []


@pytest.mark.parametrize(
    "line",
    [
        "cloudkit parse examples/data/llama-care-guide.pdf --json",
        "cloudkit parse examples/data --dry-run",
    ],
)
def test_offline_help_examples_run(line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert line in [" ".join(_words(example)) for example in _help_examples() + _readme_examples()]
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, _words(line)[1:])
    assert result.exit_code == 0, result.output
