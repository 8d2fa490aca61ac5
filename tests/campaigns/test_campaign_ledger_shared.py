"""Replicas behind a load balancer share one PostgreSQL ledger: tests that try to break what that promises.

Each replica is an independent `Ledger` handle (its own connection) on the same database; the replicas run on
"other hosts" (holders that are not this process), so a lease is taken over only once it lapsed. Ledger calls
are synchronous, so the races run on threads, one replica per thread.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr

from telli_mcp.campaigns.errors import CampaignConflictError, LeaseLostError
from telli_mcp.campaigns.lease import LEASE_TTL, Holder, Lease
from telli_mcp.campaigns.ledger import CampaignRecord, LeadRecord, LeadUpdate, Ledger, NewCampaign
from telli_mcp.campaigns.models import CampaignState, Lead, LeadState
from telli_mcp.campaigns.store import CampaignStore
from telli_mcp.database.bounds import Bounds
from telli_mcp.database.postgres import DatabaseUnavailable
from telli_mcp.database.sql import PostgresSession

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DEADLINE_SECONDS = 20.0
"""The longest a test waits for another thread or the server (a bound, not a pace: it is met at once)."""
REPLICA_A = Holder(host="replica-a.example", pid=4101, started="1")
REPLICA_B = Holder(host="replica-b.example", pid=4102, started="1")


class Clock:
    """The replicas' shared clock. `hold_next_call()` parks the next call of one replica until `release()`:
    the ledger reads the clock inside its write transactions, so the test can stop a replica mid-transaction."""

    def __init__(self) -> None:
        self.now = START
        self._armed = False
        self.entered = threading.Event()
        self._released = threading.Event()

    def __call__(self) -> datetime:
        return self.now

    def hold_next_call(self) -> None:
        self._armed = True

    def holding(self) -> datetime:
        """The clock of the replica to hold."""
        if self._armed:
            self._armed = False
            self.entered.set()
            assert self._released.wait(DEADLINE_SECONDS), "the test never released the held replica"
        return self.now

    def release(self) -> None:
        self._released.set()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def open_replica(postgres_url: str, clock: Clock) -> Iterator[Callable[..., Ledger]]:
    """Opens another replica's ledger on the test database (all on `clock` unless told otherwise)."""
    opened: list[Ledger] = []

    def open_one(*, clock_: Callable[[], datetime] | None = clock, session: PostgresSession | None = None) -> Ledger:
        """`clock_=None`: the ledger's own clock (the database's)."""
        opened.append(Ledger(session if session is not None else postgres_url, clock=clock_))
        return opened[-1]

    yield open_one
    for ledger in opened:
        ledger.close()


def new_campaign(campaign_id: str = "spring", leads_count: int = 3) -> NewCampaign:
    return NewCampaign(
        id=campaign_id,
        name=f"{campaign_id.title()} list",
        agent_id="agent-1",
        source=f"{leads_count} inline leads",
        source_sha256="cd" * 32,
        leads_count=leads_count,
    )


def leads(count: int = 3) -> list[Lead]:
    """Leads on rows 2.. with fictional numbers (+1 555 01xx)."""
    return [
        Lead(row=row, phone_number=f"+1555010{row:01d}", first_name="A", last_name="B", external_id=f"x{row}")
        for row in range(2, count + 2)
    ]


def contact(row: int) -> str:
    return f"00000000-0000-4000-8000-{row:012d}"


def seen_by(ledger: Ledger, campaign_id: str = "spring") -> tuple[CampaignRecord | None, list[LeadRecord]]:
    """What a replica sees of a campaign: its record (lease included) and every lead."""
    return ledger.get_campaign(campaign_id), ledger.leads(campaign_id)


def backend_pid(session: PostgresSession) -> int:
    return int(session.execute("SELECT pg_backend_pid()").fetchone()[0])


def wait_until(what: str, condition: Callable[[], bool]) -> None:
    """Poll `condition` until it holds (a bounded deadline: another thread or process gets there)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"waited {DEADLINE_SECONDS:g} s for {what}"
        time.sleep(0.005)


def waits_for_a_lock(admin_url: str, pid: int) -> Callable[[], bool]:
    import psycopg

    def check() -> bool:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            row = admin.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        return row is not None and row[0] == "Lock"

    return check


def kill_backend(admin_url: str, pid: int) -> None:
    """What a database failover or an idle-connection reaper does to a replica's connection."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)

        def gone() -> bool:
            return admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() is None

        wait_until(f"backend {pid} to exit", gone)


def test_of_replicas_claiming_one_campaign_at_once_exactly_one_gets_the_lease(
    open_replica: Callable[..., Ledger], clock: Clock
) -> None:
    replicas = [open_replica() for _ in range(8)]
    replicas[0].create_campaign(new_campaign(), leads())
    for replica in replicas:  # connected before the race, so the race is the claims'
        assert replica.get_campaign("spring") is not None

    for round_ in range(1, 6):
        at_once = threading.Barrier(len(replicas))

        def claim(index: int, round_: int = round_, at_once: threading.Barrier = at_once) -> Lease | None:
            at_once.wait(DEADLINE_SECONDS)
            holder = Holder(host=f"replica-{index}.example", pid=4200 + index, started="1")
            return replicas[index].claim_run("spring", f"run-{round_}-{index}", holder=holder)

        with ThreadPoolExecutor(len(replicas)) as pool:
            leases = list(pool.map(claim, range(len(replicas))))

        won = [lease for lease in leases if lease is not None]
        assert len(won) == 1, f"round {round_}: {len(won)} replicas hold the lease"
        assert won[0].generation == round_
        for replica in replicas:
            campaign = replica.get_campaign("spring")
            assert campaign is not None
            assert (campaign.run_token, campaign.lease_generation) == (won[0].token, round_)
        clock.now += LEASE_TTL  # the winner falls silent: the next round may take the campaign over


def test_after_a_take_over_the_old_holder_writes_nothing_at_all(
    open_replica: Callable[..., Ledger], clock: Clock
) -> None:
    a, b = open_replica(), open_replica()
    a.create_campaign(new_campaign(leads_count=0))
    old = a.claim_run("spring", "run-a", holder=REPLICA_A)
    assert old is not None
    a.record_leads("spring", leads(3), lease=old)
    a.update_leads("spring", [LeadUpdate(row=2, state=LeadState.CONTACT_READY, contact_id=contact(2))], lease=old)
    clock.now += LEASE_TTL  # replica A froze: its lease lapsed
    new = b.claim_run("spring", "run-b", holder=REPLICA_B)
    assert new is not None and new.generation == old.generation + 1
    before = seen_by(b)
    clock.now += timedelta(seconds=1)

    attempts: dict[str, Callable[[], object]] = {
        "renew": lambda: a.renew(old),
        "update_leads": lambda: a.update_leads("spring", [LeadUpdate(row=3, state=LeadState.FAILED)], lease=old),
        "mark_in_flight": lambda: a.mark_in_flight(
            "spring",
            [2],
            sent_at=clock.now,
            settle_at=clock.now + timedelta(seconds=30),
            note="sent",
            lease=old,
            renew_ttl=LEASE_TTL,
            refused=[3],
            refused_note="on the do-not-call list",
        ),
        "record_leads": lambda: a.record_leads("spring", leads(5), lease=old),
        "finish_recording": lambda: a.finish_recording("spring", leads_count=3, invalid_count=9, lease=old),
    }
    for name, attempt in attempts.items():
        with pytest.raises(LeaseLostError):
            attempt()
        assert seen_by(b) == before, f"the old holder's {name} changed the ledger"
    a.release_run(old, CampaignState.COMPLETED)

    assert seen_by(b) == seen_by(open_replica()) == before
    campaign = before[0]
    assert campaign is not None
    assert (campaign.run_token, campaign.lease_host) == ("run-b", "replica-b.example")
    assert campaign.status is CampaignState.RUNNING
    b.update_leads("spring", [LeadUpdate(row=3, state=LeadState.CONTACT_READY, contact_id=contact(3))], lease=new)
    assert b.mark_in_flight("spring", [2, 3], sent_at=clock.now, settle_at=clock.now, note="sent", lease=new) == {2, 3}


def test_a_claim_racing_a_renewal_waits_for_it_and_then_finds_the_campaign_held(
    open_replica: Callable[..., Ledger], clock: Clock, postgres_url: str
) -> None:
    """Replica A's renewal is stopped between its fence check and its write; the lease lapsed meanwhile, so B
    may claim. B must wait for A's transaction and then see the renewed lease, not claim over it."""
    a = open_replica(clock_=clock.holding)
    b_session = PostgresSession(postgres_url)
    b = open_replica(session=b_session)
    a.create_campaign(new_campaign(), leads())
    lease = a.claim_run("spring", "run-a", holder=REPLICA_A)
    assert lease is not None
    b_pid = backend_pid(b_session)
    clock.now += LEASE_TTL

    with ThreadPoolExecutor(2) as pool:
        clock.hold_next_call()
        renewal = pool.submit(a.renew, lease)
        try:
            assert clock.entered.wait(DEADLINE_SECONDS)
            claim: Future[Lease | None] = pool.submit(b.claim_run, "spring", "run-b", holder=REPLICA_B)
            wait_until("replica B's claim to wait for A's transaction", waits_for_a_lock(postgres_url, b_pid))
        finally:
            clock.release()
        renewal.result(DEADLINE_SECONDS)
        assert claim.result(DEADLINE_SECONDS) is None

    campaign = b.get_campaign("spring")
    assert campaign is not None
    assert (campaign.run_token, campaign.lease_generation) == ("run-a", lease.generation)
    assert campaign.lease_expires_at == clock.now + LEASE_TTL
    a.update_leads("spring", [LeadUpdate(row=2, state=LeadState.CONTACT_READY)], lease=lease)  # still A's


def test_a_write_ahead_racing_a_stop_on_another_replica_never_marks_a_lead_the_stop_took(
    open_replica: Callable[..., Ledger], clock: Clock, postgres_url: str
) -> None:
    """A stop takes no lease: its write can land while a run's write-ahead is under way. The lead it took must
    not be written ahead (and so sent) anyway."""
    import psycopg

    session = PostgresSession(postgres_url)
    a = open_replica(session=session)
    a.create_campaign(new_campaign(leads_count=2), leads(2))
    lease = a.claim_run("spring", "run-a", holder=REPLICA_A)
    assert lease is not None
    ready = [LeadUpdate(row=row, state=LeadState.CONTACT_READY, contact_id=contact(row)) for row in (2, 3)]
    a.update_leads("spring", ready, lease=lease)
    pid = backend_pid(session)

    with psycopg.connect(postgres_url) as stop, ThreadPoolExecutor(1) as pool:
        # Replica B's stop, caught between its write and its commit.
        stop.execute("UPDATE leads SET state = 'removed' WHERE campaign_id = 'spring' AND row = 2")
        marking = pool.submit(
            a.mark_in_flight, "spring", [2, 3], sent_at=clock.now, settle_at=clock.now, note="sent", lease=lease
        )
        try:
            wait_until("the write-ahead to wait for the stop", waits_for_a_lock(postgres_url, pid))
        finally:
            stop.commit()
        assert marking.result(DEADLINE_SECONDS) == {3}

    assert [(lead.row, lead.state) for lead in a.leads("spring")] == [(2, LeadState.REMOVED), (3, LeadState.UNKNOWN)]


def test_both_replicas_read_the_same_campaigns(open_replica: Callable[..., Ledger], clock: Clock) -> None:
    a, b = open_replica(), open_replica()
    for name in ("autumn", "winter", "spring"):
        a.create_campaign(new_campaign(name), leads())
        clock.now += timedelta(minutes=1)
    b.create_campaign(new_campaign("summer", leads_count=2), leads(2))
    lease = b.claim_run("spring", "run-b", holder=REPLICA_B)
    assert lease is not None
    b.update_leads(
        "spring",
        [
            LeadUpdate(row=2, state=LeadState.SCHEDULED, contact_id=contact(2), loop_id="loop-2"),
            LeadUpdate(row=3, state=LeadState.FAILED, last_error="telli rejected the number"),
        ],
        lease=lease,
    )
    a.set_status("winter", CampaignState.STOPPED)

    def everything(ledger: Ledger) -> list[object]:
        first, cursor = ledger.list_campaigns(limit=3)
        rest, end = ledger.list_campaigns(limit=3, cursor=cursor)
        seen: list[object] = [first, rest, end]
        for campaign in first + rest:
            seen += [
                ledger.get_campaign(campaign.id),
                ledger.status(campaign.id),
                ledger.state_counts(campaign.id),
                ledger.leads(campaign.id),
                ledger.reason_counts(campaign.id, list(LeadState)),
                ledger.count_with_contact(campaign.id),
            ]
        return [*seen, ledger.campaigns_with_contact(contact(2))]

    assert everything(a) == everything(b) == everything(open_replica())
    newest_first, cursor = b.list_campaigns(limit=3)
    oldest, _ = a.list_campaigns(limit=3, cursor=cursor)
    assert [campaign.id for campaign in newest_first + oldest] == ["summer", "spring", "winter", "autumn"]
    assert a.campaigns_with_contact(contact(2)) == ["spring"]


def test_tenants_stay_apart_across_replicas(open_replica: Callable[..., Ledger]) -> None:
    a = open_replica().for_tenant("account-1")
    b = open_replica().for_tenant("account-2")
    a.create_campaign(new_campaign(), leads(3))
    b.create_campaign(new_campaign(), leads(1))  # the same id, another account: no conflict
    with pytest.raises(CampaignConflictError):
        open_replica().for_tenant("account-1").create_campaign(new_campaign(), leads(1))
    a_lease = a.claim_run("spring", "run-a", holder=REPLICA_A)
    b_lease = b.claim_run("spring", "run-b", holder=REPLICA_B)
    assert a_lease is not None and b_lease is not None
    assert (a_lease.generation, b_lease.generation) == (1, 1)
    a.update_leads("spring", [LeadUpdate(row=2, state=LeadState.SCHEDULED, contact_id=contact(2))], lease=a_lease)

    with pytest.raises(LeaseLostError):  # a lease of one account writes nothing in another's campaign
        b.update_leads("spring", [LeadUpdate(row=2, state=LeadState.FAILED)], lease=a_lease)
    assert [len(a.leads("spring")), len(b.leads("spring"))] == [3, 1]
    assert b.leads("spring")[0].state is LeadState.PENDING
    assert (a.campaigns_with_contact(contact(2)), b.campaigns_with_contact(contact(2))) == (["spring"], [])
    assert open_replica().for_tenant("account-3").list_campaigns() == ([], None)


def password_of(url: str) -> str:
    password = urlsplit(url).password
    assert password, "the test database's URL should carry a password, to prove it is never shown"
    return password


def test_a_replica_whose_connection_was_killed_names_the_database_without_its_password_and_reconnects(
    open_replica: Callable[..., Ledger], postgres_url: str
) -> None:
    session = PostgresSession(postgres_url)
    ledger = open_replica(session=session)
    ledger.create_campaign(new_campaign(), leads())
    kill_backend(postgres_url, backend_pid(session))

    with pytest.raises(DatabaseUnavailable) as failure:
        ledger.get_campaign("spring")

    message = str(failure.value)
    assert session.label in message and ledger.path == session.label
    assert password_of(postgres_url) not in message and password_of(postgres_url) not in ledger.path
    found = ledger.get_campaign("spring")  # the next call connects again
    assert found is not None and found.name == "Spring list"


def test_a_write_whose_connection_dies_mid_transaction_writes_nothing_and_the_next_one_works(
    open_replica: Callable[..., Ledger], clock: Clock, postgres_url: str
) -> None:
    session = PostgresSession(postgres_url)
    a = open_replica(session=session, clock_=clock.holding)
    a.create_campaign(new_campaign(), leads())
    lease = a.claim_run("spring", "run-a", holder=REPLICA_A)
    assert lease is not None
    before = seen_by(open_replica())
    pid = backend_pid(session)
    clock.now += timedelta(seconds=5)

    with ThreadPoolExecutor(1) as pool:
        clock.hold_next_call()
        renewal = pool.submit(a.renew, lease)  # fence checked, the campaign row locked, then held
        try:
            assert clock.entered.wait(DEADLINE_SECONDS)
            kill_backend(postgres_url, pid)
        finally:
            clock.release()
        with pytest.raises(DatabaseUnavailable, match="unreachable"):
            renewal.result(DEADLINE_SECONDS)

    assert seen_by(open_replica()) == before
    a.renew(lease)
    campaign = open_replica().get_campaign("spring")
    assert campaign is not None and campaign.lease_expires_at == clock.now + LEASE_TTL


# -- the campaign store: what the backend builds for a replica -------------------------------------------------


def test_a_replica_finds_the_campaigns_of_a_contact_another_replica_ran(postgres_url: str) -> None:
    with Ledger(postgres_url) as elsewhere:
        ran = elsewhere.for_tenant("account-1")
        ran.create_campaign(new_campaign(), leads())
        ran.update_leads("spring", [LeadUpdate(row=2, state=LeadState.SCHEDULED, contact_id=contact(2))])

    for location in (SecretStr(postgres_url), postgres_url):
        store = CampaignStore(location)  # a fresh replica: it never opened the ledger
        try:
            assert store.campaigns_with_contact("account-1", contact(2).upper()) == ["spring"]
            assert store.campaigns_with_contact("account-2", contact(2)) == []
            assert password_of(postgres_url) not in repr(store.__dict__)
        finally:
            store.close()


def test_asking_a_file_store_about_a_contact_creates_no_ledger_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "campaigns.sqlite3"
    store = CampaignStore(str(path))

    assert store.campaigns_with_contact("account-1", contact(2)) == []
    assert not path.exists() and not path.parent.exists()


def test_a_store_on_a_database_that_is_down_names_it_without_its_password() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = CampaignStore(SecretStr(f"postgresql://telli:s3cret-pw@127.0.0.1:{port}/ledger"))

    with pytest.raises(DatabaseUnavailable) as failure:
        store.campaigns_with_contact("account-1", contact(2))

    assert f"telli@127.0.0.1:{port}/ledger" in str(failure.value)
    assert "s3cret-pw" not in str(failure.value) and "s3cret-pw" not in repr(store.__dict__)


def test_a_file_ledger_never_loads_the_postgresql_driver(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from telli_mcp.campaigns.ledger import Ledger, NewCampaign\n"
        "from telli_mcp.campaigns.store import CampaignStore\n"
        f"store = CampaignStore({str(tmp_path / 'campaigns.sqlite3')!r})\n"
        "store.campaigns_with_contact('account-1', 'c-1')\n"
        "with Ledger(':memory:') as ledger:\n"
        "    ledger.create_campaign(NewCampaign(id='s', name='s', agent_id='a', source='s', source_sha256='x', "
        "leads_count=0))\n"
        "assert 'psycopg' not in sys.modules, sorted(m for m in sys.modules if m.startswith('psycopg'))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def test_a_replica_frozen_inside_a_transaction_holds_another_up_only_for_the_lock_bound(
    open_replica: Callable[..., Ledger], postgres_url: str
) -> None:
    frozen = open_replica()
    frozen.create_campaign(new_campaign(), leads())
    stopper = open_replica(session=PostgresSession(postgres_url, bounds=Bounds(lock_timeout=0.3)))
    holding = frozen._db.transaction()  # a replica stopped (SIGSTOP, a paused VM) mid-write
    holding.__enter__()
    try:
        assert frozen.claim_run("spring", "frozen-run") is not None  # its row lock is held until it commits

        with pytest.raises(DatabaseUnavailable, match="lock timeout") as caught:
            stopper.set_status("spring", CampaignState.STOPPED)  # a stop on another replica: bounded, not stuck
        assert urlsplit(postgres_url).password not in str(caught.value)
    finally:
        holding.__exit__(None, None, None)
    stopper.set_status("spring", CampaignState.STOPPED)  # once the frozen one goes on, the stop goes through
    assert stopper.status("spring") is CampaignState.STOPPED


def test_the_server_ends_a_replica_frozen_inside_a_transaction_so_its_locks_go_with_it(
    open_replica: Callable[..., Ledger], postgres_url: str
) -> None:
    frozen = open_replica(session=PostgresSession(postgres_url, bounds=Bounds(idle_in_transaction=0.5)))
    frozen.create_campaign(new_campaign(), leads())
    other = open_replica()  # waits up to its lock bound (5 s): longer than the frozen session may stay idle
    holding = frozen._db.transaction()
    holding.__enter__()
    assert frozen.claim_run("spring", "frozen-run") is not None
    try:
        other.set_status("spring", CampaignState.STOPPED)  # waits until the server ends the frozen session
        assert other.status("spring") is CampaignState.STOPPED
        with pytest.raises(DatabaseUnavailable):
            holding.__exit__(None, None, None)  # the frozen replica wakes: its transaction is gone
    finally:
        frozen.close()
    assert other.get_campaign("spring") is not None and other.get_campaign("spring").run_token is None  # type: ignore[union-attr]


def _machine_clock(skew: timedelta) -> Callable[[], datetime]:
    """A machine whose clock is `skew` off the true time."""
    return lambda: datetime.now(UTC) + skew


def test_replicas_whose_clocks_disagree_by_an_hour_agree_on_when_a_lease_lapses(
    open_replica: Callable[..., Ledger], postgres_url: str
) -> None:
    # Neither is given a clock: each stamps and compares leases on the database's, read through its own machine's.
    behind = open_replica(
        clock_=None, session=PostgresSession(postgres_url, local_clock=_machine_clock(-timedelta(hours=1)))
    )
    ahead = open_replica(
        clock_=None, session=PostgresSession(postgres_url, local_clock=_machine_clock(timedelta(hours=1)))
    )
    behind.create_campaign(new_campaign(), leads())
    assert behind.claim_run("spring", "behind-run", holder=Holder("replica-a.internal", 11, "1")) is not None

    # An hour ahead by its own clock, the other replica still sees a live lease, not one that lapsed long ago.
    assert ahead.claim_run("spring", "ahead-run", holder=Holder("replica-b.internal", 22, "1")) is None
    assert abs(ahead.clock() - behind.clock()) < timedelta(seconds=1)
    assert abs(ahead.clock() - datetime.now(UTC)) < timedelta(seconds=1)
