"""`telli-mcp dnc ...` with TELLI_MCP_DATABASE_URL set: the list lives in the shared PostgreSQL, so a number added
on one machine is on the list another machine's commands (and dial paths) read, and no SQLite file is written."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from cli_helpers import run_without_terminal
from postgres_helpers import postgres_url  # noqa: F401  # the fixture

KEY = "telli-sandbox-demo-key"
"""Any key: the dnc commands never reach telli; the list is scoped to the key's fingerprint."""


def _dnc(data_dir: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`telli-mcp dnc ...` without a terminal, on a machine whose data directory is `data_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELLI_")}
    env |= {
        "TELLI_API_BASE_URL": "http://127.0.0.1:9",
        "TELLI_API_KEY": KEY,
        "TELLI_MCP_DATA_DIR": str(data_dir),
        "TELLI_MCP_DATABASE_URL": database_url,
    }
    result = run_without_terminal("dnc", *args, env=env)
    shown = result.stdout + result.stderr
    assert KEY not in shown, "the API key was printed"
    password = urlsplit(database_url).password
    assert not password or password not in shown, "the database password was printed"
    return result


def test_a_number_added_on_one_machine_is_on_the_list_of_another_and_no_file_is_written(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    one, other = tmp_path / "one", tmp_path / "other"

    added = _dnc(one, postgres_url, "add", "+49 30 555 0101", "--reason", "asked on the call")
    listed = _dnc(other, postgres_url, "list", "--json")
    removed = _dnc(other, postgres_url, "remove", "+49 30 555 0101", "--yes")
    after = _dnc(one, postgres_url, "list", "--json")

    assert added.returncode == 0, added.stderr
    assert listed.returncode == 0, listed.stderr
    entries = json.loads(listed.stdout)["entries"]
    assert [(e["phone_number"], e["reason"], e["source"]) for e in entries] == [
        ("+49305550101", "asked on the call", "cli")
    ]
    assert removed.returncode == 0 and "Removed 1" in removed.stdout, removed.stderr
    assert json.loads(after.stdout) == {"count": 0, "entries": []}
    assert not list(tmp_path.rglob("do-not-call.sqlite3*")), "the list went to a file instead of the database"


def test_an_unreachable_database_is_named_without_its_password_and_nothing_is_written(tmp_path: Path) -> None:
    closed_port = "postgresql://telli:dnc-cli-secret-pw@127.0.0.1:1/telli_mcp"

    result = _dnc(tmp_path, closed_port, "add", "+49 30 555 0102")

    assert result.returncode == 1
    assert "The database telli@127.0.0.1:1/telli_mcp is unreachable" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.rglob("do-not-call.sqlite3*")), "fell back to a file when the database was down"
