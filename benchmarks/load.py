"""Load test: many concurrent MCP clients against one `telli-mcp --transport http` server.

    .venv/bin/python benchmarks/load.py            # 200 clients x 20 read-tool calls, 30 ms telli latency

The server runs as a subprocess pointed at the HTTP simulator (another subprocess) whose every API answer
is delayed by `--latency` seconds. Each client is an SDK `Client(url)` that makes `--calls` calls in a row
(get_contact, list_calls, list_agents, list_contacts in rotation); all clients run at once, for `--rounds`
rounds, after a one-client baseline. It prints failed calls, p50/p95/p99 latency, throughput (and their
ratios to the baseline), CPU per call of each process (server, simulator, this driver; from /proc/<pid>/stat)
and the server's RSS (VmRSS) at rest before and after. It exits 1
if any call failed, the RSS grew by more than `--rss-bound` MiB in all, or by more than `--leak-bound` MiB
from the end of round 1 to the end of the last round. Loopback only; bounded in count and time.

The server and the simulator each run in their own session and process group, apart from the driver's, so
signals to the driver (Ctrl-C) never reach them and each can be watched or reniced on its own. They still
share the machine's cores: the server's CPU per call is the figure that does not depend on the driver.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import anyio
from harness import (
    HttpServer,
    Simulator,
    banner,
    cpu_seconds,
    http_server,
    inject_latency,
    median,
    ms,
    percentile,
    rss_mib,
    simulator,
)
from mcp import Client

CALL_TIMEOUT = 60.0
RUN_TIMEOUT = 300.0
SETTLE_SECONDS = 2.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    rss_peak: float = 0.0

    def fail(self, message: str, count: int = 1) -> None:
        self.failures += count
        if len(self.errors) < 5:  # a few samples explain a failure; thousands would drown the report
            self.errors.append(message[:300])


def plan_call(client_no: int, call_no: int, contact_ids: list[str]) -> tuple[str, dict[str, Any]]:
    """Read tools in rotation, offset per client so every tool is in flight at every moment."""
    slot = (client_no + call_no) % 4
    if slot == 0:
        return "get_contact", {"contact_id": contact_ids[(client_no + call_no) % len(contact_ids)]}
    if slot == 1:
        return "list_calls", {"limit": 10}
    if slot == 2:
        return "list_agents", {}
    return "list_contacts", {"limit": 20}


async def one_client(url: str, mode: str, client_no: int, calls: int, contact_ids: list[str], tally: Tally) -> None:
    made = 0
    try:
        async with Client(url, mode=mode) as client:
            for call_no in range(calls):
                made += 1
                tool, args = plan_call(client_no, call_no, contact_ids)
                started = time.perf_counter()
                try:
                    with anyio.fail_after(CALL_TIMEOUT):
                        result = await client.call_tool(tool, args)
                except Exception as error:  # a load test counts every kind of failure, it does not stop
                    tally.fail(f"{tool}: {type(error).__name__}: {error}")
                    continue
                tally.latencies.append(time.perf_counter() - started)
                if result.is_error:
                    tally.fail(f"{tool}: isError: {result.content}")
    except Exception as error:  # connecting or closing failed: the calls this client never made count as failed
        tally.fail(f"client {client_no}: {type(error).__name__}: {error}", count=max(1, calls - made))


async def sample_rss(pid: int, tally: Tally) -> None:
    while True:
        tally.rss_peak = max(tally.rss_peak, rss_mib(pid))
        await anyio.sleep(0.2)


async def demo_contact_ids(url: str, mode: str) -> list[str]:
    async with Client(url, mode=mode) as client:
        result = await client.call_tool("list_contacts", {"limit": 50})
    if result.is_error or result.structured_content is None:
        raise RuntimeError(f"list_contacts failed: {result.content}")
    return [contact["contact_id"] for contact in result.structured_content["contacts"]]


async def warm_up(url: str, mode: str, contact_ids: list[str]) -> None:
    """One call of each tool, so imports and caches are in place before the 'before' RSS reading."""
    async with Client(url, mode=mode) as client:
        for call_no in range(4):
            tool, args = plan_call(0, call_no, contact_ids)
            await client.call_tool(tool, args)


def cpu_now(server_pid: int, simulator_pid: int) -> tuple[float, float, float]:
    return cpu_seconds(server_pid), cpu_seconds(simulator_pid), time.process_time()


@dataclass(frozen=True)
class Shape:
    """How many clients run at once and how many calls each makes, in which protocol era."""

    clients: int
    calls: int
    mode: str

    @property
    def planned(self) -> int:
        return self.clients * self.calls


async def run_round(url: str, shape: Shape, pid: int, contact_ids: list[str]) -> tuple[Tally, float]:
    tally = Tally()
    started = time.perf_counter()
    with anyio.fail_after(RUN_TIMEOUT):
        async with anyio.create_task_group() as background:
            background.start_soon(sample_rss, pid, tally)
            async with anyio.create_task_group() as load:
                for client_no in range(shape.clients):
                    load.start_soon(one_client, url, shape.mode, client_no, shape.calls, contact_ids, tally)
            background.cancel_scope.cancel()
    return tally, time.perf_counter() - started


def report_cpu(before: tuple[float, float, float], after: tuple[float, float, float], calls: int) -> None:
    """Where the 2 cores went: server, simulator (stand-in for telli) and this load driver."""
    names = ("server", "simulator", "load driver")
    parts = [
        f"{name} {a - b:.1f} s ({(a - b) / max(calls, 1) * 1000:.2f} ms/call)"
        for name, b, a in zip(names, before, after, strict=True)
    ]
    print("CPU: " + ", ".join(parts))
    server = (after[0] - before[0]) / max(calls, 1) * 1000
    print(f"server CPU per call: {server:.2f} ms (user + system, /proc/<pid>/stat of the server process)")


def report(tally: Tally, wall: float, planned: int) -> None:
    expected = planned
    done = len(tally.latencies)
    print(
        f"calls: {done} answered of {expected} planned; failed: {tally.failures} "
        f"(unaccounted: {expected - done - tally.failures})"
    )
    if tally.latencies:
        print(
            f"latency: p50 {ms(percentile(tally.latencies, 50))}, p95 {ms(percentile(tally.latencies, 95))}, "
            f"p99 {ms(percentile(tally.latencies, 99))}, max {ms(max(tally.latencies))}, "
            f"median {ms(median(tally.latencies))}"
        )
    print(f"wall: {wall:.1f} s; throughput: {done / wall:.1f} calls/s")
    for error in tally.errors:
        print(f"  error: {error}")


@dataclass(frozen=True)
class Round:
    tally: Tally
    wall: float
    rss_after: float


async def baseline(url: str, args: argparse.Namespace, pid: int, contact_ids: list[str]) -> tuple[Tally, float]:
    """One client alone, same tools: the latency a call has when nothing else is going on."""
    shape = Shape(1, args.baseline_calls, args.mode)
    tally, wall = await run_round(url, shape, pid, contact_ids)
    print(f"-- baseline: 1 client x {shape.calls} calls, mode={args.mode}, telli latency {ms(args.latency)}")
    report(tally, wall, shape.planned)
    return tally, wall


def compare(load: Tally, wall: float, alone: Tally, alone_wall: float) -> None:
    """Side by side in the same run: what 200 concurrent clients do to one call, and to throughput."""
    if load.latencies and alone.latencies:
        p50_ratio = percentile(load.latencies, 50) / percentile(alone.latencies, 50)
        throughput_ratio = (len(load.latencies) / wall) / (len(alone.latencies) / alone_wall)
        print(f"vs 1 client alone: p50 x{p50_ratio:.1f}, throughput x{throughput_ratio:.1f}")


async def measure(server: HttpServer, sim: Simulator, args: argparse.Namespace) -> tuple[float, list[Round]]:
    """Warm the server up, read its RSS at rest, then run the rounds; returns (RSS before, rounds)."""
    pid = server.process.pid
    contact_ids = await demo_contact_ids(server.url, args.mode)
    await warm_up(server.url, args.mode, contact_ids)
    alone, alone_wall = await baseline(server.url, args, pid, contact_ids)
    rss_before = rss_mib(pid)
    shape = Shape(args.clients, args.calls, args.mode)
    rounds = []
    for round_no in range(1, args.rounds + 1):
        cpu_before = cpu_now(pid, sim.process.pid)
        tally, wall = await run_round(server.url, shape, pid, contact_ids)
        cpu_after = cpu_now(pid, sim.process.pid)
        await anyio.sleep(SETTLE_SECONDS)  # let closed sessions be torn down before reading RSS
        rss_after = rss_mib(pid)
        print(
            f"-- round {round_no}: {args.clients} clients x {args.calls} calls at once, mode={args.mode}, "
            f"telli latency {ms(args.latency)}"
        )
        report(tally, wall, shape.planned)
        compare(tally, wall, alone, alone_wall)
        report_cpu(cpu_before, cpu_after, len(tally.latencies))
        print(
            f"server RSS: before {rss_before:.1f} MiB, peak {tally.rss_peak:.1f} MiB, "
            f"after {rss_after:.1f} MiB (growth {rss_after - rss_before:+.1f} MiB)"
        )
        rounds.append(Round(tally, wall, rss_after))
    return rss_before, rounds


def verdict(rss_before: float, rounds: list[Round], args: argparse.Namespace) -> int:
    planned = args.clients * args.calls
    failed = sum(max(r.tally.failures, planned - len(r.tally.latencies)) for r in rounds)
    growth = rounds[-1].rss_after - rss_before
    # CPython keeps freed arenas, so round 1's high-water mark stays resident; a leak shows as later rounds growing.
    leak = rounds[-1].rss_after - rounds[0].rss_after
    passed = failed == 0 and growth <= args.rss_bound and leak <= args.leak_bound
    print(
        f"RESULT: {'PASS' if passed else 'FAIL'}: {failed} failed calls; RSS growth {growth:+.1f} MiB "
        f"(bound {args.rss_bound:.0f}); growth after round 1 {leak:+.1f} MiB (bound {args.leak_bound:.0f})"
    )
    return 0 if passed else 1


async def main_async(args: argparse.Namespace) -> int:
    banner(f"load: {args.clients} concurrent MCP clients x {args.calls} calls over streamable HTTP")
    async with simulator(own_group=True) as sim:
        await inject_latency(sim.url, args.latency)
        async with http_server(sim.url, own_group=True) as server:
            print(
                f"process groups: driver {os.getpgid(0)}, server {os.getpgid(server.process.pid)}, "
                f"simulator {os.getpgid(sim.process.pid)}"
            )
            rss_before, rounds = await measure(server, sim, args)
    return verdict(rss_before, rounds, args)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--calls", type=int, default=20, help="tool calls per client, made one after another")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds added to every telli API answer")
    parser.add_argument(
        "--mode",
        choices=["auto", "legacy"],
        default="auto",
        help="auto: 2026-07-28 stateless requests; legacy: 2025-11-25 sessions",
    )
    parser.add_argument("--baseline-calls", type=int, default=100, help="calls of the one-client baseline")
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds of the whole load; RSS growth is judged after the last"
    )
    parser.add_argument(
        "--rss-bound",
        type=float,
        default=128.0,
        help="allowed server RSS growth over the whole run, MiB (the sessions' high-water mark)",
    )
    parser.add_argument(
        "--leak-bound",
        type=float,
        default=16.0,
        help="allowed server RSS growth from the end of round 1 to the end of the last, MiB",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(anyio.run(main_async, parse_args(sys.argv[1:])))
