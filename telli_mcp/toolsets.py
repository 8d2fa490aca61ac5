"""Toolsets: named groups of tools an operator switches on with `--toolsets` / `TELLI_MCP_TOOLSETS`.

Pure data, without `mcp`: the CLI and the doctor check a toolset list with it without loading the MCP layer.
What each toolset contains (its tools, resources, prompts and instruction lines) is declared in its module,
`telli_mcp/server/tools/<toolset>.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ANALYTICS",
    "BULK",
    "DO_NOT_CALL",
    "LIVE",
    "SANDBOX",
    "SEARCH",
    "STATUS",
    "TOOLSETS",
    "Toolset",
    "UnknownToolsetError",
    "resolve_toolsets",
]

STATUS = "status"
"""get_status: always on, because it is how a user finds out what is switched on."""
SANDBOX = "sandbox"
"""Tools that exist only against the sandbox simulator; switched on by the sandbox, never by name."""
LIVE = "live"
"""wait_for_call_result: on by name, and by itself wherever results arrive in real time (webhooks configured, or
the sandbox). Not in `default`, so the default catalogue stays within its 20 KB budget."""
DO_NOT_CALL = "do_not_call"
"""The do-not-call list's own tools (add, list, remove): on by name, and by itself in the sandbox. Every dial path
checks the list whether or not these tools are offered; not in `default`, for the 20 KB budget."""
ANALYTICS = "analytics"
"""call_stats and search_transcripts, over the calls of a period: on by name, and by itself in the sandbox; not in
`default`, for the 20 KB budget."""
BULK = "bulk"
"""update_contacts and reschedule_contacts: one change, or a move to another agent, for many contacts with one
confirmation; on by name, and by itself in the sandbox; not in `default`, for the 20 KB budget."""
SEARCH = "search"
"""find_contacts, over a local index of the account's contacts: on by name, and by itself in the sandbox; not in
`default`, for the 20 KB budget."""


@dataclass(frozen=True)
class Toolset:
    name: str
    description: str
    default: bool


TOOLSETS: tuple[Toolset, ...] = (
    Toolset(STATUS, "get_status: which telli account, key and guardrails are in effect.", default=True),
    Toolset("contacts", "Create, read, update and delete contacts.", default=True),
    Toolset("properties", "Read and define the typed contact properties (the contact schema).", default=True),
    Toolset(
        "calls",
        "Schedule calls through the auto-dialer, call now, cancel, and read calls and transcripts.",
        default=True,
    ),
    Toolset("agents", "List the AI agents and the account's phone numbers.", default=True),
    Toolset("campaigns", "Launch, track and stop bulk call campaigns with a local ledger.", default=True),
    Toolset(
        LIVE,
        "wait_for_call_result: wait for a call's result (on by itself with webhooks or in the sandbox).",
        default=False,
    ),
    Toolset(
        DO_NOT_CALL,
        "Keep numbers that must never be called: add, list, remove (on by itself in the sandbox).",
        default=False,
    ),
    Toolset(
        ANALYTICS,
        "call_stats and search_transcripts: how a period's calls went, and what was said (on in the sandbox).",
        default=False,
    ),
    Toolset(
        BULK,
        "update_contacts and reschedule_contacts: change or move many contacts at once (on in the sandbox).",
        default=False,
    ),
    Toolset(
        SEARCH,
        "find_contacts: search contacts by name, number, property, dialer state and dates (on in the sandbox).",
        default=False,
    ),
    Toolset("phone_numbers_admin", "Replace or delete the account's phone numbers (opt-in).", default=False),
)

_SPECIAL = ("default", "all")


class UnknownToolsetError(ValueError):
    """A toolset name that does not exist; the message lists the valid ones."""


def resolve_toolsets(requested: Iterable[str]) -> frozenset[str]:
    """Expand `default`/`all` and validate names; raise `UnknownToolsetError` naming the valid choices.

    An empty list is an error too: it would silently leave only get_status (e.g. `TELLI_MCP_TOOLSETS=""`).
    """
    known = {toolset.name for toolset in TOOLSETS}
    valid = ", ".join((*_SPECIAL, *sorted(known)))
    names = [raw for raw in requested if raw.strip()]
    if not names:
        raise UnknownToolsetError(f"No toolset selected. Valid toolsets: {valid}.")
    selected: set[str] = set()
    for raw in names:
        name = raw.strip().lower()
        if name == "default":
            selected |= {t.name for t in TOOLSETS if t.default}
        elif name == "all":
            selected |= known
        elif name in known:
            selected.add(name)
        else:
            raise UnknownToolsetError(f"Unknown toolset {raw!r}. Valid toolsets: {valid}.")
    return frozenset(selected | {STATUS})
