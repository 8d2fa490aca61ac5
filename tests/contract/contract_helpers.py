"""A valid request for every documented endpoint, built against a seeded simulator account.

Written by hand from the reference (../shared/reference/telli-api.md), not generated from the contract, so the
off-contract table tests the simulator's validation against an independent reading of the docs.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import httpx2

from telli_mcp.simulator import TEST_API_KEY, Account, TelliSimulator

BASE_URL = "https://api.telli.com"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Req:
    """One raw request: what the off-contract table mutates."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    content_type: str | None = "application/json"

    @property
    def version(self) -> str:
        return self.path.split("/")[1]

    def with_body(self, body: Any) -> Req:
        return dataclasses.replace(self, body=body)

    async def send(self, client: httpx2.AsyncClient) -> httpx2.Response:
        headers = {"content-type": self.content_type} if self.content_type and self.body is not None else {}
        content = json.dumps(self.body).encode() if self.body is not None else None
        return await client.request(self.method, self.path, params=self.query, content=content, headers=headers)


@dataclass(frozen=True)
class Ids:
    """Ids of the seeded account the valid requests use."""

    looping: str
    fresh: str
    agent: str
    phone_number: str
    call: str


def seeded() -> tuple[TelliSimulator, Account, Ids]:
    sim = TelliSimulator(seed_demo=True)
    account = sim.account(TEST_API_KEY)
    contacts = account.live_contacts()
    ids = Ids(
        looping=next(c.id for c in contacts if account.active_loop_for(c.id)),
        fresh=next(c.id for c in contacts if c.status.value == "new"),
        agent=account.agents_in_order()[0].id,
        phone_number=account.active_phone_numbers()[0].id,
        call=next(iter(account.calls)),
    )
    return sim, account, ids


def client_for(sim: TelliSimulator) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        transport=sim.transport(), base_url=BASE_URL, headers={"Authorization": f"Bearer {TEST_API_KEY}"}
    )


def v1_contact() -> dict[str, Any]:
    return {
        "external_contact_id": "ext-new-1",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone_number": "+15550123",
    }


def v2_contact() -> dict[str, Any]:
    return {"firstName": "Ada", "lastName": "Lovelace", "phoneNumber": "+15550123"}


def valid_requests(ids: Ids) -> dict[str, Req]:
    """operationId -> a request telli documents as valid."""
    c, n, a, p = ids.looping, ids.fresh, ids.agent, ids.phone_number
    return {
        "add-contact": Req("POST", "/v1/add-contact", body=v1_contact()),
        "add-contacts-batch": Req("POST", "/v1/add-contacts-batch", body={"contacts": [v1_contact()]}),
        "get-contact-v1": Req("GET", f"/v1/get-contact/{c}"),
        "get-contact-by-external-id-v1": Req("GET", "/v1/get-contact-by-external-id/crm-123"),
        "get-contacts-batch": Req("POST", "/v1/get-contacts-batch", body={"contact_ids": [c]}),
        "update-contact-v1": Req("PATCH", "/v1/update-contact", body={"contact_id": n, "first_name": "Grace"}),
        "update-contacts-batch": Req(
            "PATCH", "/v1/update-contacts-batch", body={"contacts": [{"contact_id": n, "last_name": "Hopper"}]}
        ),
        "delete-contact-v1": Req("DELETE", f"/v1/delete-contact/{n}"),
        "schedule-call": Req("POST", "/v1/schedule-call", body={"contact_id": n, "agent_id": a}),
        "schedule-calls-batch": Req(
            "POST", "/v1/schedule-calls-batch", body={"contacts": [{"contact_id": n, "agent_id": a}]}
        ),
        "initiate-call": Req("POST", "/v1/initiate-call", body={"contact_id": n, "agent_id": a}),
        "get-call": Req("GET", f"/v1/get-call/{ids.call}"),
        "list-calls": Req("GET", "/v1/list-calls", query={"limit": "10"}),
        "remove-from-auto-dialer": Req("POST", "/v1/remove-from-auto-dialer", body={"contact_id": c}),
        "remove-from-auto-dialer-batch": Req("POST", "/v1/remove-from-auto-dialer-batch", body={"contact_ids": [c]}),
        "list-phone-numbers": Req("GET", "/v1/phone-numbers"),
        "import-phone-number": Req(
            "POST",
            "/v1/phone-numbers/import",
            body={
                "phoneNumber": "+15550177",
                "terminationUri": "sip:trunk.example.com",
                "authUsername": "trunk-user",
                "authPassword": "trunk-secret",
            },
        ),
        "replace-phone-number": Req("POST", f"/v1/phone-numbers/{p}/replace", body={}),
        "delete-phone-number": Req("DELETE", f"/v1/phone-numbers/{p}"),
        "verify-api-key": Req("GET", "/v1/verify-api-key"),
        "create-contact": Req("POST", "/v2/contacts", body=v2_contact()),
        "list-contacts": Req("GET", "/v2/contacts", query={"limit": "5"}),
        "get-contact": Req("GET", f"/v2/contacts/{c}"),
        "update-contact": Req("PATCH", f"/v2/contacts/{n}", body={"firstName": "Grace"}),
        "replace-contact": Req("PUT", f"/v2/contacts/{n}", body=v2_contact()),
        "delete-contact": Req("DELETE", f"/v2/contacts/{n}"),
        "get-contact-by-external-id": Req("GET", "/v2/external/contacts/crm-123"),
        "list-contact-properties": Req("GET", "/v2/properties/contacts"),
        "create-contact-property": Req(
            "POST", "/v2/properties/contacts", body={"key": "tier", "dataType": "string", "label": "Tier"}
        ),
        "get-contact-property": Req("GET", "/v2/properties/contacts/plan"),
        "update-contact-property": Req("PATCH", "/v2/properties/contacts/plan", body={"label": "Plan level"}),
        "list-agents": Req("GET", "/v2/agents", query={"limit": "10"}),
        "get-agent": Req("GET", f"/v2/agents/{a}"),
    }


def state_of(account: Account) -> str:
    """Everything a request could change in an account, as one comparable string."""
    parts = [account.contacts, account.properties, account.phone_numbers, account.loops, account.calls]
    return repr([[dataclasses.asdict(record) for record in part.values()] for part in parts])


def set_path(body: Any, path: str, value: Any) -> Any:
    """A deep copy of `body` with the dotted `path` (list indexes as numbers) set to `value`."""
    copy = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    node = copy
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return copy


def rename(body: Any, path: str, to: str) -> Any:
    """A deep copy of `body` with the key at `path` renamed to `to` (same parent)."""
    copy = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    node = copy
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[to] = node.pop(last)
    return copy
