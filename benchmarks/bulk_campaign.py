"""Bulk campaign: 10,000 leads through the campaign engine against a slow telli.

    .venv/bin/python benchmarks/bulk_campaign.py [--leads 10000] [--latency 0.05]

`telli_mcp.campaigns.CampaignEngine` with its default `RunOptions`, against the HTTP simulator (a
subprocess) whose every API answer is delayed by `--latency` seconds. Prints the requests sent (counted by
the simulator's own request log) against the minimum possible, ceil(leads/1000) add-contacts-batch +
ceil(leads/50) schedule-calls-batch, and the wall time against the ideal for the concurrency used: for each
kind of request, ceil(requests/concurrency) x latency, plus latency for each sequential request. It also checks,
from the simulator's log, that no contact was named by more than one schedule request (exit 1 otherwise).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx2
from harness import DEMO_KEY, banner, cpu_seconds, inject_latency, simulator

from telli_mcp.campaigns import CampaignEngine, CampaignProgress, CampaignRequest, Ledger, RunOptions
from telli_mcp.client import TelliClient

ADD_BATCH = "/v1/add-contacts-batch"
SCHEDULE_BATCH = "/v1/schedule-calls-batch"
CONTACTS_PER_ADD = 1000
CONTACTS_PER_SCHEDULE = 50
DIALER_SPEED = 0.001  # simulated time barely moves: telli's dialer work is not part of what is measured
RUN_TIMEOUT = 110.0


def make_leads(count: int) -> list[dict[str, Any]]:
    """Distinct, valid German numbers and external ids (so no lead is a duplicate of another)."""
    return [
        {
            "external_id": f"bulk-{n:05d}",
            "first_name": "Lead",
            "last_name": f"Number{n}",
            "phone_number": f"+4930{7000000 + n}",
            "timezone": "Europe/Berlin",
        }
        for n in range(count)
    ]


async def first_agent_id(client: TelliClient) -> str:
    page = await client.agents.list(limit=1)
    return page.items[0].id


async def logged_requests(simulator_url: str) -> list[dict[str, Any]]:
    async with httpx2.AsyncClient(timeout=30) as http:
        response = await http.get(f"{simulator_url}/_sim/requests")
        response.raise_for_status()
    return list(response.json()["requests"])


def requests_by_path(entries: list[dict[str, Any]]) -> Counter[str]:
    return Counter(entry["path"] for entry in entries if entry["path"].startswith("/v"))


def scheduled_more_than_once(entries: list[dict[str, Any]]) -> int:
    """Contacts named by more than one schedule request the simulator received."""
    named = Counter(
        item["contact_id"] for entry in entries if entry["path"] == SCHEDULE_BATCH for item in entry["body"]["contacts"]
    )
    return sum(1 for times in named.values() if times > 1)


def kind_of(path: str) -> str:
    return path if path in (ADD_BATCH, SCHEDULE_BATCH) else "other (plan: schema, agent, checks)"


def ideal_seconds(counts: Counter[str], options: RunOptions, latency: float) -> float:
    """The wall time if every request took exactly `latency` and the concurrency were always used fully."""
    concurrency = {ADD_BATCH: options.contact_concurrency, SCHEDULE_BATCH: options.schedule_concurrency}
    return sum(math.ceil(n / concurrency.get(path, 1)) * latency for path, n in counts.items())


def report(
    counts: Counter[str], leads: int, wall: float, cpu: tuple[float, float], options: RunOptions, latency: float
) -> None:
    total = sum(counts.values())
    minimum = math.ceil(leads / CONTACTS_PER_ADD) + math.ceil(leads / CONTACTS_PER_SCHEDULE)
    by_kind: Counter[str] = Counter()
    for path, n in counts.items():
        by_kind[kind_of(path)] += n
    print(
        f"requests: {total} sent vs minimum {minimum} (ratio {total / minimum:.3f}); by kind: "
        + ", ".join(f"{kind} {n}" for kind, n in sorted(by_kind.items()))
    )
    ideal = ideal_seconds(counts, options, latency)
    print(
        f"wall: {wall:.2f} s vs ideal {ideal:.2f} s for contact_concurrency={options.contact_concurrency}, "
        f"schedule_concurrency={options.schedule_concurrency} at {latency * 1000:.0f} ms (ratio "
        f"{wall / ideal:.2f}x); {leads / wall:.0f} leads/s"
    )
    print(f"CPU: engine (this process) {cpu[0]:.2f} s, simulator (stand-in for telli's servers) {cpu[1]:.2f} s")


class Timeline:
    """When each phase's first and last progress event came (seconds since the start)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.phases: dict[str, list[float]] = {}

    async def __call__(self, event: CampaignProgress) -> None:
        self.phases.setdefault(event.phase, []).append(time.perf_counter() - self.started)

    def describe(self) -> str:
        # Events fire after a chunk is answered, so the first one also includes that chunk's round trip.
        return "; ".join(
            f"{phase}: {len(marks)} progress events, first at {marks[0]:.2f} s, last at {marks[-1]:.2f} s"
            for phase, marks in self.phases.items()
        )


async def run_campaign(sim_url: str, agent_id: str, leads: int, ledger_dir: Path) -> tuple[Any, float, float, Timeline]:
    options = RunOptions()
    async with TelliClient(DEMO_KEY, base_url=sim_url) as client:
        engine = CampaignEngine(client, Ledger(ledger_dir / "campaigns.sqlite3"), options=options)
        request = CampaignRequest(agent_id=agent_id, leads=make_leads(leads), name="bulk benchmark")
        timeline = Timeline()
        cpu_started = time.process_time()
        result = await engine.start(request, on_progress=timeline)
        return result, time.perf_counter() - timeline.started, time.process_time() - cpu_started, timeline


async def main_async(args: argparse.Namespace) -> int:
    banner(f"bulk campaign: {args.leads} leads, {args.latency * 1000:.0f} ms per telli request")
    with anyio.fail_after(RUN_TIMEOUT), tempfile.TemporaryDirectory() as ledger_dir:
        async with simulator(speed=DIALER_SPEED) as sim:
            async with TelliClient(DEMO_KEY, base_url=sim.url) as setup:
                agent_id = await first_agent_id(setup)  # picking the agent is the caller's job, not measured
            await inject_latency(sim.url, args.latency)
            before, sim_cpu = requests_by_path(await logged_requests(sim.url)), cpu_seconds(sim.process.pid)
            result, wall, cpu, timeline = await run_campaign(sim.url, agent_id, args.leads, Path(ledger_dir))
            sim_cpu = cpu_seconds(sim.process.pid) - sim_cpu
            entries = await logged_requests(sim.url)
            counts = requests_by_path(entries) - before
    print(
        f"campaign {result.campaign_id}: status {result.status}, created {result.contacts_created}, "
        f"scheduled {result.scheduled_total}, failed {result.failed}, unknown {result.unknown}"
    )
    report(counts, args.leads, wall, (cpu, sim_cpu), RunOptions(), args.latency)
    print(f"timeline (validation of the leads runs before the first contacts event): {timeline.describe()}")
    twice = scheduled_more_than_once(entries)
    print(f"none twice: {twice} contacts were named by more than one schedule request (must be 0)")
    return 0 if result.scheduled_total == args.leads and twice == 0 else 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="10,000-lead campaign against a slow simulated telli")
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every telli API answer")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(anyio.run(main_async, parse_args(sys.argv[1:])))
