"""A wrong key over many files: one line, and no more uploads once LlamaCloud refused the key."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from llama_index_cloudkit.cli import cli
from llama_index_cloudkit.testing import FakeLlamaCloud


def test_a_wrong_key_stops_the_batch_with_one_line(fake_llamacloud: FakeLlamaCloud, tmp_path: Path) -> None:
    for i in range(20):
        (tmp_path / f"note-{i:02d}.md").write_text(f"# Note {i}\n\nLlama {i} eats hay.")
    result = CliRunner().invoke(
        cli,
        ["parse", str(tmp_path), "--backend", "cloud", "--api-key", "llx-wrong-key"],
        env={"LLAMA_CLOUD_BASE_URL": fake_llamacloud.base_url},
    )
    assert result.exit_code == 1
    refused = [line for line in result.stderr.splitlines() if "refused the API key" in line]
    assert len(refused) == 1, result.stderr
    assert "20 file(s) not parsed" in refused[0]
    assert "llx-wrong-key" not in result.stderr
    # Requests in flight when the first 401 came back were answered; nothing was sent after it.
    uploads = fake_llamacloud.count("POST", "/api/parsing/upload")
    assert uploads <= 8  # max_concurrency: at most those already in flight
