"""`telli-mcp campaign ...` as a user runs it: separate processes sharing a ledger, against an HTTP simulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from cli_helpers import run_without_terminal, served_simulator

LEADS = Path(__file__).parents[2] / "examples" / "leads.csv"
KEY = "telli-sandbox-demo-key"


@pytest.fixture
def simulator_url() -> Iterator[str]:
    yield from served_simulator()


@pytest.fixture
def frozen_simulator_url() -> Iterator[str]:
    """A simulator whose clock stands (a microsecond per second) until a test advances it: nobody is dialled
    behind the test's back, so "still pending" and "finished" are exact."""
    yield from served_simulator("--speed", "0.000001")


def _run(url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`telli-mcp campaign --json ...`, as a script runs it."""
    return _cli(url, data_dir, "--json", *args)


def _cli(url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`telli-mcp campaign ...`, as a person runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELLI_")}
    env |= {"TELLI_API_BASE_URL": url, "TELLI_API_KEY": KEY, "TELLI_MCP_DATA_DIR": str(data_dir)}
    env["TELLI_MCP_LEADS_DIR"] = os.pathsep.join((str(data_dir), str(LEADS.parent)))  # the tests' lead files
    return run_without_terminal("campaign", *args, env=env)


def _agent_id(url: str) -> str:
    agents = httpx2.get(f"{url}/v2/agents", headers={"Authorization": f"Bearer {KEY}"}).json()
    return str(agents["data"][0]["id"])


def _schedule_requests(url: str) -> list[dict[str, Any]]:
    log = httpx2.get(f"{url}/_sim/requests").json()
    entries = log if isinstance(log, list) else log.get("requests", [])
    return [entry for entry in entries if entry["path"] == "/v1/schedule-calls-batch"]


def test_start_needs_yes_without_a_terminal_and_sends_nothing(simulator_url: str, tmp_path: Path) -> None:
    result = _run(
        simulator_url, tmp_path, "start", str(LEADS), "--agent-id", _agent_id(simulator_url), "--default-region", "US"
    )
    assert result.returncode == 1 and "--yes" in result.stderr
    assert _schedule_requests(simulator_url) == []


def test_campaign_started_in_one_process_is_listed_checked_and_stopped_from_others(
    simulator_url: str, tmp_path: Path
) -> None:
    agent_id = _agent_id(simulator_url)
    started = _run(
        simulator_url,
        tmp_path,
        "start",
        str(LEADS),
        "--agent-id",
        agent_id,
        "--default-region",
        "US",
        "--name",
        "Spring",
        "--yes",
    )
    assert started.returncode == 0, started.stderr
    run = json.loads(started.stdout)
    listed = json.loads(_run(simulator_url, tmp_path, "list").stdout)
    status = json.loads(_run(simulator_url, tmp_path, "status", run["campaign_id"]).stdout)
    rerun = json.loads(
        _run(
            simulator_url, tmp_path, "start", str(LEADS), "--agent-id", agent_id, "--default-region", "US", "--yes"
        ).stdout
    )
    stopped = json.loads(_run(simulator_url, tmp_path, "stop", run["campaign_id"]).stdout)
    assert run["scheduled_total"] == 12 and run["name"] == "Spring"
    assert [item["campaign_id"] for item in listed["items"]] == [run["campaign_id"]]
    assert status["campaign"]["campaign_id"] == run["campaign_id"]
    assert rerun["campaign_id"] == run["campaign_id"] and rerun["scheduled_now"] == 0
    assert stopped["status"] == "stopped"
    assert sum(len(r["body"]["contacts"]) for r in _schedule_requests(simulator_url)) == 12
    assert _violations(simulator_url) == []


def _violations(url: str) -> list[str]:
    entries = httpx2.get(f"{url}/_sim/requests").json()["requests"]
    return [f"{entry['method']} {entry['path']}: {entry['violations']}" for entry in entries if entry["violations"]]


def test_leads_with_only_the_required_columns_import_and_schedule(simulator_url: str, tmp_path: Path) -> None:
    leads = tmp_path / "minimal.csv"
    leads.write_text("phone_number,first_name,last_name\n+1 212 555 0131,Ida,Roth\n+1 212 555 0132,Ole,Berg\n")
    started = _run(simulator_url, tmp_path, "start", str(leads), "--agent-id", _agent_id(simulator_url), "--yes")
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["scheduled_total"] == 2
    assert _violations(simulator_url) == []
    imported = [r for r in httpx2.get(f"{simulator_url}/_sim/requests").json()["requests"]
                if r["path"] == "/v1/add-contacts-batch"]  # fmt: skip
    assert all(None not in contact.values() for r in imported for contact in r["body"]["contacts"])


def test_start_exits_non_zero_and_says_why_when_telli_rejects_every_batch(simulator_url: str, tmp_path: Path) -> None:
    fault = {"method": "POST", "path": "/v1/schedule-calls-batch", "status": 503, "times": -1}
    httpx2.post(f"{simulator_url}/_sim/faults", json=fault).raise_for_status()
    agent_id = _agent_id(simulator_url)

    started = _run(
        simulator_url, tmp_path, "start", str(LEADS), "--agent-id", agent_id, "--default-region", "US", "--yes"
    )

    assert started.returncode == 1, started.stderr
    run = json.loads(started.stdout)
    assert (run["status"], run["scheduled_total"], run["not_scheduled"]) == ("incomplete", 0, 12)
    assert "NOT COMPLETE (incomplete): 12 of 12 valid leads are not scheduled" in started.stderr
    assert "(503)" in started.stderr and "Run the same command again" in started.stderr


def test_the_dry_run_reports_time_zone_sources_and_warns_about_the_account_default(
    simulator_url: str, tmp_path: Path
) -> None:
    leads = tmp_path / "mixed.csv"
    leads.write_text(
        "phone_number,first_name,last_name\n"
        "+1 212 555 0131,Ida,Roth\n+1 800 555 0132,Ole,Berg\n+49 30 555 0133,Eva,Lang\n"
    )

    planned = _run(simulator_url, tmp_path, "start", str(leads), "--agent-id", _agent_id(simulator_url), "--dry-run")

    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["timezones"]["by_source"] == {"column": 0, "inferred": 2, "account_default": 1}
    assert [row["timezone_source"] for row in plan["sample"]] == ["inferred", "account_default", "inferred"]
    assert "WARNING: 1 of 3 leads have no timezone column value" in planned.stderr
    assert "Europe/Berlin" in planned.stderr
    assert _schedule_requests(simulator_url) == []


# ---- output for people ----------------------------------------------------------------------------------------

_PAIR = re.compile(r"^(\S(?:.*?\S)?) {2,}(\S.*)$")


def _pairs(output: str) -> dict[str, str]:
    """The `key  value` lines before the first blank line, checked to be aligned on one column."""
    matches = [_PAIR.match(line) for line in output.split("\n\n")[0].splitlines()]
    assert matches and all(matches), output
    assert len({match.start(2) for match in matches if match}) == 1, f"values not aligned:\n{output}"
    return {match[1]: match[2] for match in matches if match}


def test_list_says_when_there_are_no_campaigns_yet(simulator_url: str, tmp_path: Path) -> None:
    listed = _cli(simulator_url, tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("No campaigns yet.")


def test_agents_lists_every_agent_id_with_its_title_and_language(simulator_url: str, tmp_path: Path) -> None:
    agents = httpx2.get(f"{simulator_url}/v2/agents", headers={"Authorization": f"Bearer {KEY}"}).json()["data"]
    shown = _cli(simulator_url, tmp_path, "agents")
    scripted = _cli(simulator_url, tmp_path, "agents", "--json")  # --json also after the action
    assert shown.returncode == 0 and scripted.returncode == 0, shown.stderr + scripted.stderr
    lines = shown.stdout.splitlines()
    for agent in agents:
        assert any(agent["id"] in line and agent["title"] in line and agent["language"] in line for line in lines)
    assert [agent["agent_id"] for agent in json.loads(scripted.stdout)["agents"]] == [a["id"] for a in agents]


def test_people_read_aligned_utf8_output_that_says_what_is_still_pending(
    frozen_simulator_url: str, tmp_path: Path
) -> None:
    url = frozen_simulator_url
    start = ["start", str(LEADS), "--agent-id", _agent_id(url), "--default-region", "US", "--yes"]
    started = _cli(url, tmp_path, *start, "--name", "Frühling\x1b[2J")  # an escape a terminal would obey
    campaign_id = json.loads(_run(url, tmp_path, "list").stdout)["items"][0]["campaign_id"]
    listed = _cli(url, tmp_path, "list")
    dialling = _cli(url, tmp_path, "status", campaign_id)
    httpx2.post(f"{url}/_sim/advance", json={"seconds": 30 * 24 * 3600}).raise_for_status()
    finished = _cli(url, tmp_path, "status", campaign_id)

    assert started.returncode == 0, started.stderr
    for output in (started.stdout, listed.stdout, dialling.stdout, finished.stdout):
        assert "Frühling" in output and "\\u00fc" not in output and "\x1b" not in output
        assert not any(line.lstrip().startswith(("{", "[")) or '": ' in line for line in output.splitlines())
    assert _pairs(started.stdout)["Scheduled"].startswith("12 of 12")
    assert _pairs(dialling.stdout)["Status"] == "dialling: 12 of 12 contacts still pending in telli's auto-dialer"
    assert "completed" not in dialling.stdout + listed.stdout
    assert _pairs(finished.stdout)["Status"].startswith("finished")
    assert _pairs(finished.stdout)["Dialling done"] == "100%"
