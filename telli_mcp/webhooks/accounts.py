"""Which telli accounts this server receives webhooks for, from the settings: one endpoint and secret per account.

- `TELLI_MCP_WEBHOOK_SECRET`: the `whsec_` secret of the endpoint `/webhooks/telli`, for the account of
  `TELLI_API_KEY` (the server's own key).
- `TELLI_MCP_WEBHOOK_ACCOUNTS`: for an operator serving several accounts over HTTP, a JSON object
  `{"<name>": {"secret": "whsec_…", "account": "<fingerprint>"}}`; each account gets `/webhooks/telli/<name>`,
  and `telli-mcp webhooks fingerprint` prints the fingerprint of the key in `TELLI_API_KEY`.

An account is the fingerprint of its telli key, the same label its campaigns and sessions carry, so an event
verified on an account's endpoint is stored for, and only ever shown to, callers using that account's key.
"""

from __future__ import annotations

import json
import re
from typing import Final

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator

from telli_mcp.client.keys import key_fingerprint
from telli_mcp.webhooks.receiver import WebhookEndpoint
from telli_mcp.webhooks.signature import usable_secret

__all__ = ["WebhookConfigError", "webhook_endpoints"]

_NAME: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_FINGERPRINT: Final = re.compile(r"[0-9a-f]{16}")


class WebhookConfigError(ValueError):
    """A webhook setting that cannot work, named by its environment variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable} {problem}")
        self.variable = variable


class _Account(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: SecretStr
    account: str

    @field_validator("account")
    @classmethod
    def _fingerprint(cls, value: str) -> str:
        if not _FINGERPRINT.fullmatch(value):
            raise ValueError("must be the 16-hex-digit fingerprint `telli-mcp webhooks fingerprint` prints")
        return value


def _checked_secret(variable: str, secret: SecretStr) -> SecretStr:
    problem = usable_secret(secret.get_secret_value())
    if problem is not None:
        raise WebhookConfigError(variable, problem)
    return secret


def webhook_endpoints(
    *, server_key: SecretStr | None, secret: SecretStr | None, accounts: SecretStr | None
) -> list[WebhookEndpoint]:
    """The endpoints these settings configure (none: the receiver is off). Raises `WebhookConfigError`."""
    endpoints = []
    if secret is not None:
        if server_key is None:
            raise WebhookConfigError(
                "TELLI_MCP_WEBHOOK_SECRET",
                "needs TELLI_API_KEY (the account the webhooks belong to); for callers' own accounts use "
                "TELLI_MCP_WEBHOOK_ACCOUNTS",
            )
        endpoints.append(
            WebhookEndpoint(
                name=None,
                secret=_checked_secret("TELLI_MCP_WEBHOOK_SECRET", secret),
                account=key_fingerprint(server_key.get_secret_value()),
            )
        )
    if accounts is not None:
        endpoints.extend(_named_endpoints(accounts))
    return endpoints


def _named_endpoints(accounts: SecretStr) -> list[WebhookEndpoint]:
    variable = "TELLI_MCP_WEBHOOK_ACCOUNTS"
    try:
        raw = json.loads(accounts.get_secret_value())
    except ValueError:
        raise WebhookConfigError(variable, "is not JSON") from None
    if not isinstance(raw, dict) or not raw:
        raise WebhookConfigError(variable, 'must be a JSON object {"<name>": {"secret": ..., "account": ...}}')
    endpoints = []
    for name, entry in raw.items():
        if not _NAME.fullmatch(name):
            raise WebhookConfigError(variable, f"has the name {name[:64]!r}: use lowercase letters, digits and -")
        try:
            account = _Account.model_validate(entry)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "entry"
            raise WebhookConfigError(variable, f"entry {name!r}: {where}: {first['msg']}") from None
        secret = _checked_secret(f"{variable} entry {name!r} secret", account.secret)
        endpoints.append(WebhookEndpoint(name=name, secret=secret, account=account.account))
    return endpoints
