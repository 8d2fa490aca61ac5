"""Bad settings stop every entry point at startup with one clear line, and evicted telli clients are closed.

The commands run as the installed `telli-mcp` in subprocesses, exactly as an MCP client or a shell starts them.
"""

from __future__ import annotations

import subprocess
from typing import ClassVar

import anyio.lowlevel
import pytest
from process_helpers import COMMAND, clean_env

from telli_mcp.client import TelliClient
from telli_mcp.server.caller import Caller
from telli_mcp.server.deps import MAX_CACHED_CLIENTS, ClientProvider

SECRET_VALUE = "short-secret-3f9kQ7"
"""Distinctive, and shorter than the 32 bytes a state secret needs."""
TOOLSET_NAMES = ("default", "all", "contacts", "calls", "campaigns", "phone_numbers_admin")
SERVE = ("--sandbox",)
CAMPAIGN = ("--sandbox", "campaign", "list")


def _run(args: tuple[str, ...], **env: str) -> subprocess.CompletedProcess[str]:
    # stdin is empty: a server that wrongly started would see EOF and stop instead of hanging the test.
    return subprocess.run([COMMAND, *args], env=clean_env(**env), input="", capture_output=True, text=True, timeout=60)


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


BAD_ENV = [
    ("TELLI_MCP_CONFIRM", "maybe", ("auto", "elicit", "token", "off")),
    ("TELLI_MCP_READ_ONLY", "perhaps", ("true", "false")),
    ("TELLI_TIMEOUT_SECONDS", "soon", ("number", "greater than 0")),
    ("TELLI_TIMEOUT_SECONDS", "-5", ("number", "greater than 0")),
    ("TELLI_MCP_LOG_LEVEL", "chatty", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
]


@pytest.mark.parametrize("args", [SERVE, ("--transport", "http", "--port", "1", *SERVE), CAMPAIGN])
@pytest.mark.parametrize(("variable", "value", "allowed"), BAD_ENV)
def test_a_bad_variable_is_one_line_naming_it_its_value_and_the_allowed_values(
    args: tuple[str, ...], variable: str, value: str, allowed: tuple[str, ...]
) -> None:
    line = _one_line_error(_run(args, **{variable: value}))
    assert variable in line and repr(value) in line
    assert all(word in line for word in allowed), line


@pytest.mark.parametrize("level", ["verbose", "warn", ""])
def test_a_bad_log_level_flag_is_one_line_listing_the_levels(level: str) -> None:
    line = _one_line_error(_run(("--log-level", level, *SERVE)))
    assert "--log-level" in line and repr(level) in line
    assert all(name in line for name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))


def test_the_log_level_flag_is_case_insensitive() -> None:
    # A valid lower-case level gets past the settings: the run then fails on the next bad setting, not on it.
    line = _one_line_error(_run(("--log-level", "debug", *SERVE), TELLI_MCP_CONFIRM="maybe"))
    assert "TELLI_MCP_CONFIRM" in line and "log" not in line.lower()


@pytest.mark.parametrize("value", ["", " , ", ","])
def test_an_empty_toolset_list_is_one_line_listing_the_toolsets(value: str) -> None:
    line = _one_line_error(_run(SERVE, TELLI_MCP_TOOLSETS=value))
    assert "TELLI_MCP_TOOLSETS" in line
    assert all(name in line for name in TOOLSET_NAMES), line


def test_an_empty_toolsets_flag_is_one_line_naming_the_flag() -> None:
    line = _one_line_error(_run(("--toolsets", " , ", *SERVE)))
    assert "--toolsets" in line and all(name in line for name in TOOLSET_NAMES)


def test_an_unknown_toolset_names_the_variable_and_the_toolsets() -> None:
    line = _one_line_error(_run(SERVE, TELLI_MCP_TOOLSETS="contacts,telephony"))
    assert "TELLI_MCP_TOOLSETS" in line and "'telephony'" in line
    assert all(name in line for name in TOOLSET_NAMES)


def test_a_too_short_state_secret_is_one_line_that_hides_it() -> None:
    result = _run(SERVE, TELLI_MCP_STATE_SECRET=SECRET_VALUE)
    line = _one_line_error(result)
    assert "TELLI_MCP_STATE_SECRET" in line and "(hidden)" in line and "32 bytes" in line
    assert SECRET_VALUE not in result.stderr + result.stdout


def test_the_api_key_never_appears_in_a_settings_error() -> None:
    key = "tk-settings-9Xq2LmZ7vB4nR8wK"
    result = _run(SERVE, TELLI_API_KEY=key, TELLI_MCP_CONFIRM="maybe")
    _one_line_error(result)
    assert key not in result.stderr + result.stdout and key[3:15] not in result.stderr


def test_the_doctor_reports_a_bad_variable_as_a_failed_check() -> None:
    result = _run(("doctor", "--sandbox"), TELLI_MCP_CONFIRM="maybe")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    settings_line = next(line for line in result.stdout.splitlines() if "settings" in line)
    assert settings_line.lstrip().startswith("FAIL") and "TELLI_MCP_CONFIRM" in settings_line


class _RecordingClient(TelliClient):
    """A real telli client that records being closed."""

    closed: ClassVar[list[str]] = []

    def __init__(self, key: str) -> None:
        super().__init__(key, base_url="http://127.0.0.1:9")  # never contacted
        self.key = key

    async def aclose(self) -> None:
        _RecordingClient.closed.append(self.key)
        await super().aclose()


@pytest.mark.anyio
async def test_a_client_evicted_from_the_cache_is_closed_and_the_rest_at_shutdown() -> None:
    _RecordingClient.closed = []
    provider = ClientProvider(factory=_RecordingClient, default_key=None)
    keys = [f"tk-tenant-{n:03d}" for n in range(MAX_CACHED_CLIENTS + 2)]
    for key in keys:
        provider.client_for_key(key)
    await provider.aclose()  # first waits for the scheduled closes of the evicted ones
    assert _RecordingClient.closed[:2] == keys[:2]
    assert sorted(_RecordingClient.closed) == sorted(keys)
    assert len(_RecordingClient.closed) == len(set(_RecordingClient.closed))


@pytest.mark.anyio
async def test_an_eviction_closes_the_client_without_waiting_for_shutdown() -> None:
    _RecordingClient.closed = []
    provider = ClientProvider(factory=_RecordingClient, default_key=None)
    keys = [f"tk-tenant-{n:03d}" for n in range(MAX_CACHED_CLIENTS + 1)]
    first = provider.client_for_key(keys[0])
    for key in keys[1:]:
        provider.client_for_key(key)
    for _ in range(10):  # lets the scheduled close task run; no wall-clock wait
        await anyio.lowlevel.checkpoint()
    assert _RecordingClient.closed == [keys[0]]
    # The evicted tenant gets a fresh client when it comes back, not the closed one.
    assert provider.client_for_key(keys[0]) is not first
    await provider.aclose()


@pytest.mark.anyio
async def test_a_client_evicted_while_a_request_uses_it_is_closed_only_when_that_request_ends() -> None:
    _RecordingClient.closed = []
    provider = ClientProvider(factory=_RecordingClient, default_key=None)
    keys = [f"tk-tenant-{n:03d}" for n in range(MAX_CACHED_CLIENTS + 1)]
    with provider.in_use(Caller(bearer_key=keys[0])):
        busy = provider.client_for_key(keys[0])
        for key in keys[1:]:  # 64 other tenants arrive while the first one's request is still running
            provider.client_for_key(key)
        for _ in range(10):
            await anyio.lowlevel.checkpoint()
        assert _RecordingClient.closed == [], "the client was closed under a request still using it"
        assert provider.client_for_key(keys[0]) is not busy  # a new request of that tenant gets a fresh one
    for _ in range(10):
        await anyio.lowlevel.checkpoint()
    assert keys[0] in _RecordingClient.closed
    await provider.aclose()
    assert sorted(_RecordingClient.closed) == sorted([*keys, keys[0]])  # both clients of the first tenant, once each
