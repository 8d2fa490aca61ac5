"""`telli-mcp dnc ...` as a user runs it: separate processes sharing the list beside the ledger, and a campaign
started from the terminal skipping a number the list holds."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from cli_helpers import run_without_terminal, served_simulator

LEADS = Path(__file__).parents[2] / "examples" / "leads.csv"
KEY = "telli-sandbox-demo-key"
"""The served simulator's demo account (the dnc commands alone never reach telli)."""


def _dnc(
    data_dir: Path, *args: str, key: str = KEY, url: str = "http://127.0.0.1:9"
) -> subprocess.CompletedProcess[str]:
    return _command(data_dir, "dnc", *args, key=key, url=url)


def _command(
    data_dir: Path, *args: str, key: str = KEY, url: str = "http://127.0.0.1:9"
) -> subprocess.CompletedProcess[str]:
    """`telli-mcp ...` without a terminal (stdin is empty), as a script or cron runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELLI_")}
    env |= {"TELLI_API_BASE_URL": url, "TELLI_API_KEY": key, "TELLI_MCP_DATA_DIR": str(data_dir)}
    env["TELLI_MCP_LEADS_DIR"] = os.pathsep.join((str(data_dir), str(LEADS.parent)))
    result = run_without_terminal(*args, env=env)
    assert key not in result.stdout + result.stderr, "the API key was printed"
    return result


def _listed(data_dir: Path, *, key: str = KEY) -> dict[str, dict[str, Any]]:
    shown = _dnc(data_dir, "list", "--json", key=key)
    assert shown.returncode == 0, shown.stderr
    return {entry["phone_number"]: entry for entry in json.loads(shown.stdout)["entries"]}


def test_numbers_added_in_any_spelling_are_listed_once_in_e164_with_reason_and_source(tmp_path: Path) -> None:
    added = _dnc(tmp_path, "add", "+49 30 555 0101", "+1 (212) 555-0101", "+49305550101", "--reason", "asked")
    again = _dnc(tmp_path, "add", "+49 (30) 555-0101")

    assert added.returncode == 0 and again.returncode == 0, added.stderr + again.stderr
    listed = _listed(tmp_path)
    assert sorted(listed) == ["+12125550101", "+49305550101"]
    assert {(entry["reason"], entry["source"]) for entry in listed.values()} == {("asked", "cli")}
    assert "Already on the list" in again.stdout  # and its entry kept its reason
    people = _dnc(tmp_path, "list")
    assert "+49305550101" in people.stdout and "asked" in people.stdout


def test_one_invalid_number_adds_nothing_and_names_what_is_wrong(tmp_path: Path) -> None:
    added = _dnc(tmp_path, "add", "+49 30 555 0101", "030 5550102")

    assert added.returncode == 1
    assert "030 5550102" in added.stderr and "country code" in added.stderr
    assert _listed(tmp_path) == {}


def test_removing_needs_a_yes_and_without_a_terminal_refuses_and_removes_nothing(tmp_path: Path) -> None:
    _dnc(tmp_path, "add", "+49 30 555 0101", "+49 30 555 0102")

    refused = _dnc(tmp_path, "remove", "+49 30 555 0101")
    still = _listed(tmp_path)
    removed = _dnc(tmp_path, "remove", "+49 30 555 0101", "+49 30 555 0199", "--yes")

    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert sorted(still) == ["+49305550101", "+49305550102"]
    assert removed.returncode == 0, removed.stderr
    assert "Not on the list: +49305550199" in removed.stdout
    assert sorted(_listed(tmp_path)) == ["+49305550102"]


def test_each_key_has_its_own_list(tmp_path: Path) -> None:
    _dnc(tmp_path, "add", "+49 30 555 0101")

    assert _listed(tmp_path, key="telli-another-account-key") == {}
    assert sorted(_listed(tmp_path)) == ["+49305550101"]


def test_import_adds_the_valid_numbers_and_reports_each_bad_line_by_number(tmp_path: Path) -> None:
    export = tmp_path / "crm-export.csv"
    # Excel's UTF-8 CSV: a byte-order mark, semicolons, a blank line, a quoted cell.
    export.write_text(
        '\ufeffName;Phone_Number;Note\nAnna;+49 30 555 0101;x\nBen;kaputt;y\n\nClara;"+1 212 555 0103";z\nDora;;\n',
        encoding="utf-8",
    )

    imported = _dnc(tmp_path, "import", str(export), "--reason", "CRM opt-outs")

    assert imported.returncode == 1
    assert "line 3" in imported.stderr and "kaputt" in imported.stderr
    assert "line 6: no number" in imported.stderr
    listed = _listed(tmp_path)
    assert sorted(listed) == ["+12125550103", "+49305550101"]
    assert {(entry["reason"], entry["source"]) for entry in listed.values()} == {
        ("CRM opt-outs", "import crm-export.csv")
    }


def test_import_refuses_a_csv_without_a_phone_column_and_takes_a_plain_list(tmp_path: Path) -> None:
    no_column = tmp_path / "people.csv"
    no_column.write_text("name,email\nAnna,anna@example.com\n", encoding="utf-8")
    plain = tmp_path / "numbers.txt"
    plain.write_text("+49 30 555 0101\r\n\r\n+1 212 555 0102\r\n", encoding="utf-8")

    refused = _dnc(tmp_path, "import", str(no_column))
    taken = _dnc(tmp_path, "import", str(plain))

    assert refused.returncode == 1 and "phone_number" in refused.stderr
    assert taken.returncode == 0, taken.stderr
    assert sorted(_listed(tmp_path)) == ["+12125550102", "+49305550101"]


def test_an_export_imports_back_into_another_list_unchanged(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _dnc(first, "add", "+49 30 555 0101", "+1 212 555 0102", "--reason", "asked, twice")
    exported = tmp_path / "dnc.csv"

    to_file = _dnc(first, "export", str(exported))
    to_stdout = _dnc(first, "export")
    imported = _dnc(second, "import", str(exported))

    assert to_file.returncode == 0 and imported.returncode == 0, to_file.stderr + imported.stderr
    assert exported.read_text(encoding="utf-8") == to_stdout.stdout
    header, *rows = to_stdout.stdout.splitlines()
    assert header == "phone_number,reason,source,added_at"
    assert [row.split(",")[0] for row in rows] == ["+12125550102", "+49305550101"]
    assert '"asked, twice"' in rows[0]
    assert sorted(_listed(second)) == ["+12125550102", "+49305550101"]


# ---- a campaign from the terminal ------------------------------------------------------------------------------


@pytest.fixture
def simulator_url() -> Iterator[str]:
    yield from served_simulator()


def _get(url: str, path: str) -> Any:
    return httpx2.get(f"{url}{path}", headers={"Authorization": f"Bearer {KEY}"}).json()


def _scheduled_contacts(url: str) -> list[str]:
    entries = httpx2.get(f"{url}/_sim/requests").json()["requests"]
    return [
        contact["contact_id"]
        for entry in entries
        if entry["path"] == "/v1/schedule-calls-batch"
        for contact in entry["body"]["contacts"]
    ]


def test_campaign_start_skips_a_number_imported_into_the_list(simulator_url: str, tmp_path: Path) -> None:
    opt_outs = tmp_path / "opt-outs.txt"
    opt_outs.write_text("+49 30 5550103\n", encoding="utf-8")  # spring-003 of the lead file, spelled alike
    assert _dnc(tmp_path, "import", str(opt_outs)).returncode == 0
    agent_id = str(_get(simulator_url, "/v2/agents")["data"][0]["id"])
    start = ["campaign", "--json", "start", str(LEADS), "--agent-id", agent_id, "--default-region", "US"]

    planned = _command(tmp_path, *start, "--dry-run", url=simulator_url)
    started = _command(tmp_path, *start, "--yes", url=simulator_url)

    plan = json.loads(planned.stdout)
    assert (plan["to_schedule"], plan["do_not_call"]) == (11, 1)
    assert "1 lead is on the do-not-call list and will not be called: +49305550103" in planned.stderr
    run = json.loads(started.stdout)
    assert (run["scheduled_total"], run["do_not_call"]) == (11, 1)
    assert [(f["phone_number"], f["reason"]) for f in run["failures"]] == [
        ("+49305550103", "on the do-not-call list; not dialled")
    ]
    skipped = _get(simulator_url, "/v2/external/contacts/spring-003")["id"]
    scheduled = _scheduled_contacts(simulator_url)
    assert len(scheduled) == 11 and skipped not in scheduled
    assert started.returncode == 1 and "do-not-call list" in started.stderr
    assert "Run the same command again" not in started.stderr  # nothing a re-run could change
