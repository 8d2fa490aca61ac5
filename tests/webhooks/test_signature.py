"""Only deliveries signed with the endpoint's secret, within five minutes, are accepted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from pydantic import SecretStr
from webhook_helpers import OTHER_SECRET, SECRET, call_ended, delivery

from telli_mcp.webhooks import RefusedDelivery, verify
from telli_mcp.webhooks.signature import usable_secret

Tamper = Callable[[bytes, dict[str, str]], tuple[bytes, dict[str, str]]]


def test_a_delivery_signed_with_the_secret_is_accepted_with_its_id() -> None:
    body, headers = delivery(call_ended(), delivery_id="msg_1")
    assert verify(SECRET, body, headers).delivery_id == "msg_1"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda body, headers: (body + b" ", headers), id="body changed"),
        pytest.param(lambda body, headers: (body, {**headers, "svix-id": "msg_other"}), id="id changed"),
        pytest.param(
            lambda body, headers: (body, {**headers, "svix-timestamp": str(int(headers["svix-timestamp"]) + 1)}),
            id="timestamp changed",
        ),
        pytest.param(lambda body, headers: (body, {**headers, "svix-signature": "v1,AAAA"}), id="other signature"),
        pytest.param(lambda body, headers: (body, {**headers, "svix-signature": "v1"}), id="malformed signature"),
        pytest.param(lambda body, headers: (body, {**headers, "svix-signature": "v1,@@@"}), id="not base64"),
        pytest.param(
            lambda body, headers: (body, {k: v for k, v in headers.items() if k != "svix-signature"}),
            id="no signature",
        ),
        pytest.param(lambda body, headers: (b"\xff\xfe", headers), id="not UTF-8"),
    ],
)
def test_a_forged_or_altered_delivery_is_refused(tamper: Tamper) -> None:
    body, headers = tamper(*delivery(call_ended()))
    with pytest.raises(RefusedDelivery):
        verify(SECRET, body, headers)


def test_a_delivery_signed_with_another_accounts_secret_is_refused() -> None:
    body, headers = delivery(call_ended(), secret=OTHER_SECRET)
    with pytest.raises(RefusedDelivery, match="No matching signature"):
        verify(SECRET, body, headers)


@pytest.mark.parametrize("age", [timedelta(minutes=6), timedelta(minutes=-6)], ids=["stale", "from the future"])
def test_a_delivery_more_than_five_minutes_off_is_refused_even_if_signed(age: timedelta) -> None:
    body, headers = delivery(call_ended(), age=age)
    with pytest.raises(RefusedDelivery, match=r"too (old|new)"):
        verify(SECRET, body, headers)


def test_during_a_secret_rotation_any_listed_signature_may_match() -> None:
    body, headers = delivery(call_ended())
    _, old = delivery(call_ended(), secret=OTHER_SECRET)
    rotated = {**headers, "svix-signature": f"{old['svix-signature']} {headers['svix-signature']}"}
    assert verify(SECRET, body, rotated).delivery_id == headers["svix-id"]


@pytest.mark.parametrize("secret", ["abc", "whsec_", "whsec_!!!"])
def test_an_unusable_secret_is_named_before_anything_is_received(secret: str) -> None:
    assert usable_secret(secret) is not None


def test_the_refusal_never_contains_the_secret() -> None:
    body, headers = delivery(call_ended(), secret=OTHER_SECRET)
    with pytest.raises(RefusedDelivery) as refused:
        verify(SecretStr(SECRET.get_secret_value()), body, headers)
    assert SECRET.get_secret_value()[6:] not in str(refused.value)
