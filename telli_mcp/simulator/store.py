"""One account's state (a tenant): contacts, properties, agents, phone numbers, calls and dialer loops."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal, get_args

from .clock import SimClock
from .records import (
    Agent,
    Call,
    Contact,
    DataType,
    DialerLoop,
    LoopState,
    PhoneNumber,
    PropertyDefinition,
    PropertyOption,
    PropertySource,
    ScriptedOutcome,
)

__all__ = ["DEFAULT_MAX_RETRY_DAYS", "DEFAULT_TIMEZONE", "SYSTEM_PROPERTIES", "Account"]

DEFAULT_TIMEZONE = "Europe/Berlin"  # [I] account timezone, used when a contact has none
DEFAULT_MAX_RETRY_DAYS = 3  # [I] the account's max retry days (the 2025-05 n8n node defaulted to 3)
FALLBACK_FROM_NUMBER = "+15550100199"  # [I] caller id when an account has no outbound number

_SYSTEM_CREATED_AT = datetime(2024, 1, 1, tzinfo=UTC)

SYSTEM_PROPERTIES: dict[str, tuple[DataType, str]] = {
    "firstName": (DataType.STRING, "First name"),
    "lastName": (DataType.STRING, "Last name"),
    "phoneNumber": (DataType.PHONE_NUMBER, "Phone number"),
    "email": (DataType.EMAIL, "Email"),
    "timezoneIana": (DataType.STRING, "Timezone"),
    "externalId": (DataType.STRING, "External ID"),
    "externalUrl": (DataType.STRING, "External URL"),
}
"""System properties (§3.2): top-level contact fields, listed as property definitions with source system."""

_OUTCOMES: frozenset[str] = frozenset(get_args(ScriptedOutcome))


class Account:
    """Everything one API key can see. Holds no secret: the key-to-account map lives in the registry."""

    def __init__(self, label: str, clock: SimClock, *, rng_seed: int = 0) -> None:
        self.label = label
        self.timezone = DEFAULT_TIMEZONE
        self.max_retry_days = DEFAULT_MAX_RETRY_DAYS
        self.clock = clock
        self._rng = random.Random(f"{rng_seed}:{label}")
        self._seq = itertools.count(1)
        self.contacts: dict[str, Contact] = {}
        self.properties: dict[str, PropertyDefinition] = {
            key: PropertyDefinition(
                key, data_type, PropertySource.SYSTEM, label_, _SYSTEM_CREATED_AT, _SYSTEM_CREATED_AT
            )
            for key, (data_type, label_) in SYSTEM_PROPERTIES.items()
        }
        self.agents: dict[str, Agent] = {}
        self.phone_numbers: dict[str, PhoneNumber] = {}
        self.calls: dict[str, Call] = {}
        self.loops: dict[str, DialerLoop] = {}
        self._loops_by_contact: dict[str, list[DialerLoop]] = {}
        self._by_external_id: dict[str, str] = {}
        self.outcome_scripts: dict[str, list[ScriptedOutcome]] = {}

    def __repr__(self) -> str:
        return f"Account(label={self.label!r}, contacts={len(self.contacts)}, calls={len(self.calls)})"

    def next_seq(self) -> int:
        """Creation order of contacts and agents (many records share one simulated instant)."""
        return next(self._seq)

    def new_id(self) -> str:
        """A fresh UUID, deterministic for a given rng seed and account label."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    # -- contacts -------------------------------------------------------------------------------------

    def live_contacts(self) -> list[Contact]:
        """Contacts that are not deleted, oldest first (the order of every contact listing)."""
        live = (contact for contact in self.contacts.values() if not contact.deleted)
        return sorted(live, key=lambda contact: contact.seq)

    def find_contact(self, contact_id: str) -> Contact | None:
        contact = self.contacts.get(contact_id)
        return None if contact is None or contact.deleted else contact

    def contact_by_external_id(self, external_id: str) -> Contact | None:
        contact = self.contacts.get(self._by_external_id.get(external_id, ""))
        if contact is None or contact.deleted or contact.external_id != external_id:
            return None
        return contact

    def insert_contact(self, contact: Contact) -> None:
        self.contacts[contact.id] = contact
        self.set_external_id(contact, contact.external_id)

    def set_external_id(self, contact: Contact, external_id: str | None) -> None:
        """Change a contact's external id, keeping the lookup index in step (callers check uniqueness)."""
        if contact.external_id is not None and self._by_external_id.get(contact.external_id) == contact.id:
            del self._by_external_id[contact.external_id]
        contact.external_id = external_id
        if external_id is not None:
            self._by_external_id[external_id] = contact.id

    def external_id_taken(self, external_id: str | None, *, by_other_than: str | None = None) -> bool:
        if external_id is None:
            return False
        owner = self.contact_by_external_id(external_id)
        return owner is not None and owner.id != by_other_than

    # -- properties -----------------------------------------------------------------------------------

    def user_property(self, key: str) -> PropertyDefinition | None:
        definition = self.properties.get(key)
        return None if definition is None or definition.source is PropertySource.SYSTEM else definition

    def add_property(
        self,
        key: str,
        data_type: DataType,
        label: str,
        *,
        description: str | None = None,
        options: Iterable[PropertyOption] = (),
        created_at: datetime | None = None,
    ) -> PropertyDefinition:
        """Define a user property directly (test setup and demo seed; no validation)."""
        moment = created_at or self.clock.now()
        definition = PropertyDefinition(
            key, data_type, PropertySource.USER, label, moment, moment, description, list(options)
        )
        self.properties[key] = definition
        return definition

    # -- agents and phone numbers ---------------------------------------------------------------------

    def add_agent(
        self,
        title: str,
        language: str = "en",
        *,
        agent_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Agent:
        """Create an agent directly (the API cannot): test setup and demo seed."""
        agent = Agent(agent_id or self.new_id(), title, language, created_at or self.clock.now(), self.next_seq())
        self.agents[agent.id] = agent
        return agent

    def add_phone_number(
        self,
        phone_number: str,
        *,
        number_id: str | None = None,
        in_outbound_pool: bool = True,
        created_at: datetime | None = None,
    ) -> PhoneNumber:
        """Add an active outbound number directly: test setup and demo seed."""
        record = PhoneNumber(
            number_id or self.new_id(),
            phone_number,
            in_outbound_pool,
            phone_number_kind(phone_number),
            created_at or self.clock.now(),
        )
        self.phone_numbers[record.id] = record
        return record

    def agents_in_order(self) -> list[Agent]:
        return sorted(self.agents.values(), key=lambda agent: agent.seq)

    def active_phone_numbers(self) -> list[PhoneNumber]:
        active = (number for number in self.phone_numbers.values() if number.active)
        return sorted(active, key=lambda number: (number.created_at, number.id))

    def owns_number(self, phone_number: str) -> bool:
        return any(number.phone_number == phone_number for number in self.active_phone_numbers())

    def outbound_number(self) -> str:
        pool = [number for number in self.active_phone_numbers() if number.in_outbound_pool]
        return pool[0].phone_number if pool else FALLBACK_FROM_NUMBER

    # -- dialer ---------------------------------------------------------------------------------------

    def add_loop(self, loop: DialerLoop) -> None:
        self.loops[loop.loop_id] = loop
        self._loops_by_contact.setdefault(loop.contact_id, []).append(loop)

    def dialer_loops_for(self, contact_id: str) -> list[DialerLoop]:
        """Every loop ever started for the contact, oldest first."""
        return list(self._loops_by_contact.get(contact_id, []))

    def active_loop_for(self, contact_id: str) -> DialerLoop | None:
        for loop in reversed(self._loops_by_contact.get(contact_id, [])):
            if loop.state is LoopState.ACTIVE:
                return loop
        return None

    def next_scripted_outcome(self, contact_id: str) -> ScriptedOutcome | None:
        script = self.outcome_scripts.get(contact_id)
        if not script:
            return None
        return script.pop(0) if len(script) > 1 else script[0]

    def calls_for(self, contact_id: str) -> list[Call]:
        """Finished calls of one contact, oldest first."""
        calls = (call for call in self.calls.values() if call.contact_id == contact_id)
        return sorted(calls, key=lambda call: call.triggered_at)

    def script_outcomes(self, contact_id: str, outcomes: Sequence[ScriptedOutcome]) -> None:
        """Fix the outcomes of the contact's next call attempts, in order.

        Each attempt consumes one outcome; the last one repeats forever. An empty list restores the
        default (phone-number based) outcomes.
        """
        unknown = [outcome for outcome in outcomes if outcome not in _OUTCOMES]
        if unknown:
            raise ValueError(f"unknown outcomes {unknown}; expected some of {sorted(_OUTCOMES)}")
        if outcomes:
            self.outcome_scripts[contact_id] = list(outcomes)
        else:
            self.outcome_scripts.pop(contact_id, None)


def phone_number_kind(phone_number: str) -> Literal["local", "mobile"]:
    """[I] German 015x/016x/017x numbers are mobile, other numbers local."""
    return "mobile" if phone_number.startswith(("+4915", "+4916", "+4917")) else "local"
