"""``cloudkit ask --top-k N`` shows exactly N passages, whatever the preset."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from llama_index_cloudkit.cli import cli


@pytest.mark.parametrize("preset", ["balanced", "semantic", "keyword", "fast", "deep"])
@pytest.mark.parametrize("top_k", [1, 4])
def test_ask_shows_exactly_top_k_passages(examples_dir: Path, preset: str, top_k: int) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "ask",
            str(examples_dir),
            "How much hay does an adult llama eat per day?",
            "--preset",
            preset,
            "--top-k",
            str(top_k),
        ],
    )
    assert result.exit_code == 0, result.output
    ranks = re.findall(r"^\[(\d+)\] ", result.stdout, flags=re.MULTILINE)
    assert ranks == [str(n) for n in range(1, top_k + 1)]
