"""The SQLite campaign ledger: schema, lead states, paging, tenants and the run lock."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from telli_mcp.campaigns.errors import CampaignConflictError, CampaignError
from telli_mcp.campaigns.ledger import SCHEMA_VERSION, LeadUpdate, Ledger, NewCampaign
from telli_mcp.campaigns.models import CampaignState, Lead, LeadState

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
def ledger(clock: Clock) -> Iterator[Ledger]:
    with Ledger(":memory:", clock=clock) as opened:
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


def test_a_second_run_is_refused_until_the_first_heartbeat_is_stale(ledger: Ledger, clock: Clock) -> None:
    ledger.create_campaign(record(), leads())
    assert ledger.claim_run("spring", "first")

    clock.now += timedelta(minutes=5)
    assert not ledger.claim_run("spring", "second")

    clock.now += timedelta(minutes=11)
    campaign = ledger.get_campaign("spring")
    assert campaign is not None
    assert campaign.effective_status(clock.now) is CampaignState.INTERRUPTED
    assert ledger.claim_run("spring", "second")


def test_releasing_a_run_keeps_a_stop_recorded_meanwhile(ledger: Ledger) -> None:
    ledger.create_campaign(record(), leads())
    ledger.claim_run("spring", "run")
    ledger.set_status("spring", CampaignState.STOPPED)

    ledger.release_run("spring", "run", CampaignState.COMPLETED)

    campaign = ledger.get_campaign("spring")
    assert campaign is not None
    assert (campaign.status, campaign.run_token) == (CampaignState.STOPPED, None)
