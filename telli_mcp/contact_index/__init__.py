"""The contact index: each account's telli contacts on this machine, so `find_contacts` can search them.

telli has no contact search: finding someone by name means reading every contact. The index keeps a copy per
tenant (the key's fingerprint), in one SQLite file beside the campaign ledger (in memory in the sandbox) or in the
PostgreSQL database the replicas share, fills it
by walking telli's listing within a request budget (`sync`), and keeps it current from telli's events and from the
tools that change contacts. It answers a `ContactQuery` with SQL.

It imports only `telli_mcp.client`, `telli_mcp.database` (its SQL session) and the leaf modules, and never `mcp`.
Names load on first use.
"""

from typing import TYPE_CHECKING

from telli_mcp.lazy import lazy_exports

if TYPE_CHECKING:
    from telli_mcp.contact_index.names import NameMatch
    from telli_mcp.contact_index.phones import PhoneSearch
    from telli_mcp.contact_index.query import ContactQuery, DialerState, PropertyScalar
    from telli_mcp.contact_index.records import DialerRead, IndexedContact, IndexStatus, SearchPage
    from telli_mcp.contact_index.store import ContactIndex, TenantIndex
    from telli_mcp.contact_index.sync import SyncReport, minimum_requests, sync_contacts

__all__ = [
    "ContactIndex",
    "ContactQuery",
    "DialerRead",
    "DialerState",
    "IndexStatus",
    "IndexedContact",
    "NameMatch",
    "PhoneSearch",
    "PropertyScalar",
    "SearchPage",
    "SyncReport",
    "TenantIndex",
    "minimum_requests",
    "sync_contacts",
]

__getattr__ = lazy_exports(__name__, __file__)
