"""Settle, then verify: what becomes of leads whose schedule request may or may not have been applied.

A lead is `unknown` when its schedule request was sent and no answer says what telli did with it: a timeout,
a dropped connection, a 502/504 from a proxy that stopped waiting, a cancelled or interrupted run, a crash.
telli may still be working on such a request and apply it after the client gave up. Reading the contact at
once would find it `new`, the lead would be sent again, and then the first request lands as well.

The rule: an unknown lead's `settle_at` is its `sent_at` + the client's request timeout + `settle_margin`
(30 s by default); telli is assumed to have applied or dropped any request by then. Before verifying, a run
waits (once, with the client's sleep) until the latest `settle_at` of its unknown leads has passed. Then it
reads the contacts with get-contacts-batch: a contact that is or was in the dialer (`next_call_at`,
`in_call_since`, `call_attempts`, a status other than `new`) is scheduled; only a contact provably outside the
dialer goes back to `contact_ready` and may be sent again. If telli cannot be read, the leads stay `unknown`
for a later round or run. A request whose answer said telli was done with it (a 500 or 503) settles at the
answer's time. `settle_at` lives in the ledger, so a run that resumes after a cancel or crash honours the wait
of the run that sent the request, whoever holds the lease now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from telli_mcp.campaigns.contact_state import was_scheduled
from telli_mcp.campaigns.ledger import LeadRecord, LeadUpdate
from telli_mcp.campaigns.models import LeadState
from telli_mcp.campaigns.run import RunContext, canonical_id
from telli_mcp.client import ContactV1, TelliError

__all__ = ["VERIFY_CHUNK", "settle_unknown", "settled_at"]

VERIFY_CHUNK = 1000
LEGACY_SETTLE = timedelta(seconds=60)
"""For unknown leads recorded by a telli-mcp that kept no `settle_at`: the default timeout plus margin."""


async def settle_unknown(run: RunContext) -> None:
    """Wait until every `unknown` lead's request has settled, then resolve them from telli's view."""
    unknown = [record for record in run.ledger.leads(run.campaign_id, [LeadState.UNKNOWN]) if record.contact_id]
    if not unknown:
        return
    await _wait_until_settled(run, unknown)
    await _verify(run, unknown)


def settled_at(records: Sequence[LeadRecord]) -> datetime:
    """The moment from which telli's view of all `records` can be trusted."""
    return max(record.settle_at or record.updated_at + LEGACY_SETTLE for record in records)


async def _wait_until_settled(run: RunContext, unknown: Sequence[LeadRecord]) -> None:
    remaining = (settled_at(unknown) - run.now()).total_seconds()
    if remaining <= 0:
        return
    message = (
        f"Waiting {remaining:.0f} s before checking {len(unknown)} leads whose schedule request got no answer: "
        "telli may still apply it, and checking earlier could send them twice"
    )
    await run.progress("settle", 0, len(unknown), message)
    # One sleep for the whole wait, like the client's retry back-off: an injected sleep is trusted as is.
    await run.sleep(remaining)


async def _verify(run: RunContext, unknown: Sequence[LeadRecord]) -> None:
    for start in range(0, len(unknown), VERIFY_CHUNK):
        chunk = unknown[start : start + VERIFY_CHUNK]
        try:
            result = await run.client.contacts_v1.get_batch([record.contact_id or "" for record in chunk])
        except TelliError:
            return  # telli is unavailable: the leads stay unknown and are verified by a later round or run
        run.stats.requests.verify_batches += result.requests_sent
        found = {canonical_id(contact.contact_id): contact for contact in result.found}
        run.record([_verified(record, found) for record in chunk])
        done = start + len(chunk)
        await run.progress("verify", done, len(unknown), f"Verified {done}/{len(unknown)} unconfirmed leads")


def _verified(record: LeadRecord, found: dict[str, ContactV1]) -> LeadUpdate:
    contact = found.get(canonical_id(record.contact_id or ""))
    if contact is None:
        return LeadUpdate(row=record.row, state=LeadState.FAILED, last_error="the contact no longer exists in telli")
    if was_scheduled(contact):
        return LeadUpdate(row=record.row, state=LeadState.SCHEDULED)
    earlier = f"; last error: {record.last_error}" if record.last_error else ""
    reason = f"telli did not apply the last schedule request (the contact is not in the dialer){earlier}"
    return LeadUpdate(row=record.row, state=LeadState.CONTACT_READY, last_error=reason)
