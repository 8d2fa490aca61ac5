"""Replicas: read-tool throughput and p95 latency through 1 replica and through 2 replicas behind HAProxy.

    .venv/bin/python benchmarks/replicas.py            # 32 clients x 10 calls per burst, 5 repeats, 20 ms telli latency
    TELLI_MCP_TEST_DATABASE_URL=... .venv/bin/python benchmarks/replicas.py --repeats 3   # an existing PostgreSQL

Two deployments run at once, each started by the plumbing the deployment tests use (tests/deploy/deployment.py: the
repo's deploy/haproxy.cfg with only its addresses changed, `telli-mcp --transport http` replicas with their own data
directories sharing TELLI_MCP_STATE_SECRET and one PostgreSQL schema): one replica behind HAProxy, and two replicas
behind another HAProxy. All of them talk to one HTTP simulator whose every API answer is `--latency` late. Three
sides are measured, interleaved (the order rotates each repeat, after one unmeasured warm-up burst per side):

* `1 direct`: the single replica, without the balancer;
* `1 + haproxy`: the same replica through its HAProxy (the same hop as the side it is compared with);
* `2 + haproxy`: two replicas through HAProxy, balanced round robin request by request (the 2026-07-28 era).

A burst is `--clients` SDK clients (opened once per side, before the repeats), each making `--calls` read-tool
calls one after another, all clients at once: get_contact, list_calls, list_agents, list_contacts in rotation (the
load test's mix, `load.plan_call`; get_contact is two telli reads at once, the others one). Per burst it prints the
throughput, p50 and p95 latency, the CPU per call of the side's replicas, its HAProxy, the simulator and this
driver (from /proc), and the ceiling those imply (cores / their CPU per call: what the machine could give if the
processes were bound by nothing but CPU); per repeat, the ratios 2 : 1 replicas and the HAProxy hop; at the end
the medians of the ratios. Exits 1 if any call fails.

PostgreSQL: the server TELLI_MCP_TEST_DATABASE_URL names (the tests' server; an environment variable, as the URL
carries a password and never goes on a command line), else one started for this run with `.ci/postgres.sh` (a
throwaway cluster, stopped when the run ends). The replicas get a fresh schema in it, dropped at the end. Read
tools do not touch the database (it holds spent confirmation tokens, the campaign ledger, the do-not-call list and
webhook events); it is there because a deployment of replicas has it.

The replicas, the balancers and the simulator each run in their own session and process group, apart from this
driver's. They all share the machine's cores (printed): on a machine with few cores the driver and the simulator
compete with the replicas, and the server CPU per call is the figure that does not depend on them. Loopback only;
every process is stopped; bounded in time.
"""

from __future__ import annotations

import argparse
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from harness import DEMO_KEY, banner, cpu_seconds, inject_latency, median, ms, percentile, simulator
from load import plan_call
from mcp import Client

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "deploy")]  # the deployment plumbing the tests use

from deployment import Deployment, call, deployed, find_haproxy, mcp_client, ok, text_of  # noqa: E402
from postgres_helpers import TEST_DATABASE_VARIABLE, fresh_schema  # noqa: E402

CALL_TIMEOUT = 60.0
RUN_TIMEOUT = 300.0
POSTGRES_START_TIMEOUT = 120.0


@dataclass
class Side:
    """One way to reach the replicas: the URL the clients use and the processes that serve it."""

    name: str
    url: str
    servers: list[subprocess.Popen[bytes]]
    balancer: subprocess.Popen[bytes] | None
    clients: list[Client] = field(default_factory=list)


@dataclass
class Burst:
    latencies: list[float]
    failures: list[str]
    wall: float
    server_cpu: float
    balancer_cpu: float
    simulator_cpu: float
    driver_cpu: float

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 95)

    def per_call(self, seconds: float) -> float:
        return seconds / max(len(self.latencies), 1)

    @property
    def ceiling(self) -> float:
        """Calls/s this machine's cores could give if the processes measured used nothing but their CPU per call."""
        total = self.server_cpu + self.balancer_cpu + self.simulator_cpu + self.driver_cpu
        return (os.cpu_count() or 1) / self.per_call(total) if total else float("inf")


def _cpu(processes: Sequence[subprocess.Popen[bytes] | None]) -> float:
    return sum(cpu_seconds(process.pid) for process in processes if process is not None)


async def one_client(client: Client, client_no: int, calls: int, contact_ids: list[str], burst: Burst) -> None:
    for call_no in range(calls):
        tool, args = plan_call(client_no, call_no, contact_ids)
        started = time.perf_counter()
        try:
            result = await call(client, tool, args, within=CALL_TIMEOUT)
        except Exception as error:  # a benchmark counts every kind of failure, it does not stop
            burst.failures.append(f"{tool}: {type(error).__name__}: {error}"[:300])
            continue
        if result.is_error:
            burst.failures.append(f"{tool}: {text_of(result)}"[:300])
        else:
            burst.latencies.append(time.perf_counter() - started)


async def run_burst(side: Side, calls: int, contact_ids: list[str], sim_pid: int) -> Burst:
    burst = Burst([], [], 0.0, 0.0, 0.0, 0.0, 0.0)
    cpu_before = _cpu(side.servers), _cpu([side.balancer]), cpu_seconds(sim_pid), time.process_time()
    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for client_no, client in enumerate(side.clients):
            group.start_soon(one_client, client, client_no, calls, contact_ids, burst)
    burst.wall = time.perf_counter() - started
    cpu_after = _cpu(side.servers), _cpu([side.balancer]), cpu_seconds(sim_pid), time.process_time()
    burst.server_cpu, burst.balancer_cpu, burst.simulator_cpu, burst.driver_cpu = (
        after - before for before, after in zip(cpu_before, cpu_after, strict=True)
    )
    return burst


def describe(name: str, burst: Burst) -> str:
    balancer = f", haproxy {burst.per_call(burst.balancer_cpu) * 1000:.2f}" if burst.balancer_cpu else ""
    failed = f"; FAILED {len(burst.failures)}" if burst.failures else ""
    return (
        f"  {name:<12} {burst.throughput:6.1f} calls/s, p50 {ms(percentile(burst.latencies, 50))}, "
        f"p95 {ms(burst.p95)}; CPU ms/call: replicas {burst.per_call(burst.server_cpu) * 1000:.2f}{balancer}, "
        f"simulator {burst.per_call(burst.simulator_cpu) * 1000:.2f}, driver "
        f"{burst.per_call(burst.driver_cpu) * 1000:.2f} (CPU-bound ceiling {burst.ceiling:.0f} calls/s){failed}"
    )


@dataclass(frozen=True)
class Ratios:
    throughput: float
    p95: float


def ratios(numerator: Burst, denominator: Burst) -> Ratios:
    return Ratios(numerator.throughput / denominator.throughput, numerator.p95 / denominator.p95)


COMPARISONS = (("2 replicas : 1", "2 + haproxy", "1 + haproxy"), ("haproxy hop", "1 + haproxy", "1 direct"))


async def measure(sides: list[Side], args: argparse.Namespace, contact_ids: list[str], sim_pid: int) -> int:
    for side in sides:  # warm-up: imports, connection pools, HAProxy's connections
        await run_burst(side, args.calls, contact_ids, sim_pid)
    found: dict[str, list[Ratios]] = {label: [] for label, _, _ in COMPARISONS}
    failures: list[str] = []
    for repeat in range(args.repeats):
        order = sides[repeat % len(sides) :] + sides[: repeat % len(sides)]
        bursts = {side.name: await run_burst(side, args.calls, contact_ids, sim_pid) for side in order}
        print(f"-- repeat {repeat + 1}/{args.repeats} (order: {', '.join(side.name for side in order)})")
        for side in sides:
            print(describe(side.name, bursts[side.name]))
            failures += bursts[side.name].failures
        for label, numerator, denominator in COMPARISONS:
            found[label].append(ratios(bursts[numerator], bursts[denominator]))
            latest = found[label][-1]
            print(f"  {label}: throughput x{latest.throughput:.2f}, p95 x{latest.p95:.2f}")
    print(f"-- medians over {args.repeats} repeats (each ratio measured within one repeat)")
    for label, _, _ in COMPARISONS:
        print(
            f"  {label}: throughput x{median([r.throughput for r in found[label]]):.2f} "
            f"({', '.join(f'{r.throughput:.2f}' for r in found[label])}), "
            f"p95 x{median([r.p95 for r in found[label]]):.2f} ({', '.join(f'{r.p95:.2f}' for r in found[label])})"
        )
    for failure in failures[:5]:
        print(f"  error: {failure}")
    print(f"RESULT: {'PASS' if not failures else 'FAIL'}: {len(failures)} failed calls")
    return 0 if not failures else 1


@contextmanager
def postgres_server(given: str | None) -> Iterator[str]:
    """The PostgreSQL server to use: the one given, else one started for this run with .ci/postgres.sh."""
    if given:
        yield given
        return
    # The script's EXIT trap stops the cluster and deletes its directory; bash waits on its stdin, which closes
    # when this process ends, however it ends. The URL (it carries the password) comes back on a pipe.
    script = (
        'source .ci/postgres.sh && start_postgres >&2 && printf "%s\\n" "$TELLI_MCP_TEST_DATABASE_URL" && read -r _'
    )
    process = subprocess.Popen(
        ["bash", "-c", script], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        ready, _, _ = select.select([process.stdout], [], [], POSTGRES_START_TIMEOUT)
        url = process.stdout.readline().decode().strip() if ready else ""
        if not url:
            raise RuntimeError("could not start PostgreSQL with .ci/postgres.sh (its output is above)")
        yield url
    finally:
        process.stdin.close()
        process.wait(timeout=60)


@asynccontextmanager
async def opened_clients(sides: list[Side], count: int) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        for side in sides:
            side.clients = [await stack.enter_async_context(mcp_client(side.url, DEMO_KEY)) for _ in range(count)]
        yield


def sides_of(single: Deployment, double: Deployment) -> list[Side]:
    replica = single.replicas[0]
    return [
        Side("1 direct", replica.url, [replica.process], None),
        Side("1 + haproxy", single.url, [replica.process], single.balancer),
        Side("2 + haproxy", double.url, [r.process for r in double.replicas], double.balancer),
    ]


async def main_async(args: argparse.Namespace) -> int:
    haproxy = find_haproxy()
    if haproxy is None:
        print("needs HAProxy: `sudo apt-get install -y haproxy`")
        return 2
    banner(
        f"replicas: {args.clients} clients x {args.calls} read calls per burst, {args.repeats} repeats, "
        f"telli latency {ms(args.latency)}"
    )
    print(f"cores (os.cpu_count()): {os.cpu_count()}")
    with ExitStack() as stack, anyio.fail_after(RUN_TIMEOUT):
        server = stack.enter_context(postgres_server(os.environ.get(TEST_DATABASE_VARIABLE, "").strip()))
        database_url = stack.enter_context(fresh_schema(server))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="telli-replicas-")))
        async with simulator(own_group=True) as sim:
            await inject_latency(sim.url, args.latency)
            with ExitStack() as deployments:  # stopped before the simulator is
                single, double = (
                    deployments.enter_context(
                        deployed(
                            replicas=count,
                            sim_url=sim.url,
                            database_url=database_url,
                            workdir=workdir / f"{count}",
                            haproxy=haproxy,
                        )
                    )
                    for count in (1, 2)
                )
                return await measure_deployments(single, double, args, sim.process.pid)


async def measure_deployments(single: Deployment, double: Deployment, args: argparse.Namespace, sim_pid: int) -> int:
    print(
        f"process groups: driver {os.getpgid(0)}, simulator {os.getpgid(sim_pid)}, replicas "
        f"{sorted(os.getpgid(r.process.pid) for r in single.replicas + double.replicas)}, haproxy "
        f"{sorted(os.getpgid(d.balancer.pid) for d in (single, double))}"
    )
    sides = sides_of(single, double)
    async with opened_clients(sides, args.clients):
        listed = await ok(sides[0].clients[0], "list_contacts", {"limit": 50})
        contact_ids = [contact["contact_id"] for contact in listed["contacts"]]
        return await measure(sides, args, contact_ids, sim_pid)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="clients calling at once in a burst")
    parser.add_argument("--calls", type=int, default=10, help="calls each client makes per burst, one after another")
    parser.add_argument("--repeats", type=int, default=5, help="measured bursts per side, interleaved")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every telli API answer")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(anyio.run(main_async, parse_args(sys.argv[1:])))
