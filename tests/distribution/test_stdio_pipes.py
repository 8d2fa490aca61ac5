"""`telli-mcp` over stdio pipes: served from the event loop (no worker threads), with the SDK's guarantees.

Each test spawns the real server (`python -m telli_mcp --sandbox`) the way an MCP client does, with stdin and
stdout as pipes, or (the fallback) stdin from a regular file, which the SDK's own `stdio_server()` serves.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.server.mcpserver import MCPServer
from mcp_helpers import initialize_request
from process_helpers import clean_env

ANSWER_TIMEOUT = 60.0
SERVER = [sys.executable, "-m", "telli_mcp", "--sandbox"]
BIG = 5 * 1024 * 1024
STRAY = "stray output"
# The real server, with a logging handler that writes to stdout from inside the server process whenever the SDK
# logs a tool's rejected arguments: through sys.stdout, straight to fd 1, and from a child process.
STRAY_PRINTER = f"""
import logging, os, subprocess, sys

class Stray(logging.Handler):
    def emit(self, record):
        print({STRAY!r} + " via print", flush=True)
        os.write(1, b{STRAY!r} b" via fd 1\\n")
        subprocess.run([sys.executable, "-c", "print({STRAY!r} + ' from a child')"], check=True)

logging.getLogger("mcp").addHandler(Stray())
logging.getLogger("mcp").setLevel(logging.INFO)
sys.argv = ["telli-mcp", "--sandbox"]
from telli_mcp.cli import main
sys.exit(main())
"""


def _spawn(command: list[str], tmp_path: Path, stdin: IO[bytes] | int = subprocess.PIPE) -> subprocess.Popen[bytes]:
    env = clean_env(TELLI_MCP_DATA_DIR=str(tmp_path / "data"))
    stderr = (tmp_path / "stderr.log").open("wb")
    return subprocess.Popen(command, stdin=stdin, stdout=subprocess.PIPE, stderr=stderr, env=env)


def _send(process: subprocess.Popen[bytes], *messages: dict[str, Any]) -> None:
    assert process.stdin is not None
    process.stdin.write(b"".join(json.dumps(message).encode() + b"\n" for message in messages))
    process.stdin.flush()


def _answer(process: subprocess.Popen[bytes], request_id: object) -> dict[str, Any]:
    """The answer to `request_id`; every line before it must be a JSON-RPC message too."""
    assert process.stdout is not None
    for line in process.stdout:
        message = json.loads(line)
        assert message["jsonrpc"] == "2.0", line[:200]
        if message.get("id") == request_id:
            return dict(message)
    raise AssertionError(f"no answer to {str(request_id)[:40]}; exit code {process.wait(timeout=ANSWER_TIMEOUT)}")


def _end(process: subprocess.Popen[bytes]) -> tuple[int, bytes]:
    """Close stdin; the exit code and whatever the server wrote to stdout after that."""
    assert process.stdin is not None and process.stdout is not None
    process.stdin.close()
    rest = process.stdout.read()
    return process.wait(timeout=ANSWER_TIMEOUT), rest


def _stderr(tmp_path: Path) -> str:
    return (tmp_path / "stderr.log").read_text(errors="replace")


def _threads(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_an_mcp_client_is_served_over_stdio_in_both_eras(tmp_path: Path, mode: str) -> None:
    params = StdioServerParameters(command=SERVER[0], args=SERVER[1:], env=clean_env(TELLI_MCP_DATA_DIR=str(tmp_path)))
    async with Client(params, mode=mode) as client:
        status = await client.call_tool("get_status", {})
        agents = await client.call_tool("list_agents", {})
    assert not status.is_error and status.structured_content is not None
    assert status.structured_content["sandbox"] is True
    assert not agents.is_error


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc (Linux)")
def test_pipes_are_served_from_the_event_loop_without_worker_threads(tmp_path: Path) -> None:
    process = _spawn(SERVER, tmp_path)
    try:
        _send(process, initialize_request("threads"), {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _answer(process, 1)
        for request_id in range(2, 5):
            _send(process, {"jsonrpc": "2.0", "id": request_id, "method": "tools/list"})
            _answer(process, request_id)
        threads = _threads(process.pid)
    finally:
        exit_code, _ = _end(process)
    assert threads == 1
    assert exit_code == 0


def test_a_stray_print_inside_the_server_or_a_child_never_reaches_the_wire(tmp_path: Path) -> None:
    process = _spawn([sys.executable, "-c", STRAY_PRINTER], tmp_path)
    try:
        _send(process, initialize_request("stray"), {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _answer(process, 1)
        # No contact_id: the SDK logs the rejected arguments, and the handler prints three ways.
        _send(process, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_contact"}})
        rejected = _answer(process, 2)
        _send(process, {"jsonrpc": "2.0", "id": 3, "method": "ping"})
        _answer(process, 3)
    finally:
        exit_code, rest = _end(process)
    assert rejected["result"]["isError"] is True
    assert (exit_code, rest) == (0, b"")
    stderr = _stderr(tmp_path)
    assert all(f"{STRAY} {route}" in stderr for route in ("via print", "via fd 1", "from a child")), stderr[-2000:]


def test_a_five_megabyte_line_goes_in_and_comes_back_out(tmp_path: Path) -> None:
    big_id = "x" * BIG  # a ping's answer repeats its id: 5 MB each way
    process = _spawn(SERVER, tmp_path)
    try:
        _send(process, initialize_request("big"), {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _answer(process, 1)
        _send(process, {"jsonrpc": "2.0", "id": big_id, "method": "ping"})
        pong = _answer(process, big_id)
    finally:
        exit_code, rest = _end(process)
    assert pong["result"] == {}
    assert (exit_code, rest) == (0, b"")


def test_a_line_that_is_not_json_rpc_is_answered_and_serving_goes_on(tmp_path: Path) -> None:
    process = _spawn(SERVER, tmp_path)
    try:
        _send(process, initialize_request("junk"), {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _answer(process, 1)
        assert process.stdin is not None
        process.stdin.write(b"not json \xff\n")
        _send(process, {"jsonrpc": "2.0", "id": 2, "method": "ping"})
        pong = _answer(process, 2)
    finally:
        exit_code, rest = _end(process)
    assert pong["result"] == {}
    assert (exit_code, rest) == (0, b"")


def test_the_end_of_stdin_ends_the_server_with_exit_code_0(tmp_path: Path) -> None:
    process = _spawn(SERVER, tmp_path)
    try:
        _send(process, initialize_request("eof"))
        _answer(process, 1)
    finally:
        exit_code, rest = _end(process)
    assert (exit_code, rest) == (0, b"")


def test_stdin_from_a_regular_file_is_served_by_the_sdk_transport(tmp_path: Path) -> None:
    # Only `initialize`: the SDK answers it before reading on, while a later request can still be in flight when
    # the file ends, and the end of input cancels it.
    requests = tmp_path / "requests.jsonl"
    requests.write_text(json.dumps(initialize_request("file")) + "\n")
    with requests.open("rb") as stdin:
        process = _spawn(SERVER, tmp_path, stdin=stdin)
        answers = [json.loads(line) for line in process.communicate(timeout=ANSWER_TIMEOUT)[0].splitlines()]
    assert process.returncode == 0, _stderr(tmp_path)[-2000:]
    assert [answer["id"] for answer in answers] == [1]
    assert answers[0]["result"]["serverInfo"]["name"]


def test_the_sdk_still_runs_stdio_the_way_this_transport_copies() -> None:
    """`serve_stdio` does what `MCPServer.run_stdio_async` does, on its own streams: notice if that changes."""
    source = inspect.getsource(MCPServer.run_stdio_async)
    assert "async with stdio_server() as (read_stream, write_stream):" in source
    assert "self._lowlevel_server.create_initialization_options()" in source
    assert source.count("\n") < 10, "run_stdio_async does more than run the low-level server on stdio streams"
