"""Typed models of telli's request and response bodies."""

from telli_mcp.client.models.agents import Agent
from telli_mcp.client.models.batch import BatchItemResult, BatchItemStatus, BatchReport, ContactBatchResult
from telli_mcp.client.models.calls import (
    AnalysisItem,
    Call,
    CallDetails,
    CallStatus,
    InitiateCall,
    InitiateResult,
    ScheduleCall,
    ScheduleResult,
    TranscriptTurn,
)
from telli_mcp.client.models.common import InvalidItem, Page
from telli_mcp.client.models.contacts import (
    ClearableContactField,
    Contact,
    ContactCreate,
    ContactPropertyValue,
    ContactStatus,
    ContactUpdate,
    ContactV1,
    ContactV1Create,
    ContactV1Update,
    PropertyValueInput,
)
from telli_mcp.client.models.phone_numbers import PhoneNumber, PhoneNumberChange, PhoneNumberImport
from telli_mcp.client.models.properties import (
    PropertyCreate,
    PropertyDataType,
    PropertyDefinition,
    PropertyOption,
    PropertySource,
    PropertyUpdate,
)

__all__ = [
    "Agent",
    "AnalysisItem",
    "BatchItemResult",
    "BatchItemStatus",
    "BatchReport",
    "Call",
    "CallDetails",
    "CallStatus",
    "ClearableContactField",
    "Contact",
    "ContactBatchResult",
    "ContactCreate",
    "ContactPropertyValue",
    "ContactStatus",
    "ContactUpdate",
    "ContactV1",
    "ContactV1Create",
    "ContactV1Update",
    "InitiateCall",
    "InitiateResult",
    "InvalidItem",
    "Page",
    "PhoneNumber",
    "PhoneNumberChange",
    "PhoneNumberImport",
    "PropertyCreate",
    "PropertyDataType",
    "PropertyDefinition",
    "PropertyOption",
    "PropertySource",
    "PropertyUpdate",
    "PropertyValueInput",
    "ScheduleCall",
    "ScheduleResult",
    "TranscriptTurn",
]
