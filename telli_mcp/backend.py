"""The composition root: the one place that turns settings into the running parts, and decides sandbox or real.

Every entry point (the MCP server, `telli-mcp doctor`, `doctor --deep`, `telli-mcp campaign`, the tests) gets a
`Backend` here: `open_backend(settings)` for the telli the settings name, or `Backend.simulated(settings,
simulator)` for a test's in-process simulator. (The docs generator needs none: it reads the toolsets' static
data.) A backend holds:

* the client factory (`client`, `client_factory`): every `TelliClient` of the process is made here;
* the default key (`api_key`, a `SecretStr`): the one requests use when the caller brings none;
* the sandbox, if any: its simulator and the controls of its clock;
* the campaign store, with the ledger's location (`ledger_path`; in the shared database when there is one);
* telli's webhook events (`events`: their store, hub and the clock waits run on) and the endpoints that receive
  them (`webhook_endpoints`, `webhook_receiver`); in the sandbox the simulator delivers into them directly;
* the shared database (`database`, when TELLI_MCP_DATABASE_URL names one, never in the sandbox): the campaign
  ledger, the do-not-call list, the webhook events, the contact index and the spent confirmation tokens live in
  it, else in SQLite files beside the ledger (`_shared_or` is that rule); `aclose()` closes what was opened;
* `now`: the backend's clock (the simulator's in the sandbox and in tests).

`TELLI_MCP_SANDBOX=1` or a `--sandbox` flag anywhere means the in-process simulator with demo data, and then
nothing ever connects to `TELLI_API_BASE_URL`, whatever key is set: a user who believes they are in the
sandbox never places a real call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeAlias, cast

from pydantic import SecretStr

from telli_mcp.config import Settings, resolve_data_dir
from telli_mcp.local_db import IN_MEMORY
from telli_mcp.urls import public_url

if TYPE_CHECKING:
    import httpx2
    from starlette.types import ASGIApp

    from telli_mcp.campaign_adoption import CampaignAdopter
    from telli_mcp.campaigns.engine import CampaignEngine
    from telli_mcp.campaigns.store import CampaignStore
    from telli_mcp.client import TelliClient
    from telli_mcp.contact_index.store import ContactIndex
    from telli_mcp.database import Database, SpentTokens
    from telli_mcp.do_not_call.store import DoNotCallList
    from telli_mcp.sandbox import Sandbox
    from telli_mcp.simulator import TelliSimulator
    from telli_mcp.webhooks.clock import WaitClock
    from telli_mcp.webhooks.feed import EventFeed
    from telli_mcp.webhooks.receiver import WebhookEndpoint

__all__ = [
    "SANDBOX_LABEL",
    "SANDBOX_NOTICE",
    "Backend",
    "ClientFactory",
    "SimulatedTelli",
    "events_path",
    "ledger_path",
    "open_backend",
]

ClientFactory: TypeAlias = Callable[[str], "TelliClient"]
Sleep = Callable[[float], Awaitable[None]]
SANDBOX_LABEL = "the sandbox simulator"
SANDBOX_NOTICE = "SANDBOX MODE: simulated telli with demo data; no real calls are placed."
"""What every entry point says when it runs against the sandbox."""
LEDGER_FILE = "campaigns.sqlite3"
EVENTS_FILE = "events.sqlite3"
DO_NOT_CALL_FILE = "do-not-call.sqlite3"
CONTACT_INDEX_FILE = "contacts.sqlite3"
SPENT_TOKENS_FILE = "spent-tokens.sqlite3"


class _Clock(Protocol):
    def now(self) -> datetime: ...


class SimulatedTelli(Protocol):
    """An in-process telli: a `TelliSimulator`, or anything that offers its transport and clock."""

    @property
    def clock(self) -> _Clock: ...

    def transport(self) -> httpx2.AsyncBaseTransport: ...


def _data_file(settings: Settings, name: str, *, simulated: bool) -> str:
    # In memory against a simulator (the sandbox, tests: make-believe data must not mix with real data) unless
    # TELLI_MCP_DATA_DIR says where; else the user data directory.
    if (settings.sandbox or simulated) and not settings.data_dir:
        return IN_MEMORY
    return str(resolve_data_dir(settings) / name)


def ledger_path(settings: Settings, *, simulated: bool = False) -> str:
    """Where the campaign ledger lives: `TELLI_MCP_DATA_DIR` if set; in memory against a simulator (the sandbox,
    tests: its campaigns are make-believe and must not mix with real ones); else the user data directory."""
    return _data_file(settings, LEDGER_FILE, simulated=simulated)


def events_path(settings: Settings, *, simulated: bool = False) -> str:
    """Where telli's webhook events are stored: beside the ledger, by the same rule. A stdio server and
    `telli-mcp webhooks serve` with the same settings share this file."""
    return _data_file(settings, EVENTS_FILE, simulated=simulated)


@dataclass(frozen=True)
class Backend:
    """The telli a process talks to, and everything that follows from that choice.

    Make one with `open_backend` or `Backend.simulated`; the fields agree with each other by construction
    (`settings.sandbox` is set exactly when `sandbox` is).
    """

    settings: Settings
    """The settings as given, except that in the sandbox the key is the demo account's."""
    label: str
    """What to call this backend in messages, reports and get_status: its base URL without credentials, or
    "the sandbox simulator"."""
    now: Callable[[], datetime]
    """The current time of this backend (the simulator's clock in the sandbox and in tests)."""
    ledger_path: str
    """The campaign ledger's file, or ":memory:" (see `ledger_path`)."""
    sandbox: Sandbox | None = None
    """The sandbox (its simulator and clock controls), or None."""
    transport: httpx2.AsyncBaseTransport | None = None
    """The simulator's in-process transport; None: the network, to `settings.api_base_url`."""
    sleep: Sleep | None = None
    """How clients wait between retries (tests pass one that does not wait); None: real time."""
    events_path: str = IN_MEMORY
    """The webhook event store's file, or ":memory:" (see `events_path`)."""
    wait_clock: WaitClock | None = None
    """What waiting for a call runs on: the simulator in the sandbox and tests; None: real time."""

    @classmethod
    def simulated(
        cls,
        settings: Settings,
        simulator: SimulatedTelli,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
    ) -> Backend:
        """A stand-in for the telli at `settings.api_base_url`, for tests: clients address that URL
        but reach the in-process simulator through its transport (or `transport`, a test's own fake telli),
        the clock is the simulator's, and the campaign ledger is in memory unless TELLI_MCP_DATA_DIR is set.
        For the sandbox use `open_backend`: it has its own demo simulator."""
        if settings.sandbox:
            raise ValueError("the sandbox brings its own simulator: use open_backend(settings)")
        waits_on_itself = callable(getattr(simulator, "sleep_until", None))  # a TelliSimulator; not a test's fake
        return cls(
            settings,
            label=public_url(settings.api_base_url),
            now=lambda: simulator.clock.now(),
            ledger_path=ledger_path(settings, simulated=True),
            transport=transport or simulator.transport(),
            sleep=sleep,
            events_path=events_path(settings, simulated=True),
            wait_clock=cast("TelliSimulator", simulator) if waits_on_itself else None,
        )

    @property
    def api_key(self) -> SecretStr | None:
        """The key requests use when the caller brings none (the demo key in the sandbox)."""
        return self.settings.api_key

    def client(self, api_key: str | SecretStr, *, max_retries: int | None = None) -> TelliClient:
        """A client for `api_key`; `max_retries` overrides the setting (the doctor wants one honest answer)."""
        from telli_mcp.client import TelliClient  # on first use: `tools/list` needs no client

        return TelliClient(
            api_key,
            base_url=self.settings.api_base_url,
            timeout=self.settings.timeout_seconds,
            max_retries=self.settings.max_retries if max_retries is None else max_retries,
            retry_deadline=self.settings.retry_deadline_seconds,
            transport=self.transport,
            sleep=self.sleep,
        )

    async def verify_key(self, api_key: str) -> bool | None:
        """telli's verdict on a key: True accepted, False rejected, None when telli did not answer clearly (one
        request, no retries: the HTTP edge asks this before letting a new key in)."""
        from telli_mcp.client import TelliError

        try:
            async with self.client(api_key, max_retries=0) as client:
                return await client.verify_api_key()
        except TelliError:
            return None

    def client_factory(self, *, max_retries: int | None = None) -> ClientFactory:
        return lambda api_key: self.client(api_key, max_retries=max_retries)

    @cached_property
    def events(self) -> EventFeed:
        """telli's webhook events: stored by this process's receiver (or another's, sharing the file), read by
        the waits, campaigns and status. Nothing is opened before the first use."""
        from telli_mcp.webhooks.clock import RealClock
        from telli_mcp.webhooks.feed import EventFeed

        return EventFeed(self._shared_or(self.events_path), now=self.now, clock=self.wait_clock or RealClock())

    @cached_property
    def webhook_endpoints(self) -> list[WebhookEndpoint]:
        """The webhook endpoints this backend receives on: the settings' (`webhooks.accounts`), or in the
        sandbox its own, which its simulator delivers to."""
        if self.sandbox is not None:
            return [self.sandbox.webhook_endpoint]
        from telli_mcp.webhooks.accounts import webhook_endpoints

        settings = self.settings
        return webhook_endpoints(
            server_key=settings.api_key, secret=settings.webhook_secret, accounts=settings.webhook_accounts
        )

    def webhook_receiver(self) -> ASGIApp | None:
        """The receiver for `webhook_endpoints` (None when there is none), storing into `events`."""
        if not self.webhook_endpoints:
            return None
        from telli_mcp.webhooks.app import receiver_app

        return receiver_app(self.webhook_endpoints, self.events.store, self.events.hub)

    @cached_property
    def do_not_call(self) -> DoNotCallList:
        """The do-not-call lists, where the campaign ledger is (the shared database, else a file beside it, in memory
        where it is), opened on first use: every dial path of this process checks them."""
        from telli_mcp.do_not_call.store import DoNotCallList

        return DoNotCallList(self._shared_or(self._beside_ledger(DO_NOT_CALL_FILE)), now=self.now)

    @cached_property
    def contact_index(self) -> ContactIndex:
        """Every tenant's contact index (find_contacts), where the campaign ledger is (the shared database, else a file
        beside it, in memory where it is), opened on first use."""
        from telli_mcp.contact_index.store import ContactIndex

        return ContactIndex(self._shared_or(self._beside_ledger(CONTACT_INDEX_FILE)), now=self.now)

    def _shared_or(self, location: str) -> str | SecretStr:
        """Where a store every replica must see lives: the shared database when TELLI_MCP_DATABASE_URL names one,
        else `location` (its file, or ":memory:"). The one rule for the ledger, the do-not-call list, the events and
        the contact index."""
        return self.settings.database_url if self.settings.database_url is not None else location

    def _beside_ledger(self, file_name: str) -> str:
        """A store's file in the ledger's directory; in memory where the ledger is."""
        return IN_MEMORY if self.ledger_path == IN_MEMORY else str(Path(self.ledger_path).with_name(file_name))

    @cached_property
    def database(self) -> Database | None:
        """The PostgreSQL database the replicas share (TELLI_MCP_DATABASE_URL), or None; it connects on first use."""
        if self.settings.database_url is None:
            return None
        from telli_mcp.database import Database

        return Database(self.settings.database_url)

    @cached_property
    def spent_tokens(self) -> SpentTokens:
        """Where confirmation tokens are recorded as spent: the shared database if there is one, else a file beside
        the campaign ledger (in memory where it is), opened on first use."""
        if self.database is not None:
            from telli_mcp.database import PostgresSpentTokens

            return PostgresSpentTokens(self.database)
        from telli_mcp.database import SqliteSpentTokens

        return SqliteSpentTokens(self._beside_ledger(SPENT_TOKENS_FILE))

    async def aclose(self) -> None:
        """Close the database's connections, the do-not-call list and the contact index, if they were opened (when
        the process, or a test, is done with it)."""
        for store in ("do_not_call", "contact_index"):
            opened = self.__dict__.get(store)
            if opened is not None:
                opened.close()
        database = self.__dict__.get("database")
        if database is not None:
            await database.aclose()

    def campaign_engine(self, client: TelliClient, tenant: str) -> CampaignEngine:
        """The campaign engine of `tenant` (whose key `client` holds), over the campaign store: it skips the numbers
        on the account's do-not-call list (when it plans and again right before each schedule request), dials
        contacts without a time zone on the account's clock (TELLI_ACCOUNT_TIMEZONE), and its status reads the
        account's own opt-out outcome (TELLI_MCP_OPT_OUT_KEY)."""
        return self.campaign_store.engine(
            client,
            tenant,
            account_timezone=self.settings.account_timezone,
            dial_block=self.do_not_call.for_tenant(tenant),
            opt_out_key=self.settings.opt_out_key,
        )

    @cached_property
    def campaign_adopter(self) -> CampaignAdopter | None:
        """With the shared database: what resumes campaigns whose run died with another replica, when their account
        next speaks to this one (see `telli_mcp.campaign_adoption`); None for one process on its own."""
        if self.database is None:
            return None
        from telli_mcp.campaign_adoption import CampaignAdopter

        return CampaignAdopter(self.campaign_store, engine_for=self.campaign_engine, client_for=self.client)

    @cached_property
    def campaign_store(self) -> CampaignStore:
        """The campaign ledgers, opened on first use (imported then: starting the server does not need them)."""
        from telli_mcp.campaigns.store import CampaignStore

        return CampaignStore(self._shared_or(self.ledger_path))


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def open_backend(settings: Settings, *, sandbox_speed: float = 60.0) -> Backend:
    """The backend `settings` ask for. `sandbox_speed`: simulated seconds per real second (0: the clock only
    moves when asked), for a sandbox that runs as long as the server does."""
    if not settings.sandbox:
        return Backend(
            settings,
            label=public_url(settings.api_base_url),
            now=_wall_clock,
            ledger_path=ledger_path(settings),
            events_path=events_path(settings),
        )
    from telli_mcp.sandbox import DEMO_API_KEY, Sandbox

    # Make-believe campaigns, lists and tokens never go into a shared database, whatever TELLI_MCP_DATABASE_URL says.
    demo = settings.model_copy(update={"api_key": SecretStr(DEMO_API_KEY), "database_url": None})
    sandbox = Sandbox.demo(speed=sandbox_speed)
    backend = Backend(
        demo,
        label=SANDBOX_LABEL,
        now=sandbox.now,
        ledger_path=ledger_path(demo),
        sandbox=sandbox,
        transport=sandbox.transport(),
        events_path=IN_MEMORY,  # make-believe events, whatever TELLI_MCP_DATA_DIR says: never beside real ones
        wait_clock=sandbox,
    )
    sandbox.when_built(lambda simulator: _deliver_events(simulator, backend))
    return backend


def _deliver_events(simulator: TelliSimulator, backend: Backend) -> None:
    """The sandbox's webhooks: its simulator signs them and hands them to this server's receiver in-process,
    through the same checks a delivery over the network gets."""
    import httpx2

    from telli_mcp.sandbox import DEMO_API_KEY

    [endpoint] = backend.webhook_endpoints
    receiver = backend.webhook_receiver()
    assert receiver is not None
    transport = httpx2.ASGITransport(receiver)

    async def deliver(body: bytes, headers: dict[str, str]) -> int:
        async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as http:
            return (await http.post(endpoint.path, content=body, headers=headers)).status_code

    simulator.send_webhooks(DEMO_API_KEY, deliver, endpoint.secret)
    # Every event of the demo account reaches this store from now on: campaign pages may rely on them.
    backend.events.store.mark_receiving(endpoint.account)
