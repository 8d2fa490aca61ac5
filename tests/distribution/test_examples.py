"""Every script in examples/ runs offline to the end, as a user would run it, and says OK."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))


def test_the_documented_examples_exist() -> None:
    assert {"client_quickstart.py", "mcp_stdio_session.py"} <= {path.name for path in EXAMPLES}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_runs_to_the_end(example: Path, tmp_path: Path) -> None:
    # A user's TELLI_* settings (or a real key) must not change what an offline example does.
    env = {name: value for name, value in os.environ.items() if not name.startswith("TELLI_")}
    env["TELLI_MCP_DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run(
        [sys.executable, str(example)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 0, f"{example.name} failed:\n{result.stdout}\n{result.stderr}"
    assert result.stdout.rstrip().endswith("OK"), result.stdout
    assert "FAILED" not in result.stdout + result.stderr
