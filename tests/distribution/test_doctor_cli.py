"""The installed `telli-mcp doctor` command, in subprocesses: offline sandbox, and a real HTTP simulator."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from process_helpers import COMMAND, free_port, running_simulator

from telli_mcp.simulator import DEMO_API_KEY

FAKE_KEY = "doctor-cli-fake-key-W7rT2nQ9"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every doctor run gets its own data directory, never the developer's real one."""
    path = tmp_path / "telli-mcp-data"
    monkeypatch.setenv("TELLI_MCP_DATA_DIR", str(path))
    return path


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELLI_")}
    return {**env, "TELLI_MCP_DATA_DIR": str(data_dir), **extra}


def _doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COMMAND, "doctor", *args], env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def simulator_url() -> Iterator[str]:
    with running_simulator() as url:
        yield url


def test_doctor_sandbox_passes_offline_and_prints_a_json_report(data_dir: Path) -> None:
    result = _doctor(_env(data_dir), "--sandbox", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    server = report["claude_desktop"]["config"]["mcpServers"]["telli-sandbox"]
    assert os.path.isabs(server["command"]) and os.access(server["command"], os.X_OK)


def test_doctor_passes_against_the_http_simulator_with_its_demo_key(simulator_url: str, data_dir: Path) -> None:
    result = _doctor(_env(data_dir, TELLI_API_BASE_URL=simulator_url, TELLI_API_KEY=DEMO_API_KEY))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"PASS  reachable     {simulator_url} answered in" in result.stdout
    assert "PASS  key valid" in result.stdout
    assert DEMO_API_KEY not in result.stdout + result.stderr


def test_doctor_fails_for_a_key_the_http_simulator_rejects(simulator_url: str, data_dir: Path) -> None:
    result = _doctor(_env(data_dir, TELLI_API_BASE_URL=simulator_url, TELLI_API_KEY=FAKE_KEY))
    assert result.returncode == 1
    assert "FAIL  key valid" in result.stdout and "rejected" in result.stdout
    assert FAKE_KEY not in result.stdout + result.stderr


def test_doctor_fails_when_telli_cannot_be_reached(data_dir: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = _doctor(_env(data_dir, TELLI_API_BASE_URL=url, TELLI_API_KEY=FAKE_KEY))
    assert result.returncode == 1
    assert f"FAIL  reachable     could not reach {url}" in result.stdout
    assert FAKE_KEY not in result.stdout + result.stderr


def test_doctor_without_a_key_exits_1_and_still_prints_the_config_block(data_dir: Path) -> None:
    result = _doctor(_env(data_dir))
    assert result.returncode == 1
    assert "FAIL  API key       TELLI_API_KEY is not set" in result.stdout
    block = json.loads(result.stdout[result.stdout.index("\n{") + 1 :])
    assert block["mcpServers"]["telli"]["env"]["TELLI_API_KEY"] == "<your telli API key>"
