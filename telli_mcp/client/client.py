"""`TelliClient`: the entry point of the async telli API client."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

import anyio
import httpx2
from pydantic import SecretStr

from telli_mcp.client._http import APIResponse, HTTPCore
from telli_mcp.client.errors import AuthenticationError, MissingAPIKeyError
from telli_mcp.client.keys import mask_key
from telli_mcp.client.resources import Agents, Calls, Contacts, ContactsV1, PhoneNumbers, Properties
from telli_mcp.urls import DEFAULT_BASE_URL, public_url

__all__ = ["TelliClient"]


class TelliClient:
    """Async client for telli's REST API (v1 and v2).

    ```python
    async with TelliClient(api_key) as telli:
        contact = await telli.contacts.get(contact_id)
        async for call in telli.calls.iterate(contact_id=contact.id):
            ...
    ```

    Requests that are safe to repeat are retried on 429/502/503/504 and connection failures; POSTs that
    create or dial never are. `sleep` and `rng` are injectable so tests never wait on the wall clock.
    """

    def __init__(
        self,
        api_key: str | SecretStr,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
        max_retries: int = 3,
        retry_deadline: float = 60.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        secret = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        if not secret.get_secret_value().strip():
            raise MissingAPIKeyError()
        self._masked_key = mask_key(secret.get_secret_value())
        self._timeout = timeout
        self._sleep = sleep or anyio.sleep
        self._http = HTTPCore(
            api_key=secret,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_deadline=retry_deadline,
            transport=transport,
            sleep=self._sleep,
            rng=rng or random.Random(),
        )
        self.contacts = Contacts(self._http)
        """v2 contacts."""
        self.contacts_v1 = ContactsV1(self._http)
        """v1 contacts: dialer status fields and batch endpoints."""
        self.properties = Properties(self._http)
        """v2 contact property definitions."""
        self.calls = Calls(self._http)
        """Auto-dialer and calls (v1)."""
        self.agents = Agents(self._http)
        """v2 agents."""
        self.phone_numbers = PhoneNumbers(self._http)
        """The account's phone numbers (v1)."""

    @property
    def base_url(self) -> str:
        """The API base URL, without a trailing slash."""
        return self._http.base_url

    @property
    def timeout(self) -> float:
        """Seconds one request's whole exchange (connect, send, headers, complete body) may take before the client
        gives up (telli may still apply the request). `telli_mcp.client.deadlines` bounds many requests together."""
        return self._timeout

    @property
    def sleep(self) -> Callable[[float], Awaitable[None]]:
        """How this client waits (injected in tests so nothing waits on the wall clock). Code that waits for
        telli on the client's behalf, such as letting a request whose answer was lost settle, uses it too."""
        return self._sleep

    @property
    def masked_key(self) -> str:
        """The API key in a form safe to show: first 3 + "…" + last 4 characters, or "****" if short."""
        return self._masked_key

    async def verify_api_key(self) -> bool:
        """True if telli accepts the key (a 2xx, even with an empty or plain-text body), False on 401; other failures
        raise."""
        try:
            await self._http.request("GET", "/v1/verify-api-key", undocumented_body=True)
        except AuthenticationError:
            return False
        return True

    async def fetch_raw(
        self, method: str, path: str, *, params: Mapping[str, str | int] | None = None, json: Any = None
    ) -> APIResponse:
        """Diagnostics escape hatch: one request under the usual retry policy, its JSON body left unparsed.

        For `telli-mcp doctor --deep`, which compares telli's answers with the contract and so must see them
        before a model hides or rejects a drifted field. Everything else uses the typed resources. `path` is
        sent as given (percent-encode path segments). Raises the usual `TelliError`s, including
        ResponseDecodeError for a 2xx body that is not JSON.
        """
        return await self._http.request(method.upper(), path, params=params, json=json)

    async def aclose(self) -> None:
        """Close the underlying connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> TelliClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"TelliClient(base_url={public_url(self.base_url)!r}, api_key={self.masked_key!r})"
