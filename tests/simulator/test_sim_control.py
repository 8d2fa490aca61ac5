"""The /_sim/ control endpoints, in-process and over a real loopback socket."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import anyio
import httpx2
import pytest
import uvicorn
from sim_helpers import BASE_URL, contact_body

from telli_mcp.simulator import TEST_API_KEY, TelliSimulator
from telli_mcp.simulator.serve import drive_clock

pytestmark = pytest.mark.anyio


@pytest.fixture
async def control(sim: TelliSimulator) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(transport=sim.transport(), base_url=BASE_URL) as http:
        yield http


async def test_health_reports_the_simulated_time_without_auth(control: httpx2.AsyncClient) -> None:
    response = await control.get("/_sim/health")
    assert response.json() == {"status": "ok", "now": "2026-03-02T08:00:00.000Z"}


async def test_advance_moves_the_clock(control: httpx2.AsyncClient, sim: TelliSimulator) -> None:
    response = await control.post("/_sim/advance", json={"seconds": 90})
    assert response.json() == {"now": "2026-03-02T08:01:30.000Z"}
    assert (await control.post("/_sim/advance", json={"seconds": -1})).status_code == 400


async def test_http_faults_can_be_queued_and_cleared(control: httpx2.AsyncClient, sim: TelliSimulator) -> None:
    queued = await control.post("/_sim/faults", json={"path": "/v1/*", "status": 500, "times": -1})
    assert queued.status_code == 201
    headers = {"Authorization": TEST_API_KEY}
    assert (await control.get("/v1/verify-api-key", headers=headers)).status_code == 500
    assert (await control.delete("/_sim/faults")).status_code == 204
    assert (await control.get("/v1/verify-api-key", headers=headers)).status_code == 200


@pytest.mark.parametrize("body", [{"kind": "timeout_after"}, {"status": 500, "colour": "red"}, {"kind": "status"}])
async def test_faults_that_cannot_work_over_http_are_refused(control: httpx2.AsyncClient, body: dict[str, str]) -> None:
    assert (await control.post("/_sim/faults", json=body)).status_code == 400


async def test_the_request_log_is_served_without_keys_or_control_calls(control: httpx2.AsyncClient) -> None:
    await control.post("/v2/contacts", json=contact_body(), headers={"Authorization": f"Bearer {TEST_API_KEY}"})
    response = await control.get("/_sim/requests")
    entries = response.json()["requests"]
    assert [(entry["method"], entry["path"], entry["status"]) for entry in entries] == [("POST", "/v2/contacts", 201)]
    assert entries[0]["account"] == "acct-1"
    assert TEST_API_KEY not in response.text


async def test_drive_clock_refuses_a_negative_speed_or_tick(sim: TelliSimulator) -> None:
    with pytest.raises(ValueError, match="speed"):
        await drive_clock(sim, speed=-1)
    with pytest.raises(ValueError, match="tick"):
        await drive_clock(sim, speed=60, tick=0)


async def test_at_speed_zero_the_clock_stands_still_until_advanced(sim: TelliSimulator) -> None:
    before = sim.clock.now()
    with anyio.fail_after(5):
        await drive_clock(sim, speed=0)  # returns at once: nothing moves time (or dials) but /_sim/advance
    assert sim.clock.now() == before


async def test_the_simulator_serves_real_http_on_loopback(sim: TelliSimulator) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # connections queue in the backlog until uvicorn accepts them: no readiness polling
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(sim.app, log_level="warning", lifespan="off"))
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(server.serve, [listener])
            async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                created = await http.post(
                    "/v2/contacts", json=contact_body(), headers={"Authorization": f"Bearer {TEST_API_KEY}"}
                )
                assert created.status_code == 201
                await http.post("/_sim/faults", json={"path": "/v2/contacts", "kind": "truncated"})
                truncated = await http.get("/v2/contacts", headers={"Authorization": TEST_API_KEY})
                assert truncated.status_code == 200 and not truncated.text.endswith("}")
                assert (
                    (await http.post("/_sim/advance", json={"seconds": 60}))
                    .json()["now"]
                    .startswith("2026-03-02T08:01")
                )
            server.should_exit = True
    listener.close()
