"""A phone number as searched: in any format a person types, compared with the E.164 numbers telli keeps.

With a country code ("+49 30 555010", "0049 30 555010") the number is put in E.164 by the client's rule and must
be equal. Without one ("030 555010", "(030) 555-010") the country is unknown, so the national digits (leading
zeros dropped) must end the stored number: "030 555010" finds +4930555010. Short digit strings would match too
many numbers by their ending, so at least `MIN_NATIONAL_DIGITS` are asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["MIN_NATIONAL_DIGITS", "PhoneSearch"]

MIN_NATIONAL_DIGITS: Final = 6
_TYPED = re.compile(r"\+?[\d\s().\-/]+")


@dataclass(frozen=True)
class PhoneSearch:
    """Exactly one of `e164` (equal) and `ending` (the stored number ends with these digits) is set."""

    e164: str | None = None
    ending: str | None = None

    @classmethod
    def parse(cls, raw: str) -> PhoneSearch:
        """The search for `raw`; ValueError saying why it is not a phone number."""
        text = raw.strip()
        if not _TYPED.fullmatch(text):
            raise ValueError("is not a phone number (digits, spaces, brackets, dashes and a leading + only)")
        if text.startswith("00"):
            text = "+" + text[2:]
        if text.startswith("+"):
            from telli_mcp.client.types import PhoneNumberError, normalize_e164

            try:
                return cls(e164=normalize_e164(text))
            except PhoneNumberError as err:
                raise ValueError(err.reason) from None
        digits = re.sub(r"\D", "", text).lstrip("0")
        if len(digits) < MIN_NATIONAL_DIGITS:
            raise ValueError(
                f"has fewer than {MIN_NATIONAL_DIGITS} digits after its leading zeros; give the whole number, "
                "best with its country code (+49...)"
            )
        return cls(ending=digits)
