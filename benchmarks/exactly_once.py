"""Exactly once: random late answers, cancels and kills, then resumes; nobody may be scheduled twice or lost.

    .venv/bin/python benchmarks/exactly_once.py [--trials 24] [--seed 1] [--settle-margin 30]

Each trial runs one campaign of up to 200 leads through `CampaignEngine` against the in-process simulator on
its own clock (the engine's waits advance it, so nothing waits on the wall clock). Randomly per trial: the
client's request timeout T (0.5-5 s), the schedule concurrency, 1-3 schedule batches that telli applies late
(the client gets a read timeout at once and telli applies the batch anywhere from 0 s to T + 30 s after it was
sent: `applied_late` faults), and either 503s or a lost answer of an applied batch (`timeout_after`; never
both in one trial, because the simulator logs a `timeout_after` request without the status it got), and one
interruption: none, a cancel while a batch is in flight (telli applies that batch late as well), a kill while
a batch is in flight (the lease is left behind as a SIGKILL would leave it), or a kill between batches. Then
the campaign is started again at once, as often as needed (at most 4 runs). At the end every request telli
still holds is applied, and the script counts, from the simulator's own log and state:

- contacts scheduled twice: contacts named by two schedule requests that telli applied (must be 0);
- valid leads lost: valid leads that are not in telli's auto-dialer, or not recorded as scheduled (must be 0).

It exits 1 if either is not 0. T + 30 s is the engine's assumption (its default settle margin is 30 s): a
batch telli applies later than that could still be sent twice, and nothing short of an idempotency key telli
does not offer can prevent that. `--settle-margin 0` turns the engine's wait down to the bare request timeout
while the late answers keep coming up to T + 30 s, to show that the benchmark does catch double scheduling.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx2

from telli_mcp.campaigns import (
    CampaignEngine,
    CampaignProgress,
    CampaignRequest,
    CampaignState,
    LeadState,
    Ledger,
    RunOptions,
)
from telli_mcp.campaigns.lease import Holder
from telli_mcp.client import TelliClient
from telli_mcp.simulator import TEST_API_KEY, Fault, TelliSimulator

SCHEDULE = "/v1/schedule-calls-batch"
MAX_RUNS = 4
ASSUMED_MARGIN = 30.0
"""telli applies a batch at most T + this many seconds after it was sent (the engine's default margin)."""
INTERRUPTIONS = ("none", "cancel in flight", "kill in flight", "kill between batches")


class Killed(BaseException):
    """The process dying (not an Exception: nothing in the engine may catch it)."""


@dataclass
class Trial:
    number: int
    leads: int
    timeout: float
    concurrency: int
    late: list[float]
    in_flight_delay: float
    lost_answers: int
    server_errors: int
    interruption: str
    runs: int = 0
    statuses: list[str] = field(default_factory=list)
    twice: int = 0
    lost: int = 0
    late_applied: int = 0
    simulated_seconds: float = 0.0


class InFlight(httpx2.AsyncBaseTransport):
    """On the n-th schedule request telli receives it and applies it `delay` s later; the caller never gets an
    answer: it is cancelled, or the process dies."""

    def __init__(self, sim: TelliSimulator, nth: int, delay: float, scope: anyio.CancelScope | None) -> None:
        self._sim, self._inner, self._nth, self._delay, self._scope = sim, sim.transport(), nth, delay, scope

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path == SCHEDULE:
            self._nth -= 1
            if self._nth == 0:
                self._sim.inject(Fault(method="POST", path=SCHEDULE, kind="applied_late", latency=self._delay))
                with contextlib.suppress(httpx2.ReadTimeout):
                    await self._inner.handle_async_request(request)
                if self._scope is None:
                    raise Killed
                self._scope.cancel()
                await anyio.lowlevel.checkpoint()
        return await self._inner.handle_async_request(request)


def fictional_leads(count: int) -> list[dict[str, Any]]:
    numbers = [f"+49 30 555 0{100 + n}" for n in range(100)] + [f"+1 212 555 0{100 + n}" for n in range(100)]
    return [{"first_name": f"Lead{n}", "last_name": "Bench", "phone": numbers[n]} for n in range(count)]


def plan_trial(number: int, rng: random.Random) -> Trial:
    timeout = round(rng.uniform(0.5, 5.0), 2)
    latest = timeout + ASSUMED_MARGIN
    server_errors = rng.randint(0, 2)
    return Trial(
        number=number,
        leads=rng.randint(120, 200),
        timeout=timeout,
        concurrency=rng.choice((1, 2, 4)),
        late=[_tenths(rng.uniform(0.0, latest)) for _ in range(rng.randint(1, 3))],
        in_flight_delay=_tenths(rng.uniform(0.0, latest)),
        lost_answers=0 if server_errors else rng.randint(0, 1),
        server_errors=server_errors,
        interruption=rng.choice(INTERRUPTIONS),
    )


def _chunks(trial: Trial) -> int:
    """Schedule requests a clean run sends (50 leads each): the range an interruption is drawn from."""
    return math.ceil(trial.leads / 50)


def _tenths(seconds: float) -> float:
    """Rounded down, so a delay drawn below T + margin stays below it."""
    return math.floor(seconds * 10) / 10


def inject_faults(sim: TelliSimulator, trial: Trial, rng: random.Random) -> None:
    """The trial's faults, in random order, each for one schedule request."""
    faults = [Fault(method="POST", path=SCHEDULE, kind="applied_late", latency=delay) for delay in trial.late]
    faults += [Fault(method="POST", path=SCHEDULE, kind="timeout_after") for _ in range(trial.lost_answers)]
    faults += [Fault(method="POST", path=SCHEDULE, status=503) for _ in range(trial.server_errors)]
    rng.shuffle(faults)
    for fault in faults:
        sim.inject(fault)


def exited_holder() -> Holder:
    """A lease holder on this machine whose process is gone (what a killed run leaves behind)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return Holder(host=socket.gethostname(), pid=child.pid, started="1")


async def one_run(
    sim: TelliSimulator,
    trial: Trial,
    ledger_path: Path,
    request: CampaignRequest,
    options: RunOptions,
    interrupt: str,
    rng: random.Random,
) -> str:
    """One start of the campaign, interrupted as `interrupt` says; returns how it ended."""

    async def advance(seconds: float) -> None:
        await sim.advance(seconds)

    with anyio.CancelScope() as scope:
        transport: httpx2.AsyncBaseTransport = sim.transport()
        if interrupt in ("cancel in flight", "kill in flight"):
            in_flight_scope = scope if interrupt == "cancel in flight" else None
            transport = InFlight(sim, rng.randint(1, _chunks(trial)), trial.in_flight_delay, in_flight_scope)
        kill_at = rng.randint(1, _chunks(trial))

        async def progress(event: CampaignProgress) -> None:
            nonlocal kill_at
            if interrupt == "kill between batches" and event.phase == "schedule":
                kill_at -= 1
                if kill_at == 0:
                    raise Killed

        client = TelliClient(TEST_API_KEY, transport=transport, sleep=advance, timeout=trial.timeout)
        with Ledger(ledger_path, clock=sim.clock.now) as ledger:
            try:
                async with client:
                    result = await CampaignEngine(client, ledger, options=options).start(request, on_progress=progress)
                return str(result.status)
            except Killed:
                # A killed process never releases its lease; leave it behind as SIGKILL would.
                assert ledger.claim_run(request.campaign_id or "", "killed", holder=exited_holder())
                return "killed"
    return "cancelled"


async def run_trial(trial: Trial, rng: random.Random, settle_margin: float, workdir: Path) -> Trial:
    sim = TelliSimulator(seed_demo=True)
    account = sim.account(TEST_API_KEY)
    agent_id = next(agent.id for agent in account.agents.values())
    request = CampaignRequest(agent_id=agent_id, leads=fictional_leads(trial.leads), campaign_id=f"t{trial.number}")
    options = RunOptions(schedule_concurrency=trial.concurrency, settle_margin=timedelta(seconds=settle_margin))
    ledger_path = workdir / f"trial-{trial.number}.sqlite3"
    started = sim.clock.now()
    inject_faults(sim, trial, rng)
    interrupt = trial.interruption
    while trial.runs < MAX_RUNS and (not trial.statuses or trial.statuses[-1] != str(CampaignState.COMPLETED)):
        trial.statuses.append(await one_run(sim, trial, ledger_path, request, options, interrupt, rng))
        trial.runs += 1
        interrupt = "none"  # the re-runs start at once and are left alone
    await sim.release_late()
    trial.simulated_seconds = (sim.clock.now() - started).total_seconds()
    count(trial, sim, ledger_path, request.campaign_id or "")
    return trial


def count(trial: Trial, sim: TelliSimulator, ledger_path: Path, campaign_id: str) -> None:
    applied: Counter[str] = Counter()
    for entry in sim.requests_to("POST", SCHEDULE):
        if entry.status == 200 or entry.fault in ("timeout_after", "applied_late"):
            applied.update(item["contact_id"] for item in entry.body["contacts"])
        trial.late_applied += entry.fault == "applied_late"
    trial.twice = sum(1 for times in applied.values() if times > 1)
    account = sim.account(TEST_API_KEY)
    with Ledger(ledger_path) as ledger:
        leads = ledger.leads(campaign_id)
    in_dialer = {lead.contact_id for lead in leads if lead.contact_id and account.dialer_loops_for(lead.contact_id)}
    trial.lost = sum(1 for lead in leads if lead.state is not LeadState.SCHEDULED or lead.contact_id not in in_dialer)


def describe(trial: Trial) -> str:
    late = "/".join(f"{delay:g}" for delay in trial.late)
    return (
        f"trial {trial.number:2d}: {trial.leads} leads, timeout {trial.timeout:.2f} s, concurrency "
        f"{trial.concurrency}, late batches {len(trial.late)} (after {late} s), lost answers {trial.lost_answers}, "
        f"503s {trial.server_errors}, {_interruption(trial)}; runs {trial.runs} ({' -> '.join(trial.statuses)}); "
        f"late requests applied {trial.late_applied}; simulated {trial.simulated_seconds:.0f} s; "
        f"scheduled twice {trial.twice}, lost {trial.lost}"
    )


def _interruption(trial: Trial) -> str:
    if trial.interruption.endswith("in flight"):
        return f"{trial.interruption} (applied after {trial.in_flight_delay:g} s)"
    return trial.interruption


async def main_async(args: argparse.Namespace) -> int:
    print(
        f"== exactly once: {args.trials} trials, seed {args.seed}, settle margin {args.settle_margin:g} s, "
        f"late answers up to the request timeout + {ASSUMED_MARGIN:g} s after sending =="
    )
    trials = []
    with tempfile.TemporaryDirectory() as workdir:
        for number in range(1, args.trials + 1):
            rng = random.Random(f"{args.seed}:{number}")  # per trial, so a trial is the same whatever came before
            trial = await run_trial(plan_trial(number, rng), rng, args.settle_margin, Path(workdir))
            print(describe(trial))
            trials.append(trial)
    twice, lost = sum(t.twice for t in trials), sum(t.lost for t in trials)
    leads = sum(t.leads for t in trials)
    interrupted = Counter(t.interruption for t in trials)
    print(
        f"TOTAL: {len(trials)} trials, {leads} leads, interruptions {json.dumps(dict(interrupted))}, "
        f"{sum(len(t.late) for t in trials)} late batches injected; contacts scheduled twice: {twice}; "
        f"valid leads lost: {lost}"
    )
    print("RESULT: " + ("PASS" if twice == 0 and lost == 0 else "FAIL"))
    return 0 if twice == 0 and lost == 0 else 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="exactly-once scheduling under late answers, cancels and kills")
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--settle-margin", type=float, default=30.0, help="seconds added to the request timeout before verifying"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(anyio.run(main_async, parse_args(sys.argv[1:])))
