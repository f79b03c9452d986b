"""Every example runs offline, as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(name: str) -> str:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LLAMA_CLOUD_API_KEY", "LLAMA_CLOUD_BASE_URL", "OPENAI_API_KEY")
    }
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize(
    "name, expected",
    [
        ("parse_directory.py", "llama-care-guide.pdf page 2/2"),
        ("hybrid_rag.py", "(llama-care-guide.pdf, page 2)"),
        ("cloud_rag.py", "shipping-policy.docx, page 1"),
        ("extraction_agent_tool.py", '"refund_window_days": 30'),
        ("v2_quickstart.py", "retrieved (shipping-policy.docx, page 1)"),
    ],
)
def test_example_runs_offline(name: str, expected: str) -> None:
    assert expected in _run(name)
