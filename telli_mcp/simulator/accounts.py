"""API keys → accounts (tenants). The only place that ever holds the keys."""

from __future__ import annotations

from .clock import SimClock
from .store import Account

__all__ = ["AccountRegistry", "key_from_authorization"]


def key_from_authorization(header: str | None) -> str | None:
    """telli accepts `Bearer <key>` and the bare key (§1); returns the key or None."""
    if header is None:
        return None
    header = header.strip()
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer" and rest.strip():
        return rest.strip()
    return header or None


class AccountRegistry:
    """Maps API keys to accounts; each key is its own tenant."""

    def __init__(self, clock: SimClock, *, rng_seed: int) -> None:
        self._clock = clock
        self._rng_seed = rng_seed
        self._by_key: dict[str, Account] = {}

    def __repr__(self) -> str:
        return f"AccountRegistry(accounts={len(self._by_key)})"

    def add(self, api_key: str) -> Account:
        if not api_key:
            raise ValueError("an API key must not be empty")
        if api_key in self._by_key:
            raise ValueError("this API key already has an account")
        account = Account(f"acct-{len(self._by_key) + 1}", self._clock, rng_seed=self._rng_seed)
        self._by_key[api_key] = account
        return account

    def get(self, api_key: str) -> Account:
        try:
            return self._by_key[api_key]
        except KeyError:
            raise KeyError("no account for this API key") from None

    def for_authorization(self, header: str | None) -> Account | None:
        key = key_from_authorization(header)
        return None if key is None else self._by_key.get(key)

    def label_for_authorization(self, header: str | None) -> str | None:
        account = self.for_authorization(header)
        return None if account is None else account.label

    def all(self) -> list[Account]:
        return list(self._by_key.values())
