"""telli's documented API as a machine-readable contract (OpenAPI 3.1), and the checks that use it.

The simulator rejects every request that breaks it; `telli-mcp doctor --deep` compares a real account's
answers with it. The client never imports this package: the contract is the independent oracle.
"""

from __future__ import annotations

from .document import Contract, Guess, Operation, load_contract
from .requests import RequestCheck, Violation, check_request

__all__ = ["Contract", "Guess", "Operation", "RequestCheck", "Violation", "check_request", "load_contract"]
