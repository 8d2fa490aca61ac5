"""Fixtures shared by the campaign-engine tests: a property schema, the simulator, a client, an engine."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest
from postgres_helpers import postgres_url  # noqa: F401  # the fixture, for the PostgreSQL runs
from pydantic import JsonValue

from telli_mcp.campaigns import CampaignEngine, Ledger, RunOptions
from telli_mcp.campaigns.lease import Holder
from telli_mcp.campaigns.ledger import LedgerLocation
from telli_mcp.campaigns.values import PropertyOption, PropertySpec
from telli_mcp.client import TelliClient
from telli_mcp.simulator import TEST_API_KEY, Account, TelliSimulator

SCHEDULE_PATH = "/v1/schedule-calls-batch"
ADD_PATH = "/v1/add-contacts-batch"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _options(*values: str) -> tuple[PropertyOption, ...]:
    return tuple(PropertyOption(value=value, label=value.replace("_", " ").title()) for value in values)


@pytest.fixture
def schema() -> list[PropertySpec]:
    """A property schema like the simulator's demo account."""
    return [
        PropertySpec(key="plan", data_type="select", options=_options("gold", "silver", "bronze")),
        PropertySpec(key="lead_source", data_type="string"),
        PropertySpec(key="budget_eur", data_type="number"),
        PropertySpec(key="newsletter_opt_in", data_type="boolean"),
        PropertySpec(key="follow_up_date", data_type="date"),
        PropertySpec(key="last_contacted_at", data_type="datetime"),
        PropertySpec(key="interests", data_type="multi_select", options=_options("solar", "heat_pump", "ev")),
        PropertySpec(key="assistant_phone", data_type="phone_number"),
        PropertySpec(key="billing_email", data_type="email"),
    ]


async def no_sleep(seconds: float) -> None:
    """The client's retry back-off, without waiting on the wall clock."""


@pytest.fixture
def sim() -> TelliSimulator:
    return TelliSimulator(seed_demo=True)


@pytest.fixture
def account(sim: TelliSimulator) -> Account:
    return sim.account(TEST_API_KEY)


@pytest.fixture
def agent_id(account: Account) -> str:
    return next(agent.id for agent in account.agents.values() if agent.title == "Sales Agent (DE)")


@pytest.fixture
async def client(sim: TelliSimulator) -> AsyncIterator[TelliClient]:
    async with TelliClient(TEST_API_KEY, transport=sim.transport(), sleep=no_sleep) as opened:
        yield opened


BOTH_ENGINES = ("sqlite", "postgresql")
"""What a module sets as `LEDGER_ENGINES` to run each of its ledger tests against a SQLite file and PostgreSQL."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the tests of a module with `LEDGER_ENGINES = BOTH_ENGINES` once per engine. Only the modules where the
    ledger matters do (the ledger, exactly-once, resume, lease renewals, stop, status pages, start, the do-not-call
    list's refusals, opt-outs): the others exercise validation, streaming and telli's side, and running all of them
    on PostgreSQL too took about two minutes more (the runs of 10,000 leads most of it) for no ledger behaviour the
    chosen ones miss."""
    engines = getattr(metafunc.module, "LEDGER_ENGINES", None)
    if engines is not None and "ledger_path" in metafunc.fixturenames:
        metafunc.parametrize("ledger_path", engines, indirect=True)


@pytest.fixture
def ledger_path(request: pytest.FixtureRequest, tmp_path: Path) -> LedgerLocation:
    """Where the test's ledger lives: a SQLite file, or (parametrized "postgresql") the test PostgreSQL, in a
    schema of its own. Each `Ledger(ledger_path)` is another handle on it: another process, or another replica."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return tmp_path / "campaigns.sqlite3"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def engine(client: TelliClient, ledger_path: LedgerLocation) -> CampaignEngine:
    return CampaignEngine(client, Ledger(ledger_path))


def make_leads(count: int, *, first: int = 0) -> list[dict[str, JsonValue]]:
    """`count` valid leads with fictional Berlin numbers (+49 30 1xxxxxxx)."""
    return [
        {"first_name": f"Lead{index}", "last_name": "Test", "phone": f"+4930{10000000 + index}", "plan": "gold"}
        for index in range(first, first + count)
    ]


def fictional_leads(count: int) -> list[dict[str, JsonValue]]:
    """Up to 200 valid leads on fictional numbers: +49 30 555 0100-0199, then +1 212 555 0100-0199."""
    assert count <= 200
    numbers = [f"+49 30 555 0{100 + n}" for n in range(100)] + [f"+1 212 555 0{100 + n}" for n in range(100)]
    return [{"first_name": f"Lead{n}", "last_name": "Test", "phone": numbers[n]} for n in range(count)]


@asynccontextmanager
async def timed_engine(
    sim: TelliSimulator,
    ledger_path: LedgerLocation,
    *,
    request_timeout: float = 1.0,
    transport: httpx2.AsyncBaseTransport | None = None,
    options: RunOptions | None = None,
) -> AsyncIterator[CampaignEngine]:
    """An engine on the simulator's clock: the ledger reads it, and every wait (the client's sleep, so also
    the settle wait) advances it, so late requests land while the engine waits, and no test waits on the wall
    clock. Each call is a fresh client (another process, as far as telli can tell)."""

    async def advance(seconds: float) -> None:
        await sim.advance(seconds)

    client = TelliClient(TEST_API_KEY, transport=transport or sim.transport(), sleep=advance, timeout=request_timeout)
    with Ledger(ledger_path, clock=sim.clock.now) as ledger:
        async with client:
            yield CampaignEngine(client, ledger, options=options)


def scheduled_ids(sim: TelliSimulator, *, processed_only: bool = False) -> Counter[str]:
    """How many schedule-calls-batch requests named each contact id (optionally only ones telli applied)."""
    counts: Counter[str] = Counter()
    for entry in sim.requests_to("POST", SCHEDULE_PATH):
        applied = entry.status == 200 or entry.fault in ("timeout_after", "applied_late")
        if processed_only and not applied:
            continue
        counts.update(item["contact_id"] for item in entry.body["contacts"])
    return counts


def loops_per_contact(account: Account) -> Counter[str]:
    return Counter(loop.contact_id for loop in account.loops.values())


def exited_process() -> Holder:
    """A holder on this machine whose process has exited: what a crashed run leaves in the lease."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return Holder(host=socket.gethostname(), pid=child.pid, started="1")
