"""Bulk campaign: 10,000 leads through the campaign engine against a slow telli.

    .venv/bin/python benchmarks/bulk_campaign.py [--leads 10000] [--latency 0.05] [--latency-after-work]
        [--status-pages 3] [--repeats 1]

`telli_mcp.campaigns.CampaignEngine` with its default `RunOptions`, against the HTTP simulator (a
subprocess) whose every API answer leaves `--latency` seconds after its request came: the simulator's own work
(checking each request against telli's contract, storing 50,000 contacts) is done within that time, as telli's
would be, because the ideal below counts that time alone (`--latency-after-work` adds the latency after that work
instead, as this benchmark did until 2026-12-01). Its clock stands still, so its dialer calls nobody: telli's
dialing is telli's work, not the engine's. Prints the requests sent (counted by
the simulator's own request log) against the minimum possible, ceil(leads/1000) add-contacts-batch +
ceil(leads/50) schedule-calls-batch, and the wall time against the ideal for the concurrency used: for each
kind of request, ceil(requests/concurrency) x latency, plus one latency for the plan's reads (the schema, the
agent), which go out together.

Memory: the peak resident set size (VmHWM) of this process, reset just before `engine.start` and read after
it, minus the size at the reset. The leads handed to the engine (the input list and the validated request)
are built before the reset, so they are not counted; everything the engine builds from them is.

get_campaign: after the run, still at `--latency`, the status pages through the code path of the MCP tool
(the store's engine and the tool's view of the report), following `next_cursor`: the first page, the second,
the last one asked for, and the first page again (within the cache's few seconds). Each line gives the time
and the telli requests that page sent (counted on the client's transport; their sum is checked against the
simulator's log).

Then it checks every lead, one by one, against telli's side (exit 1 if any check fails): the simulator's
contacts (read through its API once the latency is lifted) map each lead's external id to its contact, the
request log says how many accepted (HTTP 200) schedule requests named that contact, and the contact's
`autoDialerStatus` says whether it is in the dialer. Each lead must have exactly one contact, be named by
exactly one accepted schedule request, and be in the dialer; nothing else may have been scheduled.
"""

from __future__ import annotations

import argparse
import gc
import math
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
from harness import DEMO_KEY, banner, cpu_seconds, inject_latency, peak_rss_mib, reset_peak_rss, simulator

from telli_mcp.campaigns import CampaignEngine, CampaignProgress, CampaignRequest, Ledger, RunOptions
from telli_mcp.campaigns.store import CampaignStore
from telli_mcp.client import TelliClient
from telli_mcp.server.tools.campaigns import campaign_status_view

ADD_BATCH = "/v1/add-contacts-batch"
SCHEDULE_BATCH = "/v1/schedule-calls-batch"
CONTACTS_PER_ADD = 1000
CONTACTS_PER_SCHEDULE = 50
DIALER_SPEED = 0.0  # simulated time stands still: telli's dialer work is not part of what is measured
RUN_TIMEOUT = 110.0
MAX_PAGES = 2_000  # 100 contacts a page: room for the largest benchmark plus the demo data


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


async def telli_contacts(simulator_url: str) -> list[dict[str, Any]]:
    """Every contact the simulator holds, paged through its v2 API (raw HTTP: the check does not trust our client)."""
    contacts: list[dict[str, Any]] = []
    params: dict[str, str | int] = {"limit": 100}
    async with httpx2.AsyncClient(
        base_url=simulator_url, timeout=30, headers={"Authorization": f"Bearer {DEMO_KEY}"}
    ) as http:
        await http.delete("/_sim/faults")  # lift the latency: this reading is not part of what is measured
        for _ in range(MAX_PAGES):
            response = await http.get("/v2/contacts", params=params)
            response.raise_for_status()
            page = response.json()
            contacts.extend(page["data"])
            cursor = page["pageInfo"].get("nextCursor")
            if not page["pageInfo"].get("hasNextPage") or not cursor:
                return contacts
            params = {"limit": 100, "cursor": cursor}
    raise RuntimeError(f"more than {MAX_PAGES} pages of contacts")


@dataclass(frozen=True)
class PerLead:
    """How many leads broke each rule; all zero means every lead was scheduled exactly once."""

    leads: int
    no_contact: int
    several_contacts: int
    never_scheduled: int
    scheduled_twice: int
    not_in_dialer: int
    stray: int
    """Contacts named by an accepted schedule request that belong to no lead of this campaign."""

    @property
    def ok(self) -> bool:
        return all(getattr(self, name) == 0 for name in (*PER_LEAD_RULES, "stray"))


def check_each_lead(leads: int, contacts: list[dict[str, Any]], entries: list[dict[str, Any]]) -> PerLead:
    by_external: dict[str, list[dict[str, Any]]] = {}
    for contact in contacts:
        by_external.setdefault(contact.get("externalId") or "", []).append(contact)
    # A 200 means telli accepted the batch; a request that failed or never answered scheduled nobody here.
    named = Counter(
        item["contact_id"]
        for entry in entries
        if entry["path"] == SCHEDULE_BATCH and entry["status"] == 200
        for item in entry["body"]["contacts"]
    )
    tally: Counter[str] = Counter()
    mine: set[str] = set()
    for lead in make_leads(leads):
        found = by_external.get(lead["external_id"], [])
        if len(found) != 1:
            tally["no_contact" if not found else "several_contacts"] += 1
            continue
        contact = found[0]
        mine.add(contact["id"])
        times = named[contact["id"]]
        tally["never_scheduled"] += times == 0
        tally["scheduled_twice"] += times > 1
        tally["not_in_dialer"] += contact.get("autoDialerStatus") != "in_dialer"
    stray = sum(1 for contact_id in named if contact_id not in mine)
    return PerLead(leads=leads, stray=stray, **{name: tally[name] for name in PER_LEAD_RULES})


PER_LEAD_RULES = ("no_contact", "several_contacts", "never_scheduled", "scheduled_twice", "not_in_dialer")


def kind_of(path: str) -> str:
    return path if path in (ADD_BATCH, SCHEDULE_BATCH) else "other (plan: schema, agent, checks)"


def ideal_seconds(counts: Counter[str], options: RunOptions, latency: float) -> float:
    """The wall time if every request took exactly `latency` and the concurrency were always used fully: the
    batches at their concurrency, and the plan's reads (the other requests) in one round trip, as they are sent."""
    concurrency = {ADD_BATCH: options.contact_concurrency, SCHEDULE_BATCH: options.schedule_concurrency}
    batches = sum(math.ceil(counts[path] / limit) * latency for path, limit in concurrency.items())
    plan_reads = latency if any(path not in concurrency for path in counts) else 0.0
    return batches + plan_reads


def report(
    counts: Counter[str], leads: int, wall: float, cpu: tuple[float, float], options: RunOptions, latency: float
) -> float:
    """Print the requests, the wall time against the ideal, and the CPU; return the wall time's ratio."""
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
    return wall / ideal


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


@dataclass(frozen=True)
class Run:
    result: Any
    wall: float
    cpu: float
    timeline: Timeline
    memory_growth: float
    """MiB: peak RSS during the run minus RSS just before it (leads built beforehand, not counted)."""


async def run_campaign(sim_url: str, agent_id: str, leads: int, ledger_path: Path) -> Run:
    options = RunOptions()
    async with TelliClient(DEMO_KEY, base_url=sim_url) as client:
        engine = CampaignEngine(client, Ledger(ledger_path), options=options)
        request = CampaignRequest(agent_id=agent_id, leads=make_leads(leads), name="bulk benchmark")
        gc.collect()
        baseline = reset_peak_rss()
        timeline = Timeline()
        cpu_started = time.process_time()
        result = await engine.start(request, on_progress=timeline)
        wall, cpu = time.perf_counter() - timeline.started, time.process_time() - cpu_started
        return Run(result, wall, cpu, timeline, peak_rss_mib() - baseline)


class CountingTransport(httpx2.AsyncBaseTransport):
    """Counts the requests a client sends (the status pages' telli reads)."""

    def __init__(self) -> None:
        self.inner = httpx2.AsyncHTTPTransport()
        self.sent = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.sent += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass(frozen=True)
class Page:
    label: str
    seconds: float
    requests: int
    notable: int


async def status_pages(sim_url: str, ledger_path: Path, campaign_id: str, pages: int) -> list[Page]:
    """get_campaign's pages, timed, as the MCP tool computes them (store engine + the tool's view)."""
    store = CampaignStore(str(ledger_path))
    counting = CountingTransport()
    measured: list[Page] = []
    try:
        async with TelliClient(DEMO_KEY, base_url=sim_url, transport=counting) as client:
            engine = store.engine(client, "default")

            async def page(label: str, cursor: str | None) -> str | None:
                sent, started = counting.sent, time.perf_counter()
                view = campaign_status_view(await engine.status(campaign_id, limit=10, cursor=cursor))
                seconds = time.perf_counter() - started
                measured.append(Page(label, seconds, counting.sent - sent, len(view.notable)))
                return view.next_cursor

            cursor = await page("page 1", None)
            for number in range(2, pages + 1):
                cursor = await page(f"page {number}", cursor)
            await page("page 1 again", None)
    finally:
        store.close()
    return measured


async def main_async(args: argparse.Namespace) -> int:
    timing = "after the stand-in's own work" if args.latency_after_work else "its own work included"
    banner(f"bulk campaign: {args.leads} leads, {args.latency * 1000:.0f} ms per telli request ({timing})")
    passed, _ = await measure(args)
    return 0 if passed else 1


def repeat(args: argparse.Namespace) -> int:
    """`args.repeats` runs, each in a fresh process (its memory and heap start clean), then the median ratio."""
    single = ["--leads", str(args.leads), "--latency", str(args.latency), "--status-pages", str(args.status_pages)]
    single += ["--latency-after-work"] if args.latency_after_work else []
    ratios: list[float] = []
    failed = False
    for number in range(1, args.repeats + 1):
        print(f"-- run {number} of {args.repeats}, in a fresh process", flush=True)
        child = subprocess.run([sys.executable, __file__, *single], capture_output=True, text=True, check=False)
        print(child.stdout, end="", flush=True)
        print(child.stderr, end="", file=sys.stderr, flush=True)
        found = _RATIO.search(child.stdout)
        failed = failed or child.returncode != 0 or found is None
        ratios += [float(found.group(1))] if found else []
    if ratios:
        print(
            f"wall ratio over {len(ratios)} runs: median {statistics.median(ratios):.2f}x "
            f"(min {min(ratios):.2f}x, max {max(ratios):.2f}x)"
        )
    return 1 if failed else 0


_RATIO = re.compile(r"^wall: .*\(ratio ([0-9.]+)x\)", re.MULTILINE)


async def measure(args: argparse.Namespace) -> tuple[bool, float]:
    """One campaign against a fresh simulator and ledger, reported; whether every check passed, and the ratio
    of its wall time to the ideal."""
    with anyio.fail_after(RUN_TIMEOUT), tempfile.TemporaryDirectory() as ledger_dir:
        ledger_path = Path(ledger_dir) / "campaigns.sqlite3"
        async with simulator(speed=DIALER_SPEED) as sim:
            async with TelliClient(DEMO_KEY, base_url=sim.url) as setup:
                agent_id = await first_agent_id(setup)  # picking the agent is the caller's job, not measured
            await inject_latency(sim.url, args.latency, work_included=not args.latency_after_work)
            before, sim_cpu = requests_by_path(await logged_requests(sim.url)), cpu_seconds(sim.process.pid)
            run = await run_campaign(sim.url, agent_id, args.leads, ledger_path)
            sim_cpu = cpu_seconds(sim.process.pid) - sim_cpu
            entries = await logged_requests(sim.url)
            counts = requests_by_path(entries) - before
            pages = await status_pages(sim.url, ledger_path, run.result.campaign_id, args.status_pages)
            logged_by_status = len(await logged_requests(sim.url)) - len(entries)
            per_lead = check_each_lead(args.leads, await telli_contacts(sim.url), entries)
    result = run.result
    print(
        f"campaign {result.campaign_id}: status {result.status}, created {result.contacts_created}, "
        f"scheduled {result.scheduled_total}, failed {result.failed}, unknown {result.unknown}"
    )
    ratio = report(counts, args.leads, run.wall, (run.cpu, sim_cpu), RunOptions(), args.latency)
    print(
        f"memory: engine peak RSS growth {run.memory_growth:.1f} MiB during the run (VmHWM reset just before "
        "engine.start; the leads given to the engine were built before it and are not counted)"
    )
    print(f"timeline (each chunk is validated while earlier ones are sent): {run.timeline.describe()}")
    for page in pages:
        print(
            f"get_campaign {page.label}: {page.seconds:.3f} s, {page.requests} telli requests, "
            f"{page.notable} notable leads (limit 10, at {args.latency * 1000:.0f} ms per request)"
        )
    counted = sum(page.requests for page in pages)
    status_ok = counted == logged_by_status
    if not status_ok:
        print(f"get_campaign: the client counted {counted} requests but the simulator logged {logged_by_status}")
    print(
        f"per lead, checked against the simulator's contacts and request log ({per_lead.leads} leads): "
        f"scheduled twice {per_lead.scheduled_twice}, never scheduled {per_lead.never_scheduled}, "
        f"not in the dialer {per_lead.not_in_dialer}, no contact {per_lead.no_contact}, "
        f"several contacts {per_lead.several_contacts}, stray scheduled contacts {per_lead.stray} "
        f"-> {'OK' if per_lead.ok else 'FAIL'} (all must be 0)"
    )
    return result.scheduled_total == args.leads and per_lead.ok and status_ok, ratio


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="10,000-lead campaign against a slow simulated telli")
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds from a telli API request to its answer (default 0.05)"
    )
    parser.add_argument(
        "--latency-after-work",
        action="store_true",
        help="add the latency after the simulator's own work instead of counting that work in it (how this "
        "benchmark measured until 2026-12-01)",
    )
    parser.add_argument("--status-pages", type=int, default=3, help="get_campaign pages to time after the run")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="runs, one after the other, each in a fresh process, then the median wall ratio and its range",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args(sys.argv[1:])
    sys.exit(repeat(arguments) if arguments.repeats > 1 else anyio.run(main_async, arguments))
