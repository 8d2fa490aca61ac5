"""Fault injection at the transport and HTTP level, and the request log around it."""

from __future__ import annotations

import httpx2
import pytest
from sim_helpers import contact_body

from telli_mcp.simulator import Account, Fault, TelliSimulator, fault_layer

pytestmark = pytest.mark.anyio


async def test_a_status_fault_answers_the_v1_error_shape_with_retry_after(
    client: httpx2.AsyncClient, sim: TelliSimulator
) -> None:
    sim.inject(Fault(path="/v1/list-calls", status=429, retry_after=2))
    response = await client.get("/v1/list-calls")
    assert response.status_code == 429
    assert response.json() == {"message": "Too Many Requests"}
    assert response.headers["retry-after"] == "2"
    assert (await client.get("/v1/list-calls")).status_code == 200  # times=1: used up


async def test_a_status_fault_on_v2_answers_a_code_and_does_not_process_the_request(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account
) -> None:
    sim.inject(Fault(method="POST", path="/v2/contacts*", status=503))
    response = await client.post("/v2/contacts", json=contact_body())
    assert response.status_code == 503
    assert response.json() == {"code": "SERVICE_UNAVAILABLE", "message": "Service Unavailable"}
    assert account.contacts == {}
    assert sim.request_log[-1].fault == "status" and sim.request_log[-1].status == 503


async def test_faults_match_by_method_and_path_prefix(client: httpx2.AsyncClient, sim: TelliSimulator) -> None:
    sim.inject(Fault(method="POST", path="/v2/contacts*", status=500, times=-1))
    assert (await client.get("/v2/contacts")).status_code == 200
    assert (await client.get("/v1/list-calls")).status_code == 200
    for _ in range(3):
        assert (await client.post("/v2/contacts", json=contact_body())).status_code == 500
    sim.clear_faults()
    assert (await client.post("/v2/contacts", json=contact_body())).status_code == 201


async def test_timeout_before_raises_and_changes_nothing(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account
) -> None:
    sim.inject(Fault(kind="timeout_before", path="/v2/contacts"))
    with pytest.raises(httpx2.ReadTimeout):
        await client.post("/v2/contacts", json=contact_body())
    assert account.contacts == {}
    entry = sim.request_log[-1]
    assert (entry.method, entry.path, entry.status, entry.fault) == ("POST", "/v2/contacts", None, "timeout_before")
    assert entry.body == contact_body() and entry.account == "acct-1"


async def test_timeout_after_processes_the_request_but_loses_the_response(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account
) -> None:
    sim.inject(Fault(kind="timeout_after", path="/v2/contacts"))
    with pytest.raises(httpx2.ReadTimeout):
        await client.post("/v2/contacts", json=contact_body(externalId="crm-lost"))
    assert len(account.contacts) == 1  # the POST went through
    assert (sim.request_log[-1].status, sim.request_log[-1].fault) == (None, "timeout_after")
    retry = await client.post("/v2/contacts", json=contact_body(externalId="crm-lost"))
    assert retry.status_code == 409


async def test_applied_late_times_out_at_once_and_applies_the_request_when_the_clock_gets_there(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account
) -> None:
    sim.inject(Fault(kind="applied_late", path="/v2/contacts", latency=30))
    with pytest.raises(httpx2.ReadTimeout):
        await client.post("/v2/contacts", json=contact_body(externalId="crm-late"))
    assert (account.contacts, sim.request_log, sim.late_pending()) == ({}, [], 1)

    await sim.advance(29)
    assert account.contacts == {}
    await sim.advance(1)

    assert [contact.external_id for contact in account.contacts.values()] == ["crm-late"]
    entry = sim.request_log[-1]
    assert (entry.path, entry.status, entry.fault, sim.late_pending()) == ("/v2/contacts", None, "applied_late", 0)


async def test_release_late_applies_held_requests_at_once_without_using_up_other_faults(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account
) -> None:
    sim.inject(Fault(kind="applied_late", path="/v2/contacts", latency=3600))
    with pytest.raises(httpx2.ReadTimeout):
        await client.post("/v2/contacts", json=contact_body(externalId="crm-held"))
    sim.inject(Fault(path="/v2/contacts", status=503))

    await sim.release_late()

    assert len(account.contacts) == 1
    assert (await client.post("/v2/contacts", json=contact_body())).status_code == 503  # still queued


async def test_connect_error_raises_before_anything_happens(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account
) -> None:
    sim.inject(Fault(kind="connect_error"))
    with pytest.raises(httpx2.ConnectError):
        await client.post("/v2/contacts", json=contact_body())
    assert account.contacts == {}
    assert sim.request_log[-1].fault == "connect_error"


async def test_malformed_json_is_a_200_whose_body_does_not_parse(
    client: httpx2.AsyncClient, sim: TelliSimulator
) -> None:
    sim.inject(Fault(kind="malformed_json"))
    response = await client.get("/v2/contacts")
    assert response.status_code == 200
    with pytest.raises(ValueError):  # noqa: PT011 - json.JSONDecodeError is a ValueError
        response.json()


async def test_truncated_processes_the_request_and_cuts_the_body_in_half(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account
) -> None:
    full = (await client.post("/v2/contacts", json=contact_body(externalId="a"))).content
    sim.inject(Fault(kind="truncated"))
    response = await client.post("/v2/contacts", json=contact_body(externalId="b"))
    assert response.status_code == 201
    assert len(response.content) == len(full) // 2
    assert response.headers["content-length"] == str(len(response.content))
    with pytest.raises(ValueError):  # noqa: PT011
        response.json()
    assert len(account.contacts) == 2


@pytest.fixture
def waited(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The simulator's pauses (latency, trickle), recorded instead of slept."""
    pauses: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(fault_layer, "_sleep", fake_sleep)
    return pauses


async def test_latency_delays_then_answers_normally(
    client: httpx2.AsyncClient, sim: TelliSimulator, waited: list[float]
) -> None:
    sim.inject(Fault(kind="latency", latency=1.5))
    response = await client.get("/v1/verify-api-key")
    assert response.status_code == 200
    assert waited == [1.5]
    assert sim.request_log[-1].fault == "latency"


async def test_answer_time_does_the_work_first_and_waits_only_for_the_rest_of_the_time(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    created_before_the_wait: list[bool] = []
    pauses: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        created_before_the_wait.append(len(account.contacts) == 1)
        pauses.append(seconds)

    monkeypatch.setattr(fault_layer, "_sleep", fake_sleep)
    sim.inject(Fault(method="POST", path="/v2/contacts", kind="answer_time", latency=1.5))
    response = await client.post("/v2/contacts", json=contact_body(externalId="timed"))
    assert response.status_code == 201 and response.json()["externalId"] == "timed"
    assert created_before_the_wait == [True]  # processed first: the time telli answers in includes its work
    assert len(pauses) == 1 and 1.0 < pauses[0] < 1.5  # the work's own time is taken off the wait
    assert sim.request_log[-1].fault == "answer_time"


async def test_trickle_processes_the_request_then_sends_the_answer_a_byte_at_a_time(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account, waited: list[float]
) -> None:
    sim.inject(Fault(method="POST", path="/v2/contacts", kind="trickle", latency=0.25))
    response = await client.post("/v2/contacts", json=contact_body(externalId="slow"))
    assert response.status_code == 201 and response.json()["externalId"] == "slow"
    assert waited == [0.25] * len(response.content)  # one pause after every byte
    assert len(account.contacts) == 1  # processed: a client that gives up has still created the contact
    assert sim.request_log[-1].fault == "trickle"


async def test_trickle_waits_a_second_per_byte_unless_told_otherwise(
    client: httpx2.AsyncClient, sim: TelliSimulator, waited: list[float]
) -> None:
    sim.inject(Fault(kind="trickle"))
    response = await client.get("/v1/verify-api-key")
    assert response.status_code == 200 and set(waited) == {1.0} and len(waited) == len(response.content)


async def test_the_log_records_every_request_in_order(client: httpx2.AsyncClient, sim: TelliSimulator) -> None:
    await client.get("/v2/contacts", params={"limit": 5})
    await client.post("/v1/add-contact", json={})
    assert [(e.method, e.path, e.status) for e in sim.request_log] == [
        ("GET", "/v2/contacts", 200),
        ("POST", "/v1/add-contact", 400),
    ]
    assert sim.request_log[0].query == {"limit": "5"}
    assert sim.requests_to("post", "/v1/") == [sim.request_log[1]]


def test_a_status_fault_needs_a_status() -> None:
    with pytest.raises(ValueError, match="status"):
        Fault(kind="status")


async def test_a_limited_request_log_keeps_only_the_newest_entries() -> None:
    import httpx2

    from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

    sim = TelliSimulator(request_log_limit=3)
    log = sim.request_log
    async with httpx2.AsyncClient(transport=sim.transport(), base_url="https://api.telli.com") as client:
        for limit in range(1, 6):
            await client.get("/v2/agents", params={"limit": limit}, headers={"Authorization": TEST_API_KEY})
    assert sim.request_log is log
    assert [entry.query["limit"] for entry in sim.request_log] == ["3", "4", "5"]
