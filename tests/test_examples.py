"""Every example runs offline, as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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


def test_example_data_generator_writes_the_same_bytes_as_the_committed_files(tmp_path: Path) -> None:
    """Two runs (across a clock second, so a timestamp would show) write byte-identical files,
    and those are the committed ones: regenerating never changes a file's sha256 (cache hits)."""
    runs = [tmp_path / "first", tmp_path / "second"]
    for i, out in enumerate(runs):
        if i:
            time.sleep(1.1)  # zip and document timestamps have a resolution of one or two seconds
        result = subprocess.run(
            [sys.executable, str(EXAMPLES / "make_example_data.py"), str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]
    names = sorted(p.name for p in runs[0].iterdir())
    assert names == ["llama-care-guide.pdf", "shipping-policy.docx"]
    for name in names:
        first, second = ((out / name).read_bytes() for out in runs)
        assert first == second, f"{name} differs between two runs"
        assert first == (EXAMPLES / "data" / name).read_bytes(), f"examples/data/{name} is stale"
