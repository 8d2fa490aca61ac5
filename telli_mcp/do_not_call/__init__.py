"""The do-not-call list: phone numbers an account must never dial, per tenant, in a SQLite file on this machine or
in the PostgreSQL database the replicas share.

It imports only `telli_mcp.client` (for one way to read a phone number), `telli_mcp.database` (its SQL session)
and the leaf modules, and never `mcp`: the MCP tools, the campaign engine (through its `DialBlock` protocol) and
the `telli-mcp dnc` command all use it. Names load on first use.
"""

from typing import TYPE_CHECKING

from telli_mcp.lazy import lazy_exports

if TYPE_CHECKING:
    from telli_mcp.do_not_call.store import (
        DO_NOT_CALL_REASON,
        Added,
        DoNotCallList,
        Entry,
        TenantList,
        normalise_number,
        normalise_numbers,
    )

__all__ = [
    "DO_NOT_CALL_REASON",
    "Added",
    "DoNotCallList",
    "Entry",
    "TenantList",
    "normalise_number",
    "normalise_numbers",
]

__getattr__ = lazy_exports(__name__, __file__)
