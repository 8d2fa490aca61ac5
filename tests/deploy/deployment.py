"""`telli-mcp --transport http` replicas behind a real HAProxy running the repo's deploy/haproxy.cfg, on loopback.

The one place that starts such a deployment: the tests in this directory (through the `deployment` fixture of
conftest.py) and `benchmarks/replicas.py` both use `deployed`. Each replica is a subprocess with a data directory of
its own (as on separate machines: only the PostgreSQL database is shared) and the same TELLI_MCP_STATE_SECRET;
HAProxy runs the repo's config with only its addresses changed. Every process runs in its own session and process
group (apart from whoever drives the load) and is ended, with its whole group, when the context exits; every wait is
bounded. Clients are the real `mcp.Client` over streamable HTTP, each with its telli key as a bearer token.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import ExitStack, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent
from process_helpers import COMMAND, clean_env, free_port, wait_for_port

if TYPE_CHECKING:
    from telli_mcp.simulator import TelliSimulator

__all__ = [
    "STATE_SECRET",
    "STEP_SECONDS",
    "TEMPLATE",
    "Deployment",
    "Replica",
    "call",
    "deployed",
    "find_haproxy",
    "haproxy_config",
    "mcp_client",
    "ok",
    "text_of",
    "wait_until_down",
]

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"
STATE_SECRET = "replicas-behind-haproxy-share-this-secret"
STEP_SECONDS = 30.0
"""Upper bound on one step (a tool call, a start-up, HAProxy noticing a dead replica)."""
BACKEND = "telli_mcp"
"""The backend's name in the template (its servers are the replicas)."""


def find_haproxy() -> str | None:
    """HAProxy's executable, also where Debian puts it (/usr/sbin is not on a user's PATH); None if missing."""
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")


def haproxy_config(template: str, *, bind: str, servers: list[str], stats_socket: Path) -> str:
    """The repo's config with only its addresses changed: the frontend's bind, the replicas (their options kept)
    and the stats socket's path."""
    servers = list(servers)
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
    assert not servers, "the template names fewer replicas than were started"
    return "\n".join(lines) + "\n"


@dataclass
class Replica:
    name: str
    """Its server name in HAProxy's config (replica1, replica2, ...)."""
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        """Its own MCP endpoint, bypassing the balancer."""
        return f"http://127.0.0.1:{self.port}/mcp"

    def mcp_requests(self) -> int:
        """POSTs to /mcp this replica answered, from its own access log (needs TELLI_MCP_LOG_LEVEL=INFO)."""
        return len(re.findall(r'"POST /mcp HTTP/1\.1" \d+', self.log.read_text(errors="replace")))

    def kill(self) -> None:
        """SIGKILL its whole process group, as a crashed machine: no shutdown code runs."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STEP_SECONDS)


@dataclass
class Deployment:
    url: str
    """The balancer's MCP endpoint."""
    replicas: list[Replica]
    balancer: subprocess.Popen[bytes]
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
        return {row["svname"]: row for row in parsed if row["pxname"] == BACKEND and row["svname"] != "BACKEND"}

    def served(self) -> dict[str, int]:
        """Requests HAProxy sent to each replica so far (its cumulative sessions)."""
        return {name: int(row["stot"]) for name, row in self.stats().items()}

    def in_progress(self) -> dict[str, int]:
        """Requests each replica is answering right now, as HAProxy sees them (its current sessions)."""
        return {name: int(row["scur"]) for name, row in self.stats().items()}

    def replica(self, name: str) -> Replica:
        return next(replica for replica in self.replicas if replica.name == name)


@contextmanager
def _process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess in its own session and process group, writing to `log`; the whole group is ended on exit."""
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


@contextmanager
def deployed(
    *,
    replicas: int,
    sim_url: str,
    database_url: str,
    workdir: Path,
    haproxy: str,
    env: Mapping[str, str] | None = None,
) -> Iterator[Deployment]:
    """`replicas` replicas against the telli at `sim_url`, sharing the PostgreSQL at `database_url`, behind HAProxy
    with the repo's config; logs, data directories and the config go under `workdir`. `env`: more settings for every
    replica. Tokens are confirmed by token (TELLI_MCP_CONFIRM=token), as an HTTP client without elicitation does."""
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        started: list[Replica] = []
        for number in range(1, replicas + 1):
            port, log = free_port(), workdir / f"replica{number}.log"
            settings = clean_env(
                TELLI_API_BASE_URL=sim_url,
                TELLI_MCP_STATE_SECRET=STATE_SECRET,
                TELLI_MCP_DATABASE_URL=database_url,
                TELLI_MCP_CONFIRM="token",
                TELLI_MCP_DATA_DIR=str(workdir / f"replica{number}-data"),
                **(env or {}),
            )
            command = [COMMAND, "--transport", "http", "--host", "127.0.0.1", "--port", str(port)]
            process = stack.enter_context(_process(command, settings, log))
            started.append(Replica(f"replica{number}", port, process, log))
        for replica in started:
            _wait_healthy(replica.port, replica.process, replica.log)
        port, stats_socket = free_port(), workdir / "haproxy-stats.sock"
        config = workdir / "haproxy.cfg"
        config.write_text(
            haproxy_config(
                TEMPLATE.read_text(),
                bind=f"127.0.0.1:{port}",
                servers=[f"127.0.0.1:{replica.port}" for replica in started],
                stats_socket=stats_socket,
            )
        )
        balancer_log = workdir / "lb.log"
        balancer = stack.enter_context(_process([haproxy, "-db", "-f", str(config)], clean_env(), balancer_log))
        _wait_healthy(port, balancer, balancer_log)
        yield Deployment(f"http://127.0.0.1:{port}/mcp", started, balancer, stats_socket)


def wait_until_down(deployment: Deployment, name: str) -> None:
    """Return once HAProxy's health check has taken replica `name` out (bounded)."""
    deadline = time.monotonic() + STEP_SECONDS
    while deployment.stats()[name]["status"] != "DOWN":
        assert time.monotonic() < deadline, f"HAProxy still sends to {name}: {deployment.stats()[name]}"
        time.sleep(0.2)  # polls HAProxy's state, bounded by the deadline; no assertion depends on the wait


@asynccontextmanager
async def mcp_client(
    url: str, api_key: str, *, mode: str = "auto", read_timeout: float = STEP_SECONDS
) -> AsyncIterator[Client]:
    """The SDK's client over streamable HTTP with `api_key` as its bearer token. `read_timeout` bounds each read:
    a tool call's event stream may stay silent that long."""
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {api_key}"}, timeout=read_timeout) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def call(
    client: Client, tool: str, args: dict[str, Any] | None = None, *, within: float = STEP_SECONDS
) -> CallToolResult:
    """A tool call, bounded by `within` seconds."""
    with anyio.fail_after(within):
        return await client.call_tool(tool, args or {})


async def ok(
    client: Client, tool: str, args: dict[str, Any] | None = None, *, within: float = STEP_SECONDS
) -> dict[str, Any]:
    """A tool call that must succeed; its structured content."""
    result = await call(client, tool, args, within=within)
    assert not result.is_error, f"{tool} failed: {text_of(result)}"
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


SCHEDULE_BATCH = "/v1/schedule-calls-batch"


def accepted_schedule_batches(sim: TelliSimulator) -> list[list[str]]:
    """The contact ids of every schedule request telli accepted (HTTP 200), in the order it answered them."""
    return [
        [item["contact_id"] for item in entry.body["contacts"]]
        for entry in list(sim.requests_to("POST", SCHEDULE_BATCH))
        if entry.status == 200
    ]


async def until(condition: Callable[[], bool], what: str, limit: float = STEP_SECONDS) -> None:
    """Poll `condition()` until true, bounded by `limit` (the replicas run on the wall clock)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await anyio.sleep(0.02)  # a bounded poll of another thread's state; no assertion depends on the wait


async def start_confirmed(
    client: Client, args: dict[str, Any], *, within: float
) -> tuple[dict[str, Any], CallToolResult]:
    """start_campaign as a client confirming by token does it: the preview hands out a token, the next call spends
    it. Returns the preview and the confirmed call's result."""
    preview = await ok(client, "start_campaign", args)
    assert preview["status"] == "confirmation_required", preview
    confirmed = {**args, "confirmation_token": preview["confirmation_token"]}
    return preview, await call(client, "start_campaign", confirmed, within=within)
