"""`telli-mcp webhooks serve` receives signed deliveries into the store a stdio server reads, and the served
simulator (`telli-mcp simulator --webhook-url`) sends them: two real processes on loopback."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
from cli_helpers import run_without_terminal
from process_helpers import COMMAND, clean_env, free_port, wait_for_port

from telli_mcp.client import key_fingerprint
from telli_mcp.simulator import DEMO_API_KEY
from telli_mcp.webhooks import EventStore

SECRET = "whsec_" + base64.b64encode(b"cli-test-signing-secret-000001").decode()
LEADS = Path(__file__).parents[2] / "examples" / "leads.csv"
KEY = DEMO_API_KEY  # the served simulator's demo account: its events are the ones this receiver is for


@contextmanager
def running(*args: str, env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([COMMAND, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, process)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def receiver_env(data_dir: Path) -> dict[str, str]:
    return clean_env(TELLI_API_KEY=KEY, TELLI_MCP_WEBHOOK_SECRET=SECRET, TELLI_MCP_DATA_DIR=str(data_dir))


@contextmanager
def receiver_and_simulator(data_dir: Path, *, speed: str) -> Iterator[str]:
    """`telli-mcp webhooks serve` storing into `data_dir`, and a served simulator delivering to it; the
    simulator's base URL."""
    receiver_port, simulator_port = free_port(), free_port()
    with (
        running("webhooks", "serve", "--port", str(receiver_port), env=receiver_env(data_dir), port=receiver_port),
        running(
            "simulator",
            "--port",
            str(simulator_port),
            "--speed",
            speed,
            "--webhook-url",
            f"http://127.0.0.1:{receiver_port}/webhooks/telli",
            env=clean_env(TELLI_SIMULATOR_WEBHOOK_SECRET=SECRET),
            port=simulator_port,
        ),
    ):
        yield f"http://127.0.0.1:{simulator_port}"


def test_fingerprint_prints_the_accounts_label_and_never_the_key() -> None:
    done = subprocess.run(
        [COMMAND, "webhooks", "fingerprint"], env=clean_env(TELLI_API_KEY=KEY), capture_output=True, check=False
    )
    assert done.returncode == 0 and done.stdout.decode().strip() == key_fingerprint(KEY)
    assert KEY not in done.stdout.decode() + done.stderr.decode()


def test_serve_without_a_secret_says_what_to_set() -> None:
    done = subprocess.run(
        [COMMAND, "webhooks", "serve"], env=clean_env(TELLI_API_KEY=KEY), capture_output=True, check=False
    )
    assert done.returncode == 2 and "TELLI_MCP_WEBHOOK_SECRET" in done.stderr.decode()


def test_a_bad_secret_is_named_at_startup_and_not_echoed() -> None:
    env = clean_env(TELLI_API_KEY=KEY, TELLI_MCP_WEBHOOK_SECRET="not-a-secret-xyz")
    done = subprocess.run([COMMAND, "webhooks", "serve"], env=env, capture_output=True, check=False)
    assert done.returncode == 2 and "TELLI_MCP_WEBHOOK_SECRET" in done.stderr.decode()
    assert "not-a-secret-xyz" not in done.stderr.decode()


@pytest.mark.timeout(120)
def test_the_served_simulator_delivers_to_the_receiver_which_stores_for_the_keys_account(tmp_path: Path) -> None:
    with (
        receiver_and_simulator(tmp_path, speed="3600") as base,
        httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {KEY}"}) as api,
    ):
        contact_id = next(c["id"] for c in api.get("/v2/contacts", params={"limit": 100}).json()["data"])
        api.post("/v1/initiate-call", json={"contact_id": contact_id}).raise_for_status()
        store = EventStore(tmp_path / "events.sqlite3")
        # The simulated call ends within seconds at 3600x; the receiver's answer is what this waits for.
        for _ in range(600):
            if store.last_call_ended(key_fingerprint(KEY), contact_id=contact_id) is not None:
                break
            time.sleep(0.05)  # two real processes on the wall clock: a bounded poll, no assertion depends on timing
        stored = store.last_call_ended(key_fingerprint(KEY), contact_id=contact_id)
    assert stored is not None and json.loads(stored.body)["event"] == "call_ended"
    assert stored.received_at - stored.sent_at < timedelta(minutes=5)


def campaign_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_without_terminal("campaign", *args, env=env)


@pytest.mark.timeout(120)
def test_campaign_status_in_a_terminal_takes_the_states_from_the_receiver_s_store(tmp_path: Path) -> None:
    with_events, without = tmp_path / "with-events", tmp_path / "ledger-only"
    # Time moves only when the test advances it, and the simulator delivers what is due before that returns.
    with (
        receiver_and_simulator(with_events, speed="0.000001") as base,
        httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {KEY}"}) as api,
    ):
        cli_env = receiver_env(with_events) | {"TELLI_API_BASE_URL": base, "TELLI_MCP_LEADS_DIR": str(LEADS.parent)}
        contact_id = next(c["id"] for c in api.get("/v2/contacts", params={"limit": 100}).json()["data"])
        api.post("/v1/initiate-call", json={"contact_id": contact_id}).raise_for_status()
        api.post("/_sim/advance", json={"seconds": 600}).raise_for_status()  # the account's first event arrives
        agent_id = api.get("/v2/agents").json()["data"][0]["id"]
        start = ["--json", "start", str(LEADS), "--agent-id", agent_id, "--default-region", "US", "--yes"]
        campaign_id = json.loads(campaign_cli(*start, env=cli_env).stdout)["campaign_id"]
        api.post("/_sim/advance", json={"seconds": 30 * 24 * 3600}).raise_for_status()
        before = len(api.get("/_sim/requests").json()["requests"])

        shown = campaign_cli("status", campaign_id, env=cli_env)
        from_events = json.loads(campaign_cli("--json", "status", campaign_id, env=cli_env).stdout)
        reads = [entry["path"] for entry in api.get("/_sim/requests").json()["requests"][before:]]
        without.mkdir()
        shutil.copy(with_events / "campaigns.sqlite3", without / "campaigns.sqlite3")
        from_telli = json.loads(
            campaign_cli("--json", "status", campaign_id, env=cli_env | {"TELLI_MCP_DATA_DIR": str(without)}).stdout
        )

    assert shown.returncode == 0, shown.stderr
    assert "from telli's webhook events" in shown.stdout and "telli was not read" in shown.stdout
    assert not {"/v1/get-contacts-batch", "/v1/list-calls"} & set(reads)
    assert "read from telli" in from_telli["freshness"]
    for part in ("contacts", "outcomes", "notable"):
        assert from_events[part] == from_telli[part]
    assert from_events["contacts"]["pending"] == 0 and from_events["contacts"]["reached"] > 0
