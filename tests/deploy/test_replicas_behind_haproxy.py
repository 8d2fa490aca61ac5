"""Two `telli-mcp --transport http` replicas behind a real HAProxy running the repo's deploy/haproxy.cfg.

Everything runs on loopback: the simulator (served in a thread, so its request log is what telli received), two
replica subprocesses that share TELLI_MCP_STATE_SECRET and a PostgreSQL schema of their own (each with its own
data directory, as on two machines: only the database can share a spent token), and HAProxy with the repo's
config, only its addresses changed. Clients are the real `mcp.Client` over streamable HTTP, each with its own
telli key as a bearer token. HAProxy's stats say which replica answered what, and each replica's access log
says the same from the other side.

Without HAProxy or PostgreSQL the tests skip, saying how to get them; in CI (CI=true) they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent
from postgres_helpers import postgres_url  # noqa: F401  # the fixture, for the tests here
from process_helpers import COMMAND, clean_env, free_port, serving, wait_for_port

from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"
HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")  # not on a user's PATH
STATE_SECRET = "replicas-behind-haproxy-share-this-secret"
REPLICAS = 2
STEP_SECONDS = 30.0
"""Upper bound on one step (a tool call, a start-up, HAProxy noticing a dead replica)."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _need_haproxy() -> str:
    if HAPROXY is not None:
        return HAPROXY
    message = "needs HAProxy: `sudo apt-get install -y haproxy` (Debian's package; .ci/run installs it when missing)"
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{message} (in CI a missing HAProxy is a failure, not a skip)")
    pytest.skip(message)


def haproxy_config(template: str, *, bind: str, servers: list[str], stats_socket: Path) -> str:
    """The repo's config with only its addresses changed: the frontend's bind, the replicas (their options kept)
    and the stats socket's path."""
    lines: list[str] = []
    for line in template.splitlines():
        words = line.split()
        indent = line[: len(line) - len(line.lstrip())]
        if words[:1] == ["bind"]:
            line = f"{indent}bind {bind}"
        elif words[:2] == ["stats", "socket"]:
            line = f"{indent}stats socket {stats_socket} {' '.join(words[3:])}"
        elif words[:1] == ["server"]:
            if not servers:
                continue  # more replicas in the template than here
            line = f"{indent}server {words[1]} {servers.pop(0)} {' '.join(words[3:])}".rstrip()
        lines.append(line)
    assert not servers, "the template names fewer replicas than the test starts"
    return "\n".join(lines) + "\n"


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def mcp_requests(self) -> int:
        """POSTs to /mcp this replica answered, from its own access log."""
        return len(re.findall(r'"POST /mcp HTTP/1\.1" \d+', self.log.read_text(errors="replace")))


@dataclass
class Deployment:
    url: str
    sim: TelliSimulator
    sim_url: str
    replicas: list[Replica]
    stats_socket: Path

    def stats(self) -> dict[str, dict[str, str]]:
        """HAProxy's per-server stats of the backend (`show stat`), by server name."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.stats_socket))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        header, *rows = data.decode().strip().splitlines()
        names = header.lstrip("# ").split(",")
        parsed = [dict(zip(names, row.split(","), strict=False)) for row in rows]
        return {row["svname"]: row for row in parsed if row["pxname"] == "telli_mcp" and row["svname"] != "BACKEND"}

    def served(self) -> dict[str, int]:
        """Requests HAProxy sent to each replica so far (its cumulative sessions)."""
        return {name: int(row["stot"]) for name, row in self.stats().items()}


@contextmanager
def _process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess in its own process group, writing to `log`; the whole group is ended on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield process
        finally:
            _end(process)


def _end(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with suppress(ProcessLookupError):  # whatever is left of the group, the leader included
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    try:
        wait_for_port(port, process, limit=STEP_SECONDS)
    except (AssertionError, TimeoutError) as error:
        raise AssertionError(f"{error}; its output:\n{log.read_text(errors='replace')[-3000:]}") from error
    response = httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    assert response.status_code == 200, response.text


@pytest.fixture
def deployment(postgres_url: str, tmp_path: Path) -> Iterator[Deployment]:  # noqa: F811  # the fixture above
    haproxy = _need_haproxy()
    sim = TelliSimulator(api_keys=(TEST_API_KEY,), seed_demo=True, threaded_checks=True)
    with ExitStack() as stack:
        sim_url = stack.enter_context(serving(sim.app))
        replicas = []
        for number in range(1, REPLICAS + 1):
            port, log = free_port(), tmp_path / f"replica{number}.log"
            env = clean_env(
                TELLI_API_BASE_URL=sim_url,
                TELLI_MCP_STATE_SECRET=STATE_SECRET,
                TELLI_MCP_DATABASE_URL=postgres_url,
                TELLI_MCP_CONFIRM="token",
                TELLI_MCP_DATA_DIR=str(tmp_path / f"replica{number}-data"),
                TELLI_MCP_LOG_LEVEL="INFO",  # uvicorn's access log: what this replica answered
            )
            command = [COMMAND, "--transport", "http", "--host", "127.0.0.1", "--port", str(port)]
            process = stack.enter_context(_process(command, env, log))
            replicas.append(Replica(f"replica{number}", port, process, log))
        for replica in replicas:
            _wait_healthy(replica.port, replica.process, replica.log)
        port, stats_socket = free_port(), tmp_path / "haproxy-stats.sock"
        config = tmp_path / "haproxy.cfg"
        config.write_text(
            haproxy_config(
                TEMPLATE.read_text(),
                bind=f"127.0.0.1:{port}",
                servers=[f"127.0.0.1:{replica.port}" for replica in replicas],
                stats_socket=stats_socket,
            )
        )
        balancer = stack.enter_context(_process([haproxy, "-db", "-f", str(config)], clean_env(), tmp_path / "lb.log"))
        _wait_healthy(port, balancer, tmp_path / "lb.log")
        yield Deployment(f"http://127.0.0.1:{port}/mcp", sim, sim_url, replicas, stats_socket)


def _wait_until_down(deployment: Deployment, name: str) -> None:
    """Return once HAProxy's health check has taken replica `name` out (bounded)."""
    deadline = time.monotonic() + STEP_SECONDS
    while deployment.stats()[name]["status"] != "DOWN":
        assert time.monotonic() < deadline, f"HAProxy still sends to {name}: {deployment.stats()[name]}"
        time.sleep(0.2)  # polls HAProxy's state, bounded by the deadline; no assertion depends on the wait


@asynccontextmanager
async def _client(url: str, mode: str = "auto") -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TEST_API_KEY}"}, timeout=STEP_SECONDS) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


def _text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def _call(client: Client, tool: str, args: dict[str, Any] | None = None) -> CallToolResult:
    with anyio.fail_after(STEP_SECONDS):
        return await client.call_tool(tool, args or {})


async def _ok(client: Client, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await _call(client, tool, args)
    assert not result.is_error, f"{tool} failed: {_text(result)}"
    assert result.structured_content is not None
    return result.structured_content


def _calls_placed(sim: TelliSimulator) -> int:
    return len(sim.requests_to("POST", "/v1/initiate-call"))


def _gained(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before.get(name, 0) for name in after}


async def test_one_token_replayed_through_both_replicas_places_one_call(deployment: Deployment) -> None:
    async with _client(deployment.url) as client:
        contact_id = (await _ok(client, "get_contact", {"external_id": "crm-123"}))["contact_id"]
        agent_id = (await _ok(client, "list_agents"))["agents"][0]["agent_id"]
        # The replicas run on the wall clock: allow_outside_hours keeps the test independent of the time of day.
        # even_if_waiting: once the call is over telli puts the contact back in the dialer for a retry; a replay
        # must then meet nothing but the spent token.
        args = {"contact_id": contact_id, "agent_id": agent_id, "even_if_waiting": True, "allow_outside_hours": True}
        preview = await _ok(client, "call_now", args)
        assert _calls_placed(deployment.sim) == 0, "a preview must place no call"
        token = preview["confirmation_token"]
        started = await _ok(client, "call_now", {**args, "confirmation_token": token})
        assert started["started"] is True
        async with httpx2.AsyncClient(timeout=STEP_SECONDS) as http:  # the call ends in simulated time
            (await http.post(f"{deployment.sim_url}/_sim/advance", json={"seconds": 15 * 60})).raise_for_status()
        before = deployment.served()
        replays = [await _call(client, "call_now", {**args, "confirmation_token": token}) for _ in range(4)]
        during_replays = _gained(before, deployment.served())
    assert all(replay.is_error and "already used" in _text(replay) for replay in replays), [
        _text(replay) for replay in replays
    ]
    assert _calls_placed(deployment.sim) == 1, "one confirmation, one call, however many replicas see the token"
    assert all(count >= 1 for count in during_replays.values()), f"a replica saw no replay: {during_replays}"
    answered = {replica.name: replica.mcp_requests() for replica in deployment.replicas}
    assert all(answered.values()), f"each replica's own log must show requests it answered: {answered}"


async def test_a_replica_killed_with_sigkill_is_taken_out_and_calls_go_on(deployment: Deployment) -> None:
    dead, alive = deployment.replicas
    async with _client(deployment.url) as client:
        for _ in range(2 * REPLICAS):
            await _ok(client, "list_agents")
        assert all(deployment.served().values()), f"round robin reaches every replica: {deployment.served()}"
        os.killpg(dead.process.pid, signal.SIGKILL)
        dead.process.wait(timeout=STEP_SECONDS)
        # Right away, before the health check has noticed: connection failures are redispatched.
        for _ in range(2 * REPLICAS):
            await _ok(client, "list_agents")
        await anyio.to_thread.run_sync(_wait_until_down, deployment, dead.name)
        before = deployment.served()
        for _ in range(2 * REPLICAS):
            await _ok(client, "list_agents")
        after_down = _gained(before, deployment.served())
    assert after_down[dead.name] == 0 and after_down[alive.name] == 2 * REPLICAS, after_down
    assert deployment.stats()[alive.name]["status"] == "UP"


async def test_a_legacy_era_session_sticks_to_the_replica_that_opened_it(deployment: Deployment) -> None:
    # Round robin alone would send the session's second request to the other replica, which knows no such session.
    before = deployment.served()
    async with _client(deployment.url, mode="legacy") as client:
        for _ in range(2 * REPLICAS):
            await _ok(client, "list_agents")
    used = {name: count for name, count in _gained(before, deployment.served()).items() if count}
    assert len(used) == 1, f"one legacy session, one replica: {used}"
