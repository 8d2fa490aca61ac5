"""The campaign ledger on SQLite and on PostgreSQL: lead states, paging, tenants, the run lease and fencing; the
SQLite file's schema and migration. (Two replicas on one PostgreSQL: test_campaign_ledger_shared.py.)"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from telli_mcp.campaigns.errors import CampaignConflictError, CampaignError, LeaseLostError
from telli_mcp.campaigns.lease import LEASE_TTL, Holder
from telli_mcp.campaigns.ledger import SCHEMA_VERSION, LeadUpdate, Ledger, LedgerLocation, NewCampaign
from telli_mcp.campaigns.models import CampaignState, Lead, LeadState

from .conftest import BOTH_ENGINES, exited_process

LEDGER_ENGINES = BOTH_ENGINES
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(clock: Clock, ledger_path: LedgerLocation) -> Iterator[Ledger]:
    with Ledger(ledger_path, clock=clock) as opened:
        yield opened


def record(campaign_id: str = "spring", leads_count: int = 2) -> NewCampaign:
    return NewCampaign(
        id=campaign_id,
        name="Spring list",
        agent_id="agent-1",
        source="leads.csv (CSV)",
        source_sha256="ab" * 32,
        leads_count=leads_count,
    )


def leads(count: int = 2) -> list[Lead]:
    return [
        Lead(row=row, phone_number=f"+49301234{row:03d}", first_name="A", last_name="B", external_id=f"x{row}")
        for row in range(2, count + 2)
    ]


def test_a_file_ledger_uses_wal_and_records_its_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "data" / "campaigns.sqlite3"
    Ledger(path).close()

    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_ledger_written_by_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "campaigns.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    with pytest.raises(CampaignError, match="newer telli-mcp"):
        Ledger(path)


def test_reopening_a_file_ledger_keeps_its_campaigns(tmp_path: Path) -> None:
    path = tmp_path / "campaigns.sqlite3"
    with Ledger(path) as first:
        first.create_campaign(record(), leads())

    with Ledger(path) as second:
        found = second.get_campaign("spring")

    assert found is not None
    assert found.name == "Spring list"


def test_a_new_campaign_records_every_lead_as_pending(ledger: Ledger) -> None:
    created = ledger.create_campaign(record(), leads())

    assert created.status is CampaignState.RUNNING
    assert [(lead.row, lead.state) for lead in ledger.leads("spring")] == [
        (2, LeadState.PENDING),
        (3, LeadState.PENDING),
    ]


def test_a_campaign_id_can_be_created_only_once(ledger: Ledger) -> None:
    ledger.create_campaign(record(), leads())

    with pytest.raises(CampaignConflictError, match="already exists"):
        ledger.create_campaign(record(), leads())


def test_updates_keep_known_ids_and_replace_the_last_error(ledger: Ledger) -> None:
    ledger.create_campaign(record(), leads())
    ledger.update_leads("spring", [LeadUpdate(row=2, state=LeadState.UNKNOWN, contact_id="c-2", last_error="503")])
    ledger.update_leads("spring", [LeadUpdate(row=2, state=LeadState.SCHEDULED, loop_id="loop-2")])

    lead = ledger.leads("spring", [LeadState.SCHEDULED])[0]
    assert (lead.contact_id, lead.loop_id, lead.last_error) == ("c-2", "loop-2", None)
    assert ledger.state_counts("spring").model_dump() == {
        "pending": 1,
        "contact_ready": 0,
        "scheduled": 1,
        "failed": 0,
        "unknown": 0,
        "removed": 0,
    }


def test_one_update_of_leads_that_give_different_fields_keeps_what_each_leaves_out(ledger: Ledger) -> None:
    ledger.create_campaign(record(leads_count=4), leads(4))
    sent, settle = datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC)
    ledger.update_leads(
        "spring",
        [LeadUpdate(row=row, state=LeadState.CONTACT_READY, contact_id=f"c-{row}") for row in (2, 3, 4, 5)],
    )
    ledger.update_leads(
        "spring",
        [  # four shapes, out of row order, in one call
            LeadUpdate(row=5, state=LeadState.FAILED, last_error="refused"),
            LeadUpdate(row=3, state=LeadState.SCHEDULED, loop_id="loop-3"),
            LeadUpdate(row=4, state=LeadState.UNKNOWN, sent_at=sent, settle_at=settle, last_error="in flight"),
            LeadUpdate(row=2, state=LeadState.SCHEDULED, contact_id="c-2b", loop_id="loop-2"),
        ],
    )
    by_row = {lead.row: lead for lead in ledger.leads("spring")}
    assert [(lead.state, lead.contact_id, lead.loop_id, lead.last_error) for lead in by_row.values()] == [
        (LeadState.SCHEDULED, "c-2b", "loop-2", None),
        (LeadState.SCHEDULED, "c-3", "loop-3", None),
        (LeadState.UNKNOWN, "c-4", None, "in flight"),
        (LeadState.FAILED, "c-5", None, "refused"),
    ]
    assert (by_row[4].sent_at, by_row[4].settle_at) == (sent, settle)
    assert by_row[2].sent_at is None and by_row[5].settle_at is None


def test_campaigns_are_listed_newest_first_in_pages(ledger: Ledger) -> None:
    for name in ("a", "b", "c"):
        ledger.create_campaign(record(name), [])

    first, cursor = ledger.list_campaigns(limit=2)
    second, end = ledger.list_campaigns(limit=2, cursor=cursor)

    assert [item.id for item in first] == ["c", "b"]
    assert [item.id for item in second] == ["a"]
    assert end is None


def test_tenants_never_see_each_others_campaigns(ledger: Ledger) -> None:
    other = ledger.for_tenant("other-account")
    ledger.create_campaign(record("shared-name"), leads())
    other.create_campaign(record("shared-name"), leads(1))

    assert len(ledger.leads("shared-name")) == 2
    assert len(other.leads("shared-name")) == 1
    assert ledger.for_tenant("third").list_campaigns() == ([], None)


def test_a_live_run_keeps_the_campaign_until_its_short_lease_lapses(ledger: Ledger, clock: Clock) -> None:
    ledger.create_campaign(record(), leads())
    assert ledger.claim_run("spring", "first")

    clock.now += LEASE_TTL - timedelta(seconds=1)
    assert ledger.claim_run("spring", "second") is None

    clock.now += timedelta(seconds=1)
    campaign = ledger.get_campaign("spring")
    assert campaign is not None
    assert campaign.effective_status(clock.now) is CampaignState.INTERRUPTED
    assert ledger.claim_run("spring", "second")


def test_a_lease_left_by_a_process_that_exited_on_this_machine_is_taken_over_at_once(
    ledger: Ledger, clock: Clock
) -> None:
    ledger.create_campaign(record(), leads())
    assert ledger.claim_run("spring", "crashed", holder=exited_process())

    campaign = ledger.get_campaign("spring")
    assert campaign is not None
    assert campaign.effective_status(clock.now) is CampaignState.INTERRUPTED
    taken = ledger.claim_run("spring", "resumed")
    assert taken is not None and taken.generation == 2


def test_a_lease_held_on_another_machine_waits_for_its_ttl(ledger: Ledger, clock: Clock) -> None:
    ledger.create_campaign(record(), leads())
    elsewhere = Holder(host="another-host.example", pid=exited_process().pid)
    assert ledger.claim_run("spring", "remote", holder=elsewhere)

    assert ledger.claim_run("spring", "local") is None
    clock.now += LEASE_TTL
    assert ledger.claim_run("spring", "local")


def test_after_a_take_over_the_old_holder_can_neither_write_nor_renew(ledger: Ledger, clock: Clock) -> None:
    ledger.create_campaign(record(), leads())
    old = ledger.claim_run("spring", "old")
    assert old is not None
    clock.now += LEASE_TTL
    new = ledger.claim_run("spring", "new")
    assert new is not None

    with pytest.raises(LeaseLostError):
        ledger.update_leads("spring", [LeadUpdate(row=2, state=LeadState.SCHEDULED)], lease=old)
    with pytest.raises(LeaseLostError):
        ledger.renew(old)
    ledger.release_run(old, CampaignState.INTERRUPTED)
    ledger.update_leads("spring", [LeadUpdate(row=3, state=LeadState.UNKNOWN)], lease=new)

    assert [lead.state for lead in ledger.leads("spring")] == [LeadState.PENDING, LeadState.UNKNOWN]
    campaign = ledger.get_campaign("spring")
    assert campaign is not None
    assert (campaign.run_token, campaign.lease_generation, campaign.status) == ("new", 2, CampaignState.RUNNING)


def test_releasing_a_run_keeps_a_stop_recorded_meanwhile(ledger: Ledger) -> None:
    ledger.create_campaign(record(), leads())
    lease = ledger.claim_run("spring", "run")
    assert lease is not None
    ledger.set_status("spring", CampaignState.STOPPED)

    ledger.release_run(lease, CampaignState.COMPLETED)

    campaign = ledger.get_campaign("spring")
    assert campaign is not None
    assert (campaign.status, campaign.run_token) == (CampaignState.STOPPED, None)


def test_a_ledger_of_the_previous_schema_is_migrated_and_keeps_its_campaigns(tmp_path: Path) -> None:
    path = tmp_path / "campaigns.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.executescript(V1_SCHEMA)
        raw.execute(
            "INSERT INTO campaigns (tenant, id, name, agent_id, source, source_sha256, leads_count, invalid_count, "
            "status, created_at, updated_at) VALUES ('default', 'old', 'Old', 'a', 's', 'x', 1, 0, 'completed', "
            "'2025-01-01T00:00:00.000000+00:00', '2025-01-01T00:00:00.000000+00:00')"
        )
        raw.execute("PRAGMA user_version = 1")

    with Ledger(path) as migrated:
        campaign = migrated.get_campaign("old")

    assert campaign is not None and campaign.lease_generation == 0
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        plan = raw.execute("EXPLAIN QUERY PLAN SELECT campaign_id FROM leads WHERE tenant = 'a' AND contact_id = 'c'")
        assert "leads_by_contact" in str(plan.fetchall())  # an event finds its campaigns without a scan
        assert raw.execute("SELECT COUNT(*) FROM campaign_sources").fetchone()[0] == 0  # version 4's table


V1_SCHEMA = """
CREATE TABLE campaigns (seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, id TEXT NOT NULL,
    name TEXT NOT NULL, agent_id TEXT NOT NULL, from_number TEXT, max_retry_days INTEGER, default_region TEXT,
    source TEXT NOT NULL, source_sha256 TEXT NOT NULL, leads_count INTEGER NOT NULL, invalid_count INTEGER NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, run_token TEXT, run_heartbeat TEXT,
    UNIQUE (tenant, id));
CREATE TABLE leads (tenant TEXT NOT NULL, campaign_id TEXT NOT NULL, row INTEGER NOT NULL, external_id TEXT NOT NULL,
    e164 TEXT NOT NULL, contact_id TEXT, state TEXT NOT NULL, loop_id TEXT, last_error TEXT, updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant, campaign_id, row));
"""


def test_the_write_ahead_takes_only_leads_still_ready_and_only_for_the_lease_holder(
    ledger: Ledger, clock: Clock
) -> None:
    ledger.create_campaign(record(leads_count=3), leads(3))
    lease = ledger.claim_run("spring", "run")
    assert lease is not None
    ready = [LeadUpdate(row=row, state=LeadState.CONTACT_READY, contact_id=f"c-{row}") for row in (2, 3, 4)]
    ledger.update_leads("spring", ready, lease=lease)
    ledger.update_leads("spring", [LeadUpdate(row=3, state=LeadState.REMOVED)])  # a stop got there first
    settles = clock.now + timedelta(seconds=31)

    marked = ledger.mark_in_flight("spring", [2, 3, 4], sent_at=clock.now, settle_at=settles, note="sent", lease=lease)

    assert marked == {2, 4}
    assert [(lead.row, lead.state, lead.settle_at) for lead in ledger.leads("spring")] == [
        (2, LeadState.UNKNOWN, settles),
        (3, LeadState.REMOVED, None),
        (4, LeadState.UNKNOWN, settles),
    ]
    clock.now += LEASE_TTL
    assert ledger.claim_run("spring", "next")
    with pytest.raises(LeaseLostError):
        ledger.mark_in_flight("spring", [2], sent_at=clock.now, settle_at=clock.now, note="sent", lease=lease)


def test_recording_a_chunk_returns_what_the_ledger_holds_whether_its_rows_are_new_or_recorded_before(
    ledger: Ledger, clock: Clock
) -> None:
    ledger.create_campaign(record(leads_count=0))
    lease = ledger.claim_run("spring", "run")
    assert lease is not None
    first = ledger.record_leads("spring", leads(2), lease=lease)  # every row new
    assert first == ledger.leads("spring")
    ledger.update_leads("spring", [LeadUpdate(row=2, state=LeadState.CONTACT_READY, contact_id="c-2")], lease=lease)
    clock.now += timedelta(seconds=1)

    again = ledger.record_leads("spring", leads(3), lease=lease)  # rows 2 and 3 recorded before, 4 new

    assert again == ledger.leads("spring")
    assert [(lead.row, lead.state, lead.contact_id) for lead in again] == [
        (2, LeadState.CONTACT_READY, "c-2"),
        (3, LeadState.PENDING, None),
        (4, LeadState.PENDING, None),
    ]


def test_once_a_stop_is_recorded_the_run_writes_nothing_ahead_so_the_stop_takes_every_unsent_lead(
    ledger: Ledger, clock: Clock
) -> None:
    ledger.create_campaign(record(leads_count=2), leads(2))
    lease = ledger.claim_run("spring", "run")
    assert lease is not None
    ready = [LeadUpdate(row=row, state=LeadState.CONTACT_READY, contact_id=f"c-{row}") for row in (2, 3)]
    ledger.update_leads("spring", ready, lease=lease)
    ledger.set_status("spring", CampaignState.STOPPED)  # a stop's first write; it reads the unsent leads next

    marked = ledger.mark_in_flight("spring", [2, 3], sent_at=clock.now, settle_at=clock.now, note="sent", lease=lease)

    assert marked == set()
    assert [(lead.row, lead.state) for lead in ledger.leads("spring")] == [
        (2, LeadState.CONTACT_READY),
        (3, LeadState.CONTACT_READY),
    ]


def test_the_write_ahead_can_renew_the_lease_in_its_own_transaction(ledger: Ledger, clock: Clock) -> None:
    ledger.create_campaign(record(leads_count=1), leads(1))
    lease = ledger.claim_run("spring", "run")
    assert lease is not None
    ledger.update_leads("spring", [LeadUpdate(row=2, state=LeadState.CONTACT_READY, contact_id="c-2")], lease=lease)
    clock.now += timedelta(seconds=20)

    ledger.mark_in_flight(
        "spring", [2], sent_at=clock.now, settle_at=clock.now, note="sent", lease=lease, renew_ttl=LEASE_TTL
    )

    campaign = ledger.get_campaign("spring")
    assert campaign is not None
    assert (campaign.run_heartbeat, campaign.lease_expires_at) == (clock.now, clock.now + LEASE_TTL)
    assert ledger.status("spring") is CampaignState.RUNNING
    assert ledger.status("autumn") is None


ELSEWHERE = Holder(host="replica-a.internal", pid=4242, started="1")
"""A run's process on another machine: only its lease says whether it is alive."""


def test_an_orphan_is_a_running_campaign_with_a_kept_source_whose_lease_may_be_taken_over(
    ledger: Ledger, clock: Clock
) -> None:
    for campaign_id in ("died", "alive", "stopped", "no-source"):
        ledger.create_campaign(record(campaign_id))
        assert ledger.claim_run(campaign_id, f"run-{campaign_id}", holder=ELSEWHERE) is not None
    for campaign_id in ("died", "alive", "stopped"):
        ledger.keep_source(campaign_id, f'{{"campaign_id": "{campaign_id}"}}')
    ledger.set_status("stopped", CampaignState.STOPPED)
    clock.now += LEASE_TTL
    assert ledger.claim_run("alive", "run-alive-2", holder=ELSEWHERE) is not None  # taken over and renewed

    assert ledger.orphans() == ["died"]
    assert ledger.source("died") == '{"campaign_id": "died"}'
    assert ledger.source("stopped") is None, "a stopped campaign keeps no leads"
    assert ledger.for_tenant("another-account").orphans() == []


def test_a_run_that_ends_forgets_the_source_but_a_stale_release_does_not(ledger: Ledger, clock: Clock) -> None:
    ledger.create_campaign(record())
    old = ledger.claim_run("spring", "old", holder=ELSEWHERE)
    assert old is not None
    ledger.keep_source("spring", "{}")
    clock.now += LEASE_TTL
    new = ledger.claim_run("spring", "new")
    assert new is not None

    ledger.release_run(old, CampaignState.INTERRUPTED)  # the old holder wakes up: its lease is gone
    assert ledger.source("spring") == "{}"
    ledger.release_run(new, CampaignState.COMPLETED)
    assert ledger.source("spring") is None
