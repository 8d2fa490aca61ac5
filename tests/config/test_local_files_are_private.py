"""Every file this machine keeps (campaign ledger, do-not-call list, webhook events, contact index) holds personal
data, so each is created readable by its owner only, in a data directory only its owner can enter."""

from __future__ import annotations

import stat
from pathlib import Path

from telli_mcp.backend import open_backend
from telli_mcp.campaigns.ledger_schema import connect
from telli_mcp.config import Settings

TENANT = "tenant-a"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_store_file_is_private_and_so_is_the_data_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "not-yet" / "telli-mcp"
    backend = open_backend(Settings(api_key="k-private-files", data_dir=str(data_dir)))
    backend.do_not_call.for_tenant(TENANT).add(["+15550100"], reason="asked", source="test")
    backend.contact_index.for_tenant(TENANT).status()
    _ = backend.events.store
    connect(backend.ledger_path).close()

    files = sorted(path.name for path in data_dir.iterdir())
    assert {"campaigns.sqlite3", "do-not-call.sqlite3", "events.sqlite3", "contacts.sqlite3"} <= set(files)
    assert _mode(data_dir) == 0o700
    assert {name: _mode(data_dir / name) for name in files} == dict.fromkeys(files, 0o600)  # -wal and -shm too


def test_a_directory_the_user_made_keeps_its_permissions(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    data_dir.mkdir(mode=0o750)
    data_dir.chmod(0o750)
    backend = open_backend(Settings(api_key="k-private-files", data_dir=str(data_dir)))
    backend.do_not_call.for_tenant(TENANT).add(["+15550101"], reason=None, source="test")
    assert _mode(data_dir) == 0o750
    assert _mode(data_dir / "do-not-call.sqlite3") == 0o600
