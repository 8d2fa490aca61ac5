"""Resource classes: one per group of telli endpoints, reached as attributes of `TelliClient`."""

from telli_mcp.client.resources.agents import Agents
from telli_mcp.client.resources.calls import Calls
from telli_mcp.client.resources.contacts import Contacts
from telli_mcp.client.resources.contacts_v1 import ContactsV1
from telli_mcp.client.resources.phone_numbers import PhoneNumbers
from telli_mcp.client.resources.properties import Properties

__all__ = ["Agents", "Calls", "Contacts", "ContactsV1", "PhoneNumbers", "Properties"]
