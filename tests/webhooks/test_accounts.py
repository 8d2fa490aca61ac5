"""Webhook settings name the variable that is wrong, and never echo a secret."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr
from webhook_helpers import OTHER_SECRET, SECRET

from telli_mcp.client import key_fingerprint
from telli_mcp.webhooks.accounts import WebhookConfigError, webhook_endpoints

KEY = SecretStr("tk-operator-3Hq8Wm3Rz7Lp2Vx9")
FINGERPRINT_B = "0123456789abcdef"


def accounts(value: object) -> SecretStr:
    return SecretStr(json.dumps(value))


def test_the_secret_alone_serves_the_server_keys_account_at_the_plain_path() -> None:
    [endpoint] = webhook_endpoints(server_key=KEY, secret=SECRET, accounts=None)
    assert (endpoint.path, endpoint.account) == ("/webhooks/telli", key_fingerprint(KEY.get_secret_value()))


def test_named_accounts_get_their_own_paths_beside_the_plain_one() -> None:
    named = accounts({"acme-b": {"secret": OTHER_SECRET.get_secret_value(), "account": FINGERPRINT_B}})
    endpoints = webhook_endpoints(server_key=KEY, secret=SECRET, accounts=named)
    assert [(e.path, e.account) for e in endpoints][1] == ("/webhooks/telli/acme-b", FINGERPRINT_B)


def test_nothing_configured_means_no_receiver() -> None:
    assert webhook_endpoints(server_key=KEY, secret=None, accounts=None) == []


@pytest.mark.parametrize(
    ("kwargs", "variable"),
    [
        ({"server_key": None, "secret": SECRET, "accounts": None}, "TELLI_MCP_WEBHOOK_SECRET"),
        ({"server_key": KEY, "secret": SecretStr("not-a-whsec"), "accounts": None}, "TELLI_MCP_WEBHOOK_SECRET"),
        ({"server_key": KEY, "secret": None, "accounts": SecretStr("{oops")}, "TELLI_MCP_WEBHOOK_ACCOUNTS"),
        ({"server_key": KEY, "secret": None, "accounts": accounts([])}, "TELLI_MCP_WEBHOOK_ACCOUNTS"),
        (
            {"server_key": KEY, "secret": None, "accounts": accounts({"Bad Name": {}})},
            "TELLI_MCP_WEBHOOK_ACCOUNTS",
        ),
        (
            {"server_key": None, "secret": None, "accounts": accounts({"b": {"secret": "whsec_x", "account": "k"}})},
            "TELLI_MCP_WEBHOOK_ACCOUNTS",
        ),
        (
            {
                "server_key": None,
                "secret": None,
                "accounts": accounts({"b": {"secret": "plain", "account": FINGERPRINT_B}}),
            },
            "TELLI_MCP_WEBHOOK_ACCOUNTS",
        ),
    ],
)
def test_a_setting_that_cannot_work_is_named(kwargs: dict[str, SecretStr | None], variable: str) -> None:
    with pytest.raises(WebhookConfigError) as refused:
        webhook_endpoints(**kwargs)
    assert refused.value.variable.startswith(variable)
    for secret in (SECRET, OTHER_SECRET, SecretStr("plain"), SecretStr("not-a-whsec")):
        assert secret.get_secret_value() not in str(refused.value)
