"""The installed `telli-mcp doctor --deep`, in subprocesses: the sandbox, and a real HTTP simulator on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from process_helpers import COMMAND, running_simulator

from telli_mcp.simulator import DEMO_API_KEY

WRONG_KEY = "doctor-deep-cli-wrong-key-P4s8"
EVERY_READ = 14


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every doctor run gets its own data directory, never the developer's real one."""
    path = tmp_path / "telli-mcp-data"
    monkeypatch.setenv("TELLI_MCP_DATA_DIR", str(path))
    return path


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELLI_")}
    return {**env, "TELLI_MCP_DATA_DIR": str(data_dir), **extra}


def _run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def simulator_url() -> Iterator[str]:
    with running_simulator() as url:
        yield url


def _control(url: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback only: the simulator's control API
        text = response.read()
    return json.loads(text) if text else None


def test_deep_sandbox_reports_every_endpoint_ok_and_writes_the_report(data_dir: Path, tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    result = _run(_env(data_dir), COMMAND, "doctor", "--deep", "--sandbox", "--json", str(report_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"({EVERY_READ} ok, 0 drift, 0 failed, 0 not checked)" in result.stdout
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["ok"] is True and report["target"] == "the sandbox simulator"
    assert {endpoint["outcome"] for endpoint in report["endpoints"]} == {"ok"}
    assert DEMO_API_KEY not in result.stdout + report_file.read_text(encoding="utf-8")


def test_python_m_doctor_deep_prints_the_json_report(data_dir: Path) -> None:
    result = _run(_env(data_dir), sys.executable, "-m", "telli_mcp.doctor", "--deep", "--sandbox", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and len(report["endpoints"]) == EVERY_READ


def test_deep_reports_the_drift_a_real_http_server_serves(simulator_url: str, data_dir: Path) -> None:
    _control(
        simulator_url,
        "POST",
        "/_sim/faults",
        {
            "kind": "reshape",
            "method": "GET",
            "path": "/v1/phone-numbers",
            "times": -1,
            "edits": [{"path": "data.*.phoneNumber", "op": "set", "value": None}],
        },
    )
    before = len(_control(simulator_url, "GET", "/_sim/requests")["requests"])
    try:
        env = _env(data_dir, TELLI_API_BASE_URL=simulator_url, TELLI_API_KEY=DEMO_API_KEY)
        result = _run(env, COMMAND, "doctor", "--deep")
    finally:
        _control(simulator_url, "DELETE", "/_sim/faults")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "drift        list-phone-numbers" in result.stdout
    assert "null          data[*].phoneNumber: expected string (e164); seen null [in 2 places]" in result.stdout
    assert f"({EVERY_READ - 1} ok, 1 drift, 0 failed, 0 not checked)" in result.stdout
    sent = _control(simulator_url, "GET", "/_sim/requests")["requests"][before:]
    assert len(sent) == EVERY_READ
    assert all(entry["method"] == "GET" or entry["path"] == "/v1/get-contacts-batch" for entry in sent)
    assert DEMO_API_KEY not in result.stdout + result.stderr


def test_deep_stops_on_a_rejected_key_with_the_usual_advice(simulator_url: str, data_dir: Path) -> None:
    env = _env(data_dir, TELLI_API_BASE_URL=simulator_url, TELLI_API_KEY=WRONG_KEY)
    result = _run(env, COMMAND, "doctor", "--deep")
    assert result.returncode == 1
    assert "telli rejected the key (401): copy it again from the telli app, Settings > API & Webhooks" in result.stdout
    assert f"(0 ok, 0 drift, 1 failed, {EVERY_READ - 1} not checked)" in result.stdout
    assert WRONG_KEY not in result.stdout + result.stderr


def test_plain_doctor_json_file_writes_the_report_and_prints_the_text(data_dir: Path, tmp_path: Path) -> None:
    report_file = tmp_path / "doctor.json"
    result = _run(_env(data_dir), COMMAND, "doctor", "--sandbox", "--json", str(report_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("telli-mcp doctor\n")
    assert json.loads(report_file.read_text(encoding="utf-8"))["ok"] is True
