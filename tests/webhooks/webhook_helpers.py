"""Deliveries as telli's Svix would make them, and forged ones, for the receiver tests."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from telli_mcp.webhooks import signed_headers

SECRET = SecretStr("whsec_" + base64.b64encode(b"tenant-a-signing-key-0123456789").decode())
OTHER_SECRET = SecretStr("whsec_" + base64.b64encode(b"tenant-b-signing-key-9876543210").decode())
ACCOUNT_A = "a1a1a1a1a1a1a1a1"
ACCOUNT_B = "b2b2b2b2b2b2b2b2"
CONTACT = "6bd1e7e0-6d00-4c0b-ad5b-daa72457a27d"


def call_ended(call_id: str = "b4a05730-2abc-4eb0-8066-2e4d23b53ba9", contact_id: str = CONTACT) -> dict[str, Any]:
    """telli's documented call_ended example (telli-api.md §3.5), with fictional numbers."""
    return {
        "event": "call_ended",
        "call": {
            "call_id": call_id,
            "attempt": 1,
            "from_number": "+15550100",
            "to_number": "+15550142",
            "contact_id": contact_id,
            "agent_id": "d8931604-92ad-45cf-9071-d9cd2afbad0c",
            "triggered_at": 1731956924302,
            "ended_at": 1731957002078,
            "call_status": "COMPLETED",
            "transcript": "Agent: Hello...",
            "transcriptObject": [{"role": "agent", "content": "Hello..."}],
            "call_analysis": {"summary": {"value": True, "details": "Talked about an ice cream machine"}},
        },
        "contact": {"contact_id": contact_id, "status": "reached", "call_attempts": 1},
    }


def delivery(
    payload: dict[str, Any] | bytes,
    *,
    delivery_id: str = "msg_p5jXN8AQM9LWM0D4loKWxJek",
    secret: SecretStr = SECRET,
    age: timedelta = timedelta(0),
) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, signed_headers(secret, delivery_id, datetime.now(UTC) - age, body)
