"""The package installed without its ``[testing]`` extra: nothing of the user's breaks.

The pytest plugin is registered through an entry point, so it loads in every pytest run of a
project that installs the package. Here fastapi, uvicorn, starlette and python-multipart are made
unimportable (a ``sitecustomize`` on PYTHONPATH, loaded before pytest), as on a machine that ran
``pip install "llama-index-cloudkit[local]"`` only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

BLOCKER = '''
import importlib.abc, sys

class _NotInstalled(importlib.abc.MetaPathFinder):
    """Refuse the [testing] extra's packages, as if they were not installed."""
    BLOCKED = {"fastapi", "uvicorn", "starlette", "multipart", "python_multipart"}

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
'''


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    blocker_dir = tmp_path / "site"
    blocker_dir.mkdir(exist_ok=True)
    (blocker_dir / "sitecustomize.py").write_text(BLOCKER)
    env = dict(os.environ, PYTHONPATH=str(blocker_dir))
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_blocker_really_hides_fastapi(tmp_path: Path) -> None:
    done = _run(tmp_path, "-c", "import fastapi")
    assert done.returncode != 0 and "fastapi" in done.stderr


def test_an_unrelated_test_suite_passes_without_the_testing_extra(tmp_path: Path) -> None:
    (tmp_path / "test_unrelated.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    done = _run(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_unrelated.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_fixture_fails_only_when_used_and_names_the_extra(tmp_path: Path) -> None:
    (tmp_path / "test_uses_fixture.py").write_text(
        textwrap.dedent(
            """
            def test_plain():
                pass

            def test_with_emulator(fake_llamacloud):
                pass
            """
        )
    )
    done = _run(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_uses_fixture.py")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed" in done.stdout and "1 error" in done.stdout
    assert 'pip install "llama-index-cloudkit[testing]"' in done.stdout


def test_importing_the_testing_module_names_the_extra_on_use(tmp_path: Path) -> None:
    script = (
        "import llama_index_cloudkit.testing as t\n"
        "try:\n"
        "    t.FakeLlamaCloud\n"
        "except ImportError as error:\n"
        "    print('ImportError:', error)\n"
    )
    done = _run(tmp_path, "-c", script)
    assert done.returncode == 0, done.stderr
    assert 'pip install "llama-index-cloudkit[testing]"' in done.stdout


def test_fake_server_command_says_which_extra_in_one_line(tmp_path: Path) -> None:
    done = _run(tmp_path, "-m", "llama_index_cloudkit.cli", "fake-server", "--port", "0")
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "[testing]" in lines[0] and "Traceback" not in done.stderr
