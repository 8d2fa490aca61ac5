"""Webhook settings that cannot work stop the start with one line naming the variable, never the secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from telli_mcp.config import Settings, describe_invalid

GOOD = "whsec_MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIz"


@pytest.mark.parametrize(
    ("environment", "variable", "reason"),
    [
        ({"TELLI_MCP_WEBHOOK_SECRET": GOOD}, "TELLI_MCP_WEBHOOK_SECRET", "needs TELLI_API_KEY"),
        (
            {"TELLI_API_KEY": "tk-x", "TELLI_MCP_WEBHOOK_SECRET": "secret-no-prefix"},
            "TELLI_MCP_WEBHOOK_SECRET",
            "whsec_",
        ),
        ({"TELLI_MCP_WEBHOOK_ACCOUNTS": "[1, 2]"}, "TELLI_MCP_WEBHOOK_ACCOUNTS", "JSON object"),
        (
            {"TELLI_MCP_WEBHOOK_ACCOUNTS": '{"b": {"secret": "secret-no-prefix", "account": "0123456789abcdef"}}'},
            "TELLI_MCP_WEBHOOK_ACCOUNTS",
            "whsec_",
        ),
    ],
)
def test_a_webhook_setting_that_cannot_work_is_named_and_hidden(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], variable: str, reason: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    line = describe_invalid(refused.value)
    assert line.startswith(f"{variable}=(hidden) is not valid") and reason in line
    assert "secret-no-prefix" not in line and GOOD not in line


def test_a_usable_secret_with_its_key_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELLI_API_KEY", "tk-x")
    monkeypatch.setenv("TELLI_MCP_WEBHOOK_SECRET", GOOD)
    settings = Settings()
    assert settings.webhook_secret is not None and settings.webhook_secret.get_secret_value() == GOOD
