"""HTTP statuses map to the documented exceptions, with actionable messages that never contain the API key."""

from __future__ import annotations

import logging
import random

import pytest
from client_helpers import SleepRecorder

from telli_mcp.backend import Backend
from telli_mcp.client import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContactV1Create,
    MissingAPIKeyError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    PropertyCreate,
    PropertyDataType,
    RateLimitError,
    ScheduleCall,
    ServerError,
    TelliAPIError,
    TelliClient,
    TelliError,
    UnprocessableEntityError,
)
from telli_mcp.config import Settings
from telli_mcp.simulator import TEST_API_KEY, Fault, TelliSimulator

pytestmark = pytest.mark.anyio

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
WRONG_KEY = "tk_live_wrong_0123456789abcdef"


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        pytest.param(400, BadRequestError, id="400"),
        pytest.param(401, AuthenticationError, id="401"),
        pytest.param(402, PaymentRequiredError, id="402"),
        pytest.param(403, PermissionDeniedError, id="403"),
        pytest.param(404, NotFoundError, id="404"),
        pytest.param(409, ConflictError, id="409"),
        pytest.param(422, UnprocessableEntityError, id="422"),
        pytest.param(429, RateLimitError, id="429"),
        pytest.param(500, ServerError, id="500"),
    ],
)
async def test_each_status_maps_to_its_exception(
    telli: TelliClient, sim: TelliSimulator, status: int, error_type: type[TelliAPIError]
) -> None:
    # A create is never retried, so even 429 and 5xx reach the caller after one request.
    sim.inject(Fault(method="POST", path="/v2/properties/contacts", status=status))
    with pytest.raises(error_type) as caught:
        await telli.properties.create(PropertyCreate(key="plan", data_type=PropertyDataType.STRING, label="Plan"))
    assert caught.value.status_code == status
    assert caught.value.message


async def test_a_v2_error_body_yields_code_message_and_request(telli: TelliClient, sim: TelliSimulator) -> None:
    sim.inject(Fault(method="GET", path="/v2/contacts", status=404))
    with pytest.raises(NotFoundError) as caught:
        await telli.contacts.list()
    error = caught.value
    assert error.code
    assert (error.method, error.path) == ("GET", "/v2/contacts")
    assert "GET /v2/contacts" in str(error)


async def test_a_v1_error_body_yields_telli_s_message(telli: TelliClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await telli.contacts_v1.get(UNKNOWN_ID)
    assert caught.value.server_message == "Contact not found"
    assert "Contact not found" in str(caught.value)
    assert caught.value.code is None


async def test_a_rejected_key_says_what_to_check(sim: TelliSimulator) -> None:
    # The client cannot know where its key came from (a setting or a caller's header): it names the app.
    async with TelliClient(WRONG_KEY, transport=sim.transport()) as telli:
        with pytest.raises(AuthenticationError, match=r"current key from the telli app \(Settings > API"):
            await telli.contacts.list()


async def test_payment_required_mentions_the_paid_plan(telli: TelliClient, sim: TelliSimulator) -> None:
    sim.inject(Fault(method="GET", path="/v2/agents", status=402))
    with pytest.raises(PaymentRequiredError, match="paid telli plan"):
        await telli.agents.list()


async def test_verify_api_key_is_true_for_a_valid_key_and_false_for_a_rejected_one(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    assert await telli.verify_api_key() is True
    async with TelliClient(WRONG_KEY, transport=sim.transport()) as wrong:
        assert await wrong.verify_api_key() is False


async def test_verify_api_key_raises_on_other_failures(telli: TelliClient, sim: TelliSimulator) -> None:
    sim.inject(Fault(method="GET", path="/v1/verify-api-key", status=403))
    with pytest.raises(PermissionDeniedError):
        await telli.verify_api_key()


async def test_a_backend_without_a_key_makes_no_client_and_says_which_variable_to_set(sim: TelliSimulator) -> None:
    backend = Backend.simulated(Settings.model_validate({}), sim)
    assert backend.api_key is None
    with pytest.raises(MissingAPIKeyError, match="TELLI_API_KEY"):
        backend.client("")


async def test_a_backend_makes_clients_with_the_configured_key_and_url(sim: TelliSimulator) -> None:
    settings = Settings.model_validate(
        {"TELLI_API_KEY": TEST_API_KEY, "TELLI_API_BASE_URL": "https://telli.example.com/"}
    )
    backend = Backend.simulated(settings, sim)
    assert backend.api_key is not None
    async with backend.client(backend.api_key) as telli:
        assert telli.base_url == "https://telli.example.com"
        assert await telli.verify_api_key() is True


async def test_the_masked_key_shows_only_its_ends(sim: TelliSimulator) -> None:
    async with TelliClient("abcdefghijklmnop", transport=sim.transport()) as long_key:
        assert long_key.masked_key == "abc…mnop"
        assert repr(long_key) == "TelliClient(base_url='https://api.telli.com', api_key='abc…mnop')"
    async with TelliClient("short-key", transport=sim.transport()) as short_key:
        assert short_key.masked_key == "****"


async def _collect_errors(sim: TelliSimulator, key: str) -> list[BaseException]:
    """Errors of many kinds raised by a client whose key telli rejects or whose requests fail."""
    errors: list[BaseException] = []
    async with TelliClient(key, transport=sim.transport(), sleep=SleepRecorder(), rng=random.Random(1)) as telli:
        for action in (
            telli.contacts.list(),
            telli.contacts_v1.create(
                ContactV1Create(external_contact_id="e", first_name="A", last_name="B", phone_number="+493012345678")
            ),
            telli.calls.schedule(ScheduleCall(contact_id=UNKNOWN_ID, agent_id=UNKNOWN_ID)),
            telli.verify_api_key(),
        ):
            try:
                await action
            except TelliError as error:
                errors.append(error)
    return errors


async def test_the_api_key_never_appears_in_errors_reprs_or_log_lines(
    sim: TelliSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim.inject(Fault(method="GET", path="/v2/agents", status=503, times=-1))
    sim.inject(Fault(method="GET", path="/v1/list-calls", kind="timeout_after", times=-1))
    sim.inject(Fault(method="GET", path="/v1/phone-numbers", kind="malformed_json"))
    errors = await _collect_errors(sim, WRONG_KEY)
    async with TelliClient(TEST_API_KEY, transport=sim.transport(), sleep=SleepRecorder()) as telli:
        texts = [repr(telli)]
        for action in (
            telli.agents.list(),
            telli.calls.list(),
            telli.phone_numbers.list(),
            telli.contacts.get("x"),
        ):
            try:
                await action
            except TelliError as error:
                errors.append(error)
    assert len(errors) == 7
    texts += [text for error in errors for text in (str(error), repr(error), repr(vars(error)))]
    texts += [record.getMessage() for record in caplog.records]
    assert [text for text in texts if WRONG_KEY in text or TEST_API_KEY in text] == []
    assert any("Retrying" in record.getMessage() for record in caplog.records)
