"""The doctor says whether webhooks are configured and whether events arrive."""

from __future__ import annotations

import base64
from pathlib import Path

from pydantic import SecretStr

from telli_mcp.config import Settings
from telli_mcp.doctor.results import Status
from telli_mcp.doctor.webhooks_check import check_webhooks

SECRET = SecretStr("whsec_" + base64.b64encode(b"doctor-test-secret-0000000001").decode())
KEY = SecretStr("tk-doctor-4Hq8Wm3Rz7Lp2Vx9")


def test_without_a_receiver_it_passes_and_says_results_are_polled(tmp_path: Path) -> None:
    check = check_webhooks(Settings(api_key=KEY, data_dir=str(tmp_path)))
    assert check.status is Status.PASS and "not configured here" in check.detail and "polled" in check.detail
    assert not (tmp_path / "events.sqlite3").exists()  # looking creates nothing


def test_a_receiver_without_any_event_yet_is_a_warning_naming_its_path(tmp_path: Path) -> None:
    check = check_webhooks(Settings(api_key=KEY, webhook_secret=SECRET, data_dir=str(tmp_path)))
    assert check.status is Status.WARN
    assert "receiving at /webhooks/telli; no event received yet" in check.detail and "server time" in check.detail
    assert SECRET.get_secret_value() not in check.detail


def test_in_the_sandbox_events_are_delivered_in_process() -> None:
    assert check_webhooks(Settings(sandbox=True)).status is Status.PASS
