"""The request log: every request that reached the simulator, with secrets redacted and keys never kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["REDACTED", "LoggedRequest", "RequestLog", "redact"]

REDACTED = "[redacted]"
_SECRET_FIELDS = frozenset({"authPassword", "auth_password", "password", "apiKey", "api_key", "secret"})


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the simulator saw it. `account` is a label like "acct-1", never the API key."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    """The parsed JSON body with secrets redacted, or None (no body, or not JSON)."""
    status: int | None
    """None when a transport fault replaced the response."""
    account: str | None
    fault: str | None
    violations: tuple[str, ...] = ()
    """How the request broke telli's documented contract (`field: message`); empty when it did not."""

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body,
            "status": self.status,
            "account": self.account,
            "fault": self.fault,
            "violations": list(self.violations),
        }


def redact(value: Any) -> Any:
    """A copy of a JSON value with every secret field's value replaced."""
    if isinstance(value, dict):
        return {key: REDACTED if key in _SECRET_FIELDS else redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


class RequestLog:
    """Builds and stores LoggedRequests; resolves API keys to account labels without storing them."""

    def __init__(self, label_for_key: Callable[[str | None], str | None], *, limit: int | None = None) -> None:
        self.entries: list[LoggedRequest] = []
        self._label_for_key = label_for_key
        self._limit = limit
        """Keep only the newest `limit` entries (a long-running sandbox must not grow without bound)."""

    def record(
        self,
        *,
        method: str,
        path: str,
        query_string: bytes,
        authorization: str | None,
        body: bytes,
        status: int | None,
        fault: str | None,
        violations: tuple[str, ...] = (),
    ) -> LoggedRequest:
        entry = LoggedRequest(
            method=method.upper(),
            path=path,
            query=dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)),
            body=redact(_parse_json(body)),
            status=status,
            account=self._label_for_key(authorization),
            fault=fault,
            violations=violations,
        )
        self.entries.append(entry)
        if self._limit is not None and len(self.entries) > self._limit:
            # Trimmed in place: callers hold a reference to this very list.
            del self.entries[: len(self.entries) - self._limit]
        return entry


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None
