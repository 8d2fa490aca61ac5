"""`telli-mcp campaign status` shows opt-outs as a user runs it (separate processes sharing the ledger and the
do-not-call list, against the simulator served on loopback): the leads whose call says they asked not to be called
again are counted, listed as notable leads with their contact ids, and the `telli-mcp dnc add` command for the
numbers not on the list yet is printed for the user to run. Nothing is added by the status.

The simulator runs in this process (served in a thread), so the test scripts each lead's call outcome in it; which
leads opted out is read from its records, never from the command under test.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from cli_helpers import run_without_terminal
from process_helpers import serving

from telli_mcp.simulator import TEST_API_KEY, Account, ScriptedOutcome, TelliSimulator

OUTCOMES: list[ScriptedOutcome] = ["OPT_OUT", "COMPLETED", "OPT_OUT", "APPOINTMENT", "OPT_OUT", "NOT_REACHED"]
NUMBERS = [f"+4930555{n:05d}" for n in range(len(OUTCOMES))]
OWN_KEY = "wants_no_more_calls"


@pytest.fixture
def sim() -> TelliSimulator:
    return TelliSimulator(api_keys=(TEST_API_KEY,), seed_demo=True)


@pytest.fixture
def url(sim: TelliSimulator) -> Iterator[str]:
    with serving(sim.app) as base:
        yield base


def telli_mcp(url: str, data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`telli-mcp ...` without a terminal, as a script or cron runs it."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TELLI_")}
    environment |= {"TELLI_API_BASE_URL": url, "TELLI_API_KEY": TEST_API_KEY, "TELLI_MCP_DATA_DIR": str(data_dir)}
    environment |= {"TELLI_MCP_LEADS_DIR": str(data_dir), **env}
    result = run_without_terminal(*args, env=environment)
    assert TEST_API_KEY not in result.stdout + result.stderr, "the API key was printed"
    return result


def run_campaign(url: str, sim: TelliSimulator, data_dir: Path, outcomes: list[ScriptedOutcome]) -> str:
    """Start a campaign from a lead file, script each lead's call, let the dialer finish; the campaign id."""
    leads = data_dir / "leads.csv"
    rows = [f"{number},Lead,No{n}" for n, number in enumerate(NUMBERS[: len(outcomes)])]
    leads.write_text("\n".join(["phone_number,first_name,last_name", *rows]) + "\n", encoding="utf-8")
    account = sim.account(TEST_API_KEY)
    agent_id = account.agents_in_order()[0].id
    started = telli_mcp(url, data_dir, "campaign", "--json", "start", str(leads), "--agent-id", agent_id, "--yes")
    assert started.returncode == 0, started.stderr
    by_number = {contact.phone_number: contact.id for contact in account.live_contacts()}
    for number, outcome in zip(NUMBERS, outcomes, strict=False):
        account.script_outcomes(by_number[number], [outcome])
    httpx2.post(f"{url}/_sim/advance", json={"seconds": 14 * 24 * 3600}).raise_for_status()
    return str(json.loads(started.stdout)["campaign_id"])


def opted_out(account: Account, key: str = "do_not_call") -> dict[str, str]:
    """Contact id -> number of the calls that carry this opt-out outcome."""
    return {call.contact_id: call.to_number for call in account.calls.values() if call.call_outcome.get(key) is True}


def listed(url: str, data_dir: Path) -> list[str]:
    shown = telli_mcp(url, data_dir, "dnc", "list", "--json")
    assert shown.returncode == 0, shown.stderr
    return [entry["phone_number"] for entry in json.loads(shown.stdout)["entries"]]


def proposed_command(output: str) -> list[str]:
    [line] = [line.strip() for line in output.splitlines() if line.strip().startswith("telli-mcp dnc add")]
    return line.split()


def test_status_lists_opt_outs_with_contact_ids_and_prints_the_dnc_command_for_the_numbers_not_listed(
    url: str, sim: TelliSimulator, tmp_path: Path
) -> None:
    campaign_id = run_campaign(url, sim, tmp_path, OUTCOMES)
    opted = opted_out(sim.account(TEST_API_KEY))
    already = sorted(opted.values())[0]
    assert telli_mcp(url, tmp_path, "dnc", "add", already).returncode == 0

    shown = telli_mcp(url, tmp_path, "campaign", "status", campaign_id)
    as_json = telli_mcp(url, tmp_path, "campaign", "--json", "status", campaign_id)

    assert shown.returncode == 0, shown.stderr
    assert len(opted) == 3 and "3 asked not to be called again" in shown.stdout
    rows = [line.split() for line in shown.stdout.splitlines() if line.strip().startswith("opted out")]
    assert len(rows) == 3 and all(any(contact_id in row for contact_id in opted) for row in rows)
    assert {contact_id for row in rows for contact_id in opted if contact_id in row} == set(opted)
    assert "1 of their numbers is on the do-not-call list already." in shown.stdout
    command = proposed_command(shown.stdout)
    assert command[:3] == ["telli-mcp", "dnc", "add"] and "--reason" in command
    assert sorted(command[3 : command.index("--reason")]) == sorted(set(opted.values()) - {already})
    report = json.loads(as_json.stdout)
    assert report["outcomes"]["opted_out"] == 3 and report["opt_outs_listed"] == 1
    assert sorted(report["opt_outs_not_listed"]) == sorted(set(opted.values()) - {already})
    assert listed(url, tmp_path) == [already]  # the status proposed; it added nothing


def test_the_own_opt_out_outcome_counts_in_the_status_only_with_the_setting(
    url: str, sim: TelliSimulator, tmp_path: Path
) -> None:
    campaign_id = run_campaign(url, sim, tmp_path, ["COMPLETED"] * 3)
    account = sim.account(TEST_API_KEY)
    said = next(call for call in account.calls.values() if call.to_number == NUMBERS[1])
    account.calls[said.call_id] = dataclasses.replace(said, call_outcome={**said.call_outcome, OWN_KEY: True})

    plain = telli_mcp(url, tmp_path, "campaign", "status", campaign_id)
    configured = telli_mcp(url, tmp_path, "campaign", "status", campaign_id, TELLI_MCP_OPT_OUT_KEY=OWN_KEY)

    assert opted_out(account) == {} and opted_out(account, OWN_KEY) == {said.contact_id: NUMBERS[1]}
    assert "not to be called again" not in plain.stdout and "telli-mcp dnc add" not in plain.stdout
    assert "1 asked not to be called again" in configured.stdout
    assert proposed_command(configured.stdout)[3:4] == [NUMBERS[1]]
