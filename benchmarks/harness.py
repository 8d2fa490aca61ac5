"""Shared plumbing for the benchmark scripts: subprocesses on loopback, readiness, latency faults, statistics.

Every process started here is stopped by the context manager that started it; every wait is bounded.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2

HOST = "127.0.0.1"
VENV_BIN = Path(sys.executable).parent
TELLI_MCP = str(VENV_BIN / "telli-mcp")
DEMO_KEY = "telli-sandbox-demo-key"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without any TELLI_* setting (never a developer's real key), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELLI_")}
    return {**env, **extra}


@contextmanager
def running(
    command: Sequence[str], env: dict[str, str], *, own_group: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `command` (in its own session and process group if `own_group`); always stop it (terminate, then
    kill after a bounded wait)."""
    process = subprocess.Popen(
        list(command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=own_group
    )
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


INITIALIZE: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
}
INITIALIZED: dict[str, Any] = {"jsonrpc": "2.0", "method": "notifications/initialized"}


class StdioPeer:
    """A stdio MCP server spoken to in raw JSON-RPC lines, so no client library's cost is measured."""

    def __init__(self, command: Sequence[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            list(command), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )

    def send(self, *messages: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in messages))
        self.process.stdin.flush()

    def answer(self, request_id: int, timeout: float = READY_TIMEOUT) -> dict[str, Any]:
        """The response to `request_id` (notifications and other ids are skipped)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()  # a hung server would block here: the caller's run is bounded
            if not line:
                raise RuntimeError(f"server closed stdout before answering request {request_id}")
            message: dict[str, Any] = json.loads(line)
            if message.get("id") == request_id:
                if "error" in message:
                    raise RuntimeError(f"request {request_id} failed: {message['error']}")
                return message
        raise TimeoutError(f"no answer to request {request_id} within {timeout} s")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # EOF ends a stdio server; stop() covers one that lingers
        stop(self.process)


@contextmanager
def stdio_peer(command: Sequence[str], env: dict[str, str]) -> Iterator[StdioPeer]:
    peer = StdioPeer(command, env)
    try:
        yield peer
    finally:
        peer.close()


def list_tools(command: Sequence[str], env: dict[str, str]) -> list[dict[str, Any]]:
    """Every tool a stdio server lists (following nextCursor), as the wire carries them."""
    tools: list[dict[str, Any]] = []
    with stdio_peer(command, env) as peer:
        peer.send(INITIALIZE, INITIALIZED)
        peer.answer(0)
        cursor: str | None = None
        for request_id in range(1, 50):  # bounded: no server here has 50 pages of tools
            params = {"cursor": cursor} if cursor else {}
            peer.send({"jsonrpc": "2.0", "id": request_id, "method": "tools/list", "params": params})
            result = peer.answer(request_id)["result"]
            tools.extend(result["tools"])
            cursor = result.get("nextCursor")
            if not cursor:
                break
    return tools


async def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    """Wait until something accepts TCP connections on `port` (a bare GET /mcp could hang: probe TCP)."""
    with anyio.fail_after(READY_TIMEOUT):
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
            try:
                stream = await anyio.connect_tcp(HOST, port)
            except OSError:
                await anyio.sleep(0.05)
                continue
            await stream.aclose()
            return


def simulator_command(
    port: int, *, api_keys: Sequence[str] = (DEMO_KEY,), seed_demo: bool = True, speed: float = 60.0
) -> list[str]:
    """The HTTP simulator through a tiny launcher, because `telli-mcp simulator` has no option for keys."""
    code = (
        "from telli_mcp.simulator.serve import run_simulator; "
        f"run_simulator(host={HOST!r}, port={port}, seed_demo={seed_demo!r}, api_keys={tuple(api_keys)!r}, "
        f"speed={speed!r})"
    )
    return [sys.executable, "-c", code]


@dataclass(frozen=True)
class Simulator:
    url: str
    process: subprocess.Popen[bytes]


@asynccontextmanager
async def simulator(
    *, api_keys: Sequence[str] = (DEMO_KEY,), seed_demo: bool = True, speed: float = 60.0, own_group: bool = False
) -> AsyncIterator[Simulator]:
    """The HTTP simulator as a subprocess; `speed` is simulated seconds per real second (the dialer's pace)."""
    port = free_port()
    command = simulator_command(port, api_keys=api_keys, seed_demo=seed_demo, speed=speed)
    with running(command, clean_env(), own_group=own_group) as process:
        await wait_for_port(port, process)
        yield Simulator(f"http://{HOST}:{port}", process)


@dataclass(frozen=True)
class HttpServer:
    url: str
    process: subprocess.Popen[bytes]


@asynccontextmanager
async def http_server(
    telli_url: str, *, api_key: str | None = DEMO_KEY, own_group: bool = False, **env: str
) -> AsyncIterator[HttpServer]:
    """`telli-mcp --transport http` pointed at the simulator at `telli_url`."""
    port = free_port()
    settings = {"TELLI_API_BASE_URL": telli_url, **env}
    if api_key is not None:
        settings["TELLI_API_KEY"] = api_key
    command = [TELLI_MCP, "--transport", "http", "--port", str(port)]
    with running(command, clean_env(**settings), own_group=own_group) as process:
        await wait_for_port(port, process)
        yield HttpServer(f"http://{HOST}:{port}/mcp", process)


async def inject_latency(simulator_url: str, seconds: float, *, work_included: bool = False) -> None:
    """Every request to the simulator's API answers `seconds` late (forever: times=-1). With `work_included`, every
    answer leaves `seconds` after its request came, the simulator's own work included (its `answer_time` fault): a
    telli that answers in that time, for a benchmark whose ideal counts that time alone."""
    kind = "answer_time" if work_included else "latency"
    async with httpx2.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{simulator_url}/_sim/faults", json={"kind": kind, "latency": seconds, "times": -1, "path": "/v*"}
        )
        response.raise_for_status()


def rss_mib(pid: int) -> float:
    """Resident set size of `pid` in MiB, from /proc/<pid>/status (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def reset_peak_rss() -> float:
    """Reset this process's peak resident set size (VmHWM) to its current size; return that size in MiB.

    Linux only (`/proc/self/clear_refs`, mode 5): from here on `peak_rss_mib()` is the high-water mark of
    what follows, not of what came before."""
    Path("/proc/self/clear_refs").write_text("5")
    return rss_mib(os.getpid())


def peak_rss_mib() -> float:
    """This process's peak resident set size since start or the last `reset_peak_rss()`, in MiB (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM for this process")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank; plenty for latency reporting."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def machine() -> str:
    """CPU model, cores, RAM, Python, OS: the line every results table starts with."""
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {ram:.0f} GiB RAM, Python {platform.python_version()}, {_os_name()}"


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        return f"{platform.system()} {platform.release()}"


def load_average() -> str:
    """Other work on the machine skews absolute numbers; print it so a reader can tell."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "n/a"


def banner(title: str) -> None:
    print(f"== {title} ({time.strftime('%Y-%m-%d %H:%M')}) ==")
    print(f"machine: {machine()}; load average at start: {load_average()}")


async def interleaved(
    probes: dict[str, Callable[[], Awaitable[None]]], calls: int, *, warmup: int
) -> dict[str, list[float]]:
    """Seconds per call of each probe, `calls` rounds in which every probe runs once in turn (after `warmup`
    unmeasured rounds), so other load on the machine hits every side alike."""
    for _ in range(warmup):
        for probe in probes.values():
            await probe()
    samples: dict[str, list[float]] = {name: [] for name in probes}
    for _ in range(calls):
        for name, probe in probes.items():
            started = time.perf_counter()
            await probe()
            samples[name].append(time.perf_counter() - started)
    return samples
