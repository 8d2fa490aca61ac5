"""`TELLI_MCP_SANDBOX=1` (or `--sandbox`) means the simulator for every entry point, with a real-looking key set.

A listening socket stands in for the configured `TELLI_API_BASE_URL`: no entry point may ever connect to it,
so a user who believes they are in the sandbox cannot place a real call, whatever key is in the environment.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import COMMAND
from mcp import Client, StdioServerParameters
from mcp_helpers import Answers

from telli_mcp.simulator import DEMO_API_KEY, TelliSimulator

LEADS = Path(__file__).parents[2] / "examples" / "leads.csv"
DEMO_AGENT = TelliSimulator(api_keys=(DEMO_API_KEY,), seed_demo=True).account(DEMO_API_KEY).agents_in_order()[0].id


class Tripwire:
    """A loopback listener that counts every connection made to it."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.connections = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._socket.close()


@pytest.fixture
def tripwire() -> Iterator[Tripwire]:
    wire = Tripwire()
    try:
        yield wire
    finally:
        wire.close()


def sandbox_env(tripwire: Tripwire, tmp_path: Path, *, flag_only: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELLI_")}
    env |= {"TELLI_API_KEY": "tk-live-looking-0123456789abcdef", "TELLI_API_BASE_URL": tripwire.url,
            "TELLI_MCP_DATA_DIR": str(tmp_path)}  # fmt: skip
    return env if flag_only else {**env, "TELLI_MCP_SANDBOX": "1"}


ENTRY_POINTS = {
    "doctor": ["doctor"],
    "doctor --deep": ["doctor", "--deep"],
    "campaign start": ["campaign", "start", str(LEADS), "--agent-id", DEMO_AGENT, "--default-region", "US", "--yes"],
    "campaign list": ["campaign", "list"],
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("how", ["environment", "top-level flag"])
def test_a_command_in_the_sandbox_never_contacts_the_configured_url(
    tripwire: Tripwire, tmp_path: Path, name: str, how: str
) -> None:
    flag = how == "top-level flag"
    args = ["--sandbox", *ENTRY_POINTS[name]] if flag else ENTRY_POINTS[name]
    env = sandbox_env(tripwire, tmp_path, flag_only=flag)
    result = subprocess.run(
        [COMMAND, *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sandbox" in (result.stdout + result.stderr).lower()
    assert tripwire.connections == 0


@pytest.mark.anyio
async def test_the_mcp_server_in_the_sandbox_never_contacts_the_configured_url(
    tripwire: Tripwire, tmp_path: Path
) -> None:
    params = StdioServerParameters(command=COMMAND, args=[], env=sandbox_env(tripwire, tmp_path))
    async with Client(params, elicitation_callback=Answers("accept")) as client:
        assert client.server_info.title == "telli (sandbox)"
        status = await client.call_tool("get_status", {})
        contacts = await client.call_tool("list_contacts", {"limit": 3})
    assert not status.is_error and not contacts.is_error
    assert tripwire.connections == 0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
