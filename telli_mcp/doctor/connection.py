"""The one network check: call telli's verify-api-key once, time it, and say what it proves."""

from __future__ import annotations

import time
from collections.abc import Callable

from telli_mcp.client import TelliAPIError, TelliClient, TelliConnectionError, TelliError
from telli_mcp.doctor.results import Check, Status

__all__ = ["REACH", "REJECTED_KEY_ADVICE", "VALID", "check_connection", "skipped_connection"]

REACH = "reachable"
VALID = "key valid"
REJECTED_KEY_ADVICE = "copy it again from the telli app, Settings > API & Webhooks"
"""What to do about a 401, in every doctor report that meets one."""


def skipped_connection(reason: str) -> list[Check]:
    return [Check(name=REACH, status=Status.SKIP, detail=reason), Check(name=VALID, status=Status.SKIP, detail=reason)]


async def check_connection(
    client: TelliClient, *, where: str, timer: Callable[[], float] = time.perf_counter
) -> list[Check]:
    """Whether `where` answers (with the latency of the verify call) and whether it accepts the key."""
    started = timer()
    try:
        valid = await client.verify_api_key()
    except TelliConnectionError as err:
        return [
            Check(name=REACH, status=Status.FAIL, detail=f"could not reach {where}: {err}"),
            Check(name=VALID, status=Status.SKIP, detail="telli could not be reached"),
        ]
    except TelliAPIError as err:
        answered = f"{where} answered HTTP {err.status_code} in {_ms(timer() - started)}"
        return [
            Check(name=REACH, status=Status.WARN, detail=answered),
            Check(name=VALID, status=Status.FAIL, detail=f"key check failed: {type(err).__name__}"),
        ]
    except TelliError as err:
        return [
            Check(name=REACH, status=Status.FAIL, detail=f"{where}: {type(err).__name__}: {err}"),
            Check(name=VALID, status=Status.SKIP, detail="no usable answer from telli"),
        ]
    reached = Check(name=REACH, status=Status.PASS, detail=f"{where} answered in {_ms(timer() - started)}")
    if not valid:
        return [
            reached,
            Check(
                name=VALID,
                status=Status.FAIL,
                detail=f"telli rejected the key {client.masked_key} (401): {REJECTED_KEY_ADVICE}",
            ),
        ]
    return [reached, Check(name=VALID, status=Status.PASS, detail=f"telli accepted the key {client.masked_key}")]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"
