"""`telli-mcp doctor` in-process: each broken setup gives exit 1 and one clear FAIL line; the key never leaks."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from telli_mcp.client import TelliClient
from telli_mcp.config import Settings
from telli_mcp.doctor import run_doctor
from telli_mcp.doctor.claude import KEY_PLACEHOLDER, config_path, server_command
from telli_mcp.doctor.system import check_python
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

FAKE_KEY = "doctor-fake-key-Zq81xK2pLm7Q"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every doctor run gets its own data directory, never the developer's real one."""
    path = tmp_path / "telli-mcp-data"
    monkeypatch.setenv("TELLI_MCP_DATA_DIR", str(path))
    return path


def _doctor(
    load: Callable[[], Settings] = Settings, *, client_factory: Callable[[str], TelliClient] | None = None
) -> tuple[int, str, dict[str, Any]]:
    """Run the doctor twice (text and JSON); return the exit code, the text and the JSON report."""
    text, document = io.StringIO(), io.StringIO()
    code = run_doctor(load, out=text, client_factory=client_factory)
    assert run_doctor(load, out=document, as_json=True, client_factory=client_factory) == code
    return code, text.getvalue(), json.loads(document.getvalue())


def _line(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if line[6:].startswith(name))


def _simulated(key: str) -> TelliClient:
    return TelliClient(key, transport=TelliSimulator(api_keys=(TEST_API_KEY,)).transport(), max_retries=0)


def _config_block(text: str) -> dict[str, Any]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("{"))
    block: dict[str, Any] = json.loads("\n".join(lines[start:]))
    return block


def test_sandbox_mode_passes_every_check(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("TELLI_MCP_SANDBOX", "1")
    code, text, report = _doctor()
    assert code == 0 and report["ok"] is True, text
    assert {check["status"] for check in report["checks"]} == {"PASS"}
    assert "PASS  key valid" in text and "answered in" in _line(text, "reachable")
    assert data_dir.is_dir() and not any(data_dir.iterdir()), "the probe file must be cleaned up"
    server = _config_block(text)["mcpServers"]["telli-sandbox"]
    assert server["args"][-1] == "--sandbox" and "TELLI_API_KEY" not in json.dumps(server)


def test_missing_key_fails_and_says_which_variable_to_set() -> None:
    code, text, _ = _doctor()
    assert code == 1
    assert _line(text, "API key").startswith("FAIL") and "TELLI_API_KEY is not set" in text
    assert _line(text, "key valid").startswith("SKIP")


def test_placeholder_key_fails_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELLI_API_KEY", "${TELLI_API_KEY}")
    code, text, _ = _doctor()
    assert code == 1
    assert "unsubstituted placeholder" in _line(text, "API key") and _line(text, "API key").startswith("FAIL")
    assert "${TELLI_API_KEY}" not in text


def test_rejected_key_fails_and_only_its_masked_form_is_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELLI_API_KEY", FAKE_KEY)
    code, text, report = _doctor(client_factory=_simulated)
    assert code == 1
    assert _line(text, "reachable").startswith("PASS")
    assert _line(text, "key valid").startswith("FAIL") and "rejected" in text
    assert FAKE_KEY not in text and FAKE_KEY not in json.dumps(report)
    assert FAKE_KEY[:3] + "…" + FAKE_KEY[-4:] in text


def test_accepted_key_passes_against_the_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELLI_API_KEY", TEST_API_KEY)
    code, text, _ = _doctor(client_factory=_simulated)
    assert code == 0, text
    assert _line(text, "key valid").startswith("PASS")


def test_unknown_toolset_fails_listing_the_valid_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELLI_MCP_SANDBOX", "1")
    monkeypatch.setenv("TELLI_MCP_TOOLSETS", "contacts,telephony")
    code, text, _ = _doctor()
    line = _line(text, "toolsets")
    assert code == 1 and line.startswith("FAIL")
    assert "'telephony'" in line and "contacts" in line and "phone_numbers_admin" in line


def test_unloadable_setting_fails_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELLI_MCP_CONFIRM", "{{confirm_mode}}")
    code, text, _ = _doctor()
    assert code == 1
    assert _line(text, "settings").startswith("FAIL") and "TELLI_MCP_CONFIRM" in _line(text, "settings")
    assert "TELLI_MCP_CONFIRM" in _line(text, "placeholders")


def test_confirmation_off_is_a_warning_not_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELLI_MCP_SANDBOX", "1")
    monkeypatch.setenv("TELLI_MCP_CONFIRM", "off")
    code, text, _ = _doctor()
    assert code == 0 and _line(text, "guardrails").startswith("WARN")


def test_data_dir_under_a_regular_file_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    monkeypatch.setenv("TELLI_MCP_SANDBOX", "1")
    monkeypatch.setenv("TELLI_MCP_DATA_DIR", str(blocker / "data"))
    code, text, _ = _doctor()
    assert code == 1
    assert _line(text, "data dir").startswith("FAIL") and "TELLI_MCP_DATA_DIR" in _line(text, "data dir")


def test_read_only_data_dir_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: permissions do not stop writes (covered by the regular-file case)")
        monkeypatch.setenv("TELLI_MCP_SANDBOX", "1")
        monkeypatch.setenv("TELLI_MCP_DATA_DIR", str(locked))
        code, text, _ = _doctor()
    finally:
        locked.chmod(0o700)
    assert code == 1 and _line(text, "data dir").startswith("FAIL")


def test_old_python_fails() -> None:
    assert check_python((3, 10, 14)).status == "FAIL"
    assert check_python((3, 11, 0)).status == "PASS"


def test_config_block_is_valid_json_with_an_absolute_command_and_a_key_placeholder(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setenv("TELLI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("TELLI_MCP_TOOLSETS", "default,phone_numbers_admin")
    _code, text, report = _doctor(client_factory=_simulated)
    block = _config_block(text)
    assert block == report["claude_desktop"]["config"]
    server = block["mcpServers"]["telli"]
    assert os.path.isabs(server["command"]) and Path(server["command"]).exists()
    # The block reproduces the settings that were checked, with a placeholder instead of the key.
    assert server["env"] == {
        "TELLI_API_KEY": KEY_PLACEHOLDER,
        "TELLI_MCP_TOOLSETS": "default,phone_numbers_admin",
        "TELLI_MCP_DATA_DIR": str(data_dir),
    }
    assert FAKE_KEY not in text
    assert report["claude_desktop"]["config_path"].endswith("claude_desktop_config.json")


def test_claude_desktop_config_lives_where_each_os_expects_it(tmp_path: Path) -> None:
    mac, _ = config_path("darwin", home=tmp_path, environ={})
    windows, _ = config_path("win32", home=tmp_path, environ={"APPDATA": str(tmp_path / "Roaming")})
    linux, note = config_path("linux", home=tmp_path, environ={})
    assert mac == tmp_path / "Library/Application Support/Claude/claude_desktop_config.json"
    assert windows == tmp_path / "Roaming/Claude/claude_desktop_config.json"
    assert linux == tmp_path / ".config/Claude/claude_desktop_config.json" and note


def test_server_command_prefers_the_running_telli_mcp_script(tmp_path: Path) -> None:
    script = tmp_path / "bin" / "telli-mcp"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    assert server_command(str(script)) == (str(script), [])
    command, _args = server_command("/nonexistent/pytest")
    assert os.path.isabs(command) and Path(command).exists()
