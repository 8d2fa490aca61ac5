"""`leads_file` reads only lead files: over MCP (in-process and stdio) and from the campaign CLI.

A path from a model or a script must not turn `start_campaign` into a file reader: /proc/self/environ (which
holds TELLI_API_KEY), devices, FIFOs, huge files, symlinks out of the allowed folder and paths outside
TELLI_MCP_LEADS_DIR are refused with an error naming `leads_file`, nothing of the file is echoed, a FIFO never
stalls other requests, and a file that is no lead list shows at most one clipped cell.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from evidence_helpers import API_KEY, MODES, DemoIds, SimSwitch, assert_no_key, new_sim, our_message, text_of
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult
from mcp_helpers import connect

from telli_mcp.campaigns.lead_files import MAX_FILE_BYTES

pytestmark = pytest.mark.anyio

COMMAND = shutil.which("telli-mcp", path=str(Path(sys.executable).parent)) or "telli-mcp"
AGENT = DemoIds.of(new_sim()).sales_agent
VALID_CSV = "phone_number,first_name,last_name\n+493090182088,Ida,Roth\n"


def _symlink_to_environ(folder: Path) -> Path:
    link = folder / "leads.csv"
    link.symlink_to("/proc/self/environ")
    return link


def _outside(folder: Path) -> Path:
    elsewhere = folder.parent / f"{folder.name}-elsewhere"
    elsewhere.mkdir()
    path = elsewhere / "leads.csv"
    path.write_text(VALID_CSV)
    return path


def _over_the_limit(folder: Path) -> Path:
    path = folder / "big.csv"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no gigabytes written
    return path


def _fifo(folder: Path) -> Path:
    path = folder / "fifo.csv"
    os.mkfifo(path)
    return path


def _dotenv(folder: Path) -> Path:
    path = folder / ".env"
    path.write_text(f"TELLI_API_KEY={API_KEY}\n")
    return path


REFUSED: dict[str, tuple[Callable[[Path], Path], str]] = {
    "proc-environ": (lambda _folder: Path("/proc/self/environ"), "system file"),
    "dev-zero": (lambda _folder: Path("/dev/zero"), "system file"),
    "symlink-to-environ": (_symlink_to_environ, "system file"),
    "outside-the-leads-dir": (_outside, "outside the folders"),
    "over-the-size-limit": (_over_the_limit, "larger than 20 MB"),
    "fifo": (_fifo, "not a regular file"),
    "dotenv": (_dotenv, "must be a .csv"),
}


def _dump(result: CallToolResult) -> str:
    return text_of(result) + json.dumps(result.structured_content)


def _assert_refused(result: CallToolResult, expected: str) -> None:
    message = our_message(result, "start_campaign")
    assert result.is_error, f"not refused: {_dump(result)[:300]}"
    assert "leads_file" in message and expected in message, message
    assert_no_key(_dump(result))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", REFUSED)
async def test_a_path_that_is_no_allowed_lead_file_is_refused(case: str, mode: str, tmp_path: Path) -> None:
    make, expected = REFUSED[case]
    path = make(tmp_path)
    async with connect(SimSwitch().server(leads_dir=str(tmp_path)), mode) as client:
        result = await client.call_tool("start_campaign", {"agent_id": AGENT, "leads_file": str(path), "dry_run": True})
    _assert_refused(result, expected)


@pytest.mark.parametrize("mode", MODES)
async def test_a_fifo_never_stalls_a_concurrent_request(mode: str, tmp_path: Path) -> None:
    fifo = _fifo(tmp_path)
    results: dict[str, CallToolResult] = {}
    async with connect(SimSwitch().server(leads_dir=str(tmp_path)), mode) as client:

        async def call(tool: str, args: dict[str, Any]) -> None:
            results[tool] = await client.call_tool(tool, args)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                group.start_soon(call, "start_campaign", {"agent_id": AGENT, "leads_file": str(fifo), "dry_run": True})
                group.start_soon(call, "get_status", {})
    assert not results["get_status"].is_error, _dump(results["get_status"])
    _assert_refused(results["start_campaign"], "not a regular file")


@pytest.mark.parametrize("mode", MODES)
async def test_a_lead_file_in_the_leads_dir_is_read_also_through_a_symlink_inside_it(mode: str, tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(VALID_CSV)
    (tmp_path / "link.csv").symlink_to(tmp_path / "leads.csv")
    async with connect(SimSwitch().server(leads_dir=str(tmp_path)), mode) as client:
        for name in ("leads.csv", "link.csv"):
            result = await client.call_tool(
                "start_campaign", {"agent_id": AGENT, "leads_file": str(tmp_path / name), "dry_run": True}
            )
            assert not result.is_error, _dump(result)
            assert result.structured_content is not None
            assert (result.structured_content["status"], result.structured_content["valid_leads"]) == ("dry_run", 1)


@pytest.mark.parametrize("mode", MODES)
async def test_a_file_that_is_no_lead_list_shows_at_most_one_clipped_cell(mode: str, tmp_path: Path) -> None:
    # Like /proc/self/environ: one line, NUL separated, the secret far from the start.
    line = "\x00".join([*(f"VARIABLE_{n}=value-{n}" for n in range(20)), f"TELLI_API_KEY={API_KEY}"])
    path = tmp_path / "notes.txt"
    path.write_text(line + "\n")
    async with connect(SimSwitch().server(leads_dir=str(tmp_path)), mode) as client:
        result = await client.call_tool("start_campaign", {"agent_id": AGENT, "leads_file": str(path), "dry_run": True})
    dump = _dump(result)
    assert "\x00" not in dump and "\\u0000" not in dump and "VARIABLE_3" not in dump, dump[:500]
    assert_no_key(dump)


@pytest.mark.parametrize("mode", MODES)
async def test_over_stdio_proc_self_environ_never_reaches_the_client(mode: str, tmp_path: Path) -> None:
    link = _symlink_to_environ(tmp_path)
    env = _env(TELLI_API_KEY=API_KEY, TELLI_MCP_SANDBOX="1", TELLI_MCP_LEADS_DIR=str(tmp_path),
               TELLI_MCP_DATA_DIR=str(tmp_path / "data"))  # fmt: skip
    params = StdioServerParameters(command=COMMAND, args=[], env=env, cwd=str(tmp_path))
    with (tmp_path / "stderr.log").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode=mode) as client:
            results = [
                await client.call_tool("start_campaign", {"agent_id": AGENT, "leads_file": path, "dry_run": True})
                for path in ("/proc/self/environ", str(link))
            ]
    for result in results:
        _assert_refused(result, "system file")
    assert_no_key((tmp_path / "stderr.log").read_text())


@pytest.mark.parametrize("case", REFUSED)
def test_the_campaign_cli_refuses_the_same_paths(case: str, tmp_path: Path) -> None:
    leads_dir = tmp_path / "leads"
    leads_dir.mkdir()
    make, expected = REFUSED[case]
    path = make(leads_dir)
    env = _env(TELLI_API_KEY=API_KEY, TELLI_MCP_LEADS_DIR=str(leads_dir), TELLI_MCP_DATA_DIR=str(tmp_path / "data"))
    command = [COMMAND, "campaign", "--sandbox", "start", str(path), "--agent-id", AGENT, "--dry-run"]
    # The subprocess timeout bounds the FIFO case: a reader waiting for a writer would fail it.
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0, done.stdout
    assert "leads_file" in done.stderr and expected in done.stderr, done.stderr
    assert_no_key(done.stdout, done.stderr)


def _env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("TELLI_")}, **extra}
