"""A served simulator checks large bodies against the contract off its event loop, with the same answers."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from sim_helpers import BASE_URL, v1_contact_body

from telli_mcp.simulator import TEST_API_KEY, TelliSimulator, endpoint

pytestmark = pytest.mark.anyio


@pytest.fixture
async def served_client() -> AsyncIterator[httpx2.AsyncClient]:
    sim = TelliSimulator(threaded_checks=True)
    async with httpx2.AsyncClient(
        transport=sim.transport(), base_url=BASE_URL, headers={"Authorization": f"Bearer {TEST_API_KEY}"}
    ) as http:
        yield http


@pytest.fixture
def check_threads(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each contract check: whether it ran outside the event loop's thread."""
    loop_thread, seen = threading.get_ident(), []
    check = endpoint.check_request

    def recording(*args: Any) -> Any:
        seen.append(threading.get_ident() != loop_thread)
        return check(*args)

    monkeypatch.setattr(endpoint, "check_request", recording)
    return seen


def batch(count: int, **changes: str) -> dict[str, Any]:
    contacts = [v1_contact_body(external_contact_id=f"t-{n}", phone_number=f"+4930{7000000 + n}") for n in range(count)]
    contacts[-1].update(changes)
    return {"contacts": contacts}


async def test_a_large_batch_is_checked_in_a_worker_thread_and_answered_as_before(
    served_client: httpx2.AsyncClient, check_threads: list[bool]
) -> None:
    rejected = await served_client.post("/v1/add-contacts-batch", json=batch(400, phone_number="12345"))
    assert rejected.status_code == 400
    assert rejected.json()["message"].startswith("contacts[399].phone_number must be an E.164 phone number")
    assert (await served_client.get("/v1/get-contact-by-external-id/t-0")).status_code == 404

    accepted = await served_client.post("/v1/add-contacts-batch", json=batch(400))
    assert accepted.json()["total_success"] == 400

    # The two batches went to a worker thread; the small lookup stayed on the loop.
    assert check_threads == [True, False, True]


async def test_an_in_process_simulator_checks_every_body_on_its_loop(
    client: httpx2.AsyncClient, check_threads: list[bool]
) -> None:
    await client.post("/v1/add-contacts-batch", json=batch(400))
    assert check_threads == [False]
