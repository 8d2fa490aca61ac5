"""telli's webhook signatures: the Svix scheme, checked (and, for the simulator, made) with `standardwebhooks`.

telli delivers its events through Svix. Svix signs with the Standard Webhooks scheme: HMAC-SHA256 over
`"{id}.{timestamp}.{raw body}"`, keyed by the base64 part of a `whsec_` secret, in the headers `svix-id`,
`svix-timestamp` and `svix-signature` (`v1,<base64>`, several separated by spaces while a secret rotates). The
library reads the same headers under their `webhook-` names, so this module only renames them. Everything about
the scheme lives here: the receiver verifies with `verify`, the simulator signs with `signed_headers`.

A delivery whose timestamp is more than five minutes from now is refused (the library's tolerance, and Svix's),
so a captured delivery cannot be replayed later; a replay within those minutes is caught by its id (the store
keeps each id once per account).
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from pydantic import BaseModel, SecretStr
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook, WebhookVerificationError

__all__ = ["SECRET_PREFIX", "RefusedDelivery", "VerifiedDelivery", "signed_headers", "usable_secret", "verify"]

SECRET_PREFIX: Final = "whsec_"
_SVIX_TO_STANDARD: Final = {
    "svix-id": "webhook-id",
    "svix-timestamp": "webhook-timestamp",
    "svix-signature": "webhook-signature",
}


class RefusedDelivery(Exception):
    """A delivery that is not from telli, or too old or too new to trust; the reason never contains the secret."""


class VerifiedDelivery(BaseModel):
    """A delivery whose signature checked out."""

    delivery_id: str
    """`svix-id`: the same for every retry of one message, so it is what de-duplicates."""
    sent_at: datetime
    """`svix-timestamp`: when this attempt was signed."""


def usable_secret(secret: str) -> str | None:
    """Why `secret` cannot sign or verify anything, or None when it can (checked once, when settings load)."""
    if not secret.startswith(SECRET_PREFIX):
        return f"must start with {SECRET_PREFIX} (copy it from telli's webhook portal)"
    try:
        Webhook(secret)
    except (binascii.Error, ValueError, EmptyWebhookSecretError):
        return "is not a base64 secret after whsec_"
    return None


def verify(secret: SecretStr, body: bytes, headers: Mapping[str, str]) -> VerifiedDelivery:
    """Check that `body` with `headers` was signed with `secret` within the last five minutes.

    Raises `RefusedDelivery` for a missing or malformed header, a signature that does not match, or a timestamp
    out of tolerance.
    """
    standard = {_SVIX_TO_STANDARD[name]: value for name, value in headers.items() if name in _SVIX_TO_STANDARD}
    if len(standard) != len(_SVIX_TO_STANDARD):
        raise RefusedDelivery("missing svix-id, svix-timestamp or svix-signature")
    try:
        text = body.decode("utf-8")
        Webhook(secret.get_secret_value()).verify(text, standard, json_parse=False)
    except WebhookVerificationError as err:
        raise RefusedDelivery(str(err)) from None
    except (UnicodeDecodeError, binascii.Error, ValueError):
        # A body that is not UTF-8, or a signature list the library cannot split or decode: not telli's.
        raise RefusedDelivery("malformed signature or body") from None
    return VerifiedDelivery(
        delivery_id=standard["webhook-id"],
        sent_at=datetime.fromtimestamp(float(standard["webhook-timestamp"]), tz=UTC),
    )


def signed_headers(secret: SecretStr, delivery_id: str, sent_at: datetime, body: bytes) -> dict[str, str]:
    """The Svix headers telli would send with `body` (used by the simulator and by tests that forge nothing)."""
    signature = Webhook(secret.get_secret_value()).sign(delivery_id, sent_at, body.decode("utf-8"))
    return {
        "svix-id": delivery_id,
        "svix-timestamp": str(int(sent_at.timestamp())),
        "svix-signature": signature,
        "content-type": "application/json",
    }
