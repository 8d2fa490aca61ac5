"""Starting the server loads only what answering `tools/list` needs; everything else loads on first use.

A real `telli-mcp` process is spawned the way an MCP client spawns it (stdio), asked `initialize` and
`tools/list` under `python -X importtime`, which logs every module the process imports, and stopped once it has
answered. The same is done with a one-tool `MCPServer` on the same SDK (the floor). These tests say *which*
modules load, not how long they take: the time is measured by `benchmarks/cold_start.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcp_helpers import initialize_request
from process_helpers import clean_env, imported_modules, within

ANSWER_TIMEOUT = 60.0
FLOOR_SERVER = """
from mcp.server.mcpserver import MCPServer

server = MCPServer("floor")


@server.tool()
def echo(text: str) -> str:
    return text


server.run("stdio")
"""

LOADED_ON_FIRST_USE = (
    "telli_mcp.server.tools",  # the toolsets (handlers, result models, helpers): listed from their declarations
    "telli_mcp.client.client",  # the HTTP client, its resources and wire models: the first tool call
    "telli_mcp.client._http",
    "telli_mcp.client.models",
    "telli_mcp.client.resources",
    "telli_mcp.campaigns.engine",  # the campaign engine, its ledger and its types: the first campaign
    "telli_mcp.campaigns.ledger",
    "telli_mcp.campaigns.runner",
    "telli_mcp.campaigns.models",
    "telli_mcp.campaigns.results",
    "telli_mcp.campaigns.lead_zones",
    "sqlite3",
    "phonenumbers",  # the first phone number checked
    "telli_mcp.simulator.app",  # the sandbox's simulator and demo data: the first request to it
)
THIRD_PARTY_AT_START = {
    "platformdirs": "where the campaign ledger lives, decided at startup",
}
"""Not the time-zone database (`tzdata`): the account time zone is checked against it only when it is set."""
MESSAGES = [
    initialize_request("startup-imports", version="2025-06-18"),
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
]


def _imports_until_tools_listed(command: list[str], tmp_path: Path) -> tuple[set[str], int]:
    """The modules the process imported by the time it answered `tools/list`, and how many tools it listed."""
    log = tmp_path / f"importtime-{len(list(tmp_path.iterdir()))}.log"
    env = clean_env(TELLI_MCP_DATA_DIR=str(tmp_path / "data"), PYTHONPROFILEIMPORTTIME="1")
    with log.open("w") as stderr:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env)
        try:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write("".join(json.dumps(message) + "\n" for message in MESSAGES).encode())
            process.stdin.flush()
            tools = _tools_answer(process)
        finally:
            process.kill()  # stopped right after the answer: shutting down may import more
            process.wait(timeout=ANSWER_TIMEOUT)
    return imported_modules(log.read_text()), tools


def _tools_answer(process: subprocess.Popen[bytes]) -> int:
    assert process.stdout is not None
    for line in process.stdout:
        message = json.loads(line)
        if message.get("id") == 2:
            return len(message["result"]["tools"])
    raise AssertionError(f"no tools/list answer; exit code {process.wait(timeout=ANSWER_TIMEOUT)}")


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    tmp_path = tmp_path_factory.mktemp("floor")
    script = tmp_path / "floor_server.py"
    script.write_text(FLOOR_SERVER)
    modules, tools = _imports_until_tools_listed([sys.executable, str(script)], tmp_path)
    assert tools == 1
    return modules


def _telli_mcp(tmp_path: Path, *args: str) -> set[str]:
    modules, tools = _imports_until_tools_listed([sys.executable, "-m", "telli_mcp", *args], tmp_path)
    assert tools > 10 and "telli_mcp.server.app" in modules, "the import log was not read"
    return modules


@pytest.mark.parametrize("args", [(), ("--sandbox",)], ids=["real-account", "sandbox"])
def test_starting_loads_no_client_engine_phone_data_or_simulator(tmp_path: Path, args: tuple[str, ...]) -> None:
    modules = _telli_mcp(tmp_path, *args)
    loaded = sorted(name for name in modules if within(name, *LOADED_ON_FIRST_USE))
    assert loaded == [], f"telli-mcp {' '.join(args)} loads at startup: {loaded[:12]}"


def test_the_only_third_party_packages_beyond_the_sdk_floor_are_the_settings_few(
    tmp_path: Path, floor: set[str]
) -> None:
    modules = _telli_mcp(tmp_path)
    packages = {name.split(".")[0] for name in modules} - {name.split(".")[0] for name in floor}
    third_party = {name for name in packages if name not in sys.stdlib_module_names and name[0] != "_"} - {"telli_mcp"}
    assert third_party <= set(THIRD_PARTY_AT_START), sorted(third_party - set(THIRD_PARTY_AT_START))


def test_the_first_tool_call_loads_what_startup_left_out(tmp_path: Path) -> None:
    """The other side of the budget: what startup skips is really used later (the list above is not stale)."""
    code = (
        "import anyio, sys\n"
        "from mcp import Client\n"
        "from telli_mcp.backend import open_backend\n"
        "from telli_mcp.config import Settings\n"
        "from telli_mcp.server import build_server\n"
        "async def main():\n"
        "    server = build_server(open_backend(Settings(sandbox=True), sandbox_speed=0))\n"
        "    async with Client(server) as client:\n"
        "        for name, arguments in [\n"
        "            ('create_contact', {'first_name': 'Ada', 'last_name': 'L', 'phone_number': '+4930 1234567'}),\n"
        "            ('list_campaigns', {}),\n"
        "        ]:\n"
        "            result = await client.call_tool(name, arguments)\n"
        "            assert not result.is_error, result.content\n"
        "anyio.run(main)\n"
        "print('\\n'.join(sys.modules))\n"
    )
    env = clean_env(TELLI_MCP_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    modules = set(result.stdout.split())
    used = {lazy for lazy in LOADED_ON_FIRST_USE if any(within(name, lazy) for name in modules)}
    assert used == set(LOADED_ON_FIRST_USE), sorted(set(LOADED_ON_FIRST_USE) - used)
