"""When the dialer may call: daily windows in the contact's timezone and the Smart Calling plan (§7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["DialerWindow", "daily_quota", "next_retry"]

FIRST_RETRY_GAP = timedelta(hours=1)  # documented: "first retry after 1 h"
LATER_RETRY_GAP = timedelta(hours=3)  # [I] gap between later attempts on the same day


@dataclass(frozen=True)
class DialerWindow:
    """[I] The account's dialer window: default 08:00–20:00 local time, Monday to Friday."""

    opens: time = time(8)
    closes: time = time(20)
    weekdays_only: bool = True

    def day_allowed(self, day: date) -> bool:
        return not self.weekdays_only or day.weekday() < 5

    def opening(self, day: date, tz: ZoneInfo) -> datetime:
        return datetime.combine(day, self.opens, tzinfo=tz).astimezone(UTC)

    def earliest_from(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The earliest moment at or after `moment` that lies inside a window."""
        local = moment.astimezone(tz)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if not self.day_allowed(day):
                continue
            opens = datetime.combine(day, self.opens, tzinfo=tz)
            closes = datetime.combine(day, self.closes, tzinfo=tz)
            if offset > 0 or local < opens:
                return opens.astimezone(UTC)
            if local < closes:
                return moment.astimezone(UTC)
        raise ValueError("the dialer window never opens")


def daily_quota(day_index: int) -> int:
    """Smart Calling (§7): day 0 up to 3 calls, days 1–3 two, days 4–10 one, then one per week."""
    if day_index == 0:
        return 3
    if 1 <= day_index <= 3:
        return 2
    if 4 <= day_index <= 10:
        return 1
    return 1 if (day_index - 11) % 7 == 0 else 0


def next_retry(
    *,
    ended_at: datetime,
    first_day: date,
    attempt_days: list[date],
    max_retry_days: int,
    tz: ZoneInfo,
    window: DialerWindow,
) -> datetime | None:
    """When the next attempt of a loop happens, or None when the loop is exhausted.

    [I] Days are calendar days in the contact's timezone counted from the first attempt (day 0); the loop
    may call on days 0 … max_retry_days-1 (max_retry_days 0 = a single attempt). This reproduces the
    documented totals (1 day → 3 calls, 3 days → 7). Quota on a day outside the window is lost.
    """
    if max_retry_days <= 0:
        return None
    today = ended_at.astimezone(tz).date()
    index = (today - first_day).days
    made_today = attempt_days.count(today)
    if made_today < daily_quota(index):
        gap = FIRST_RETRY_GAP if index == 0 and made_today == 1 else LATER_RETRY_GAP
        candidate = window.earliest_from(ended_at + gap, tz)
        if candidate.astimezone(tz).date() == today:
            return candidate
    day = today
    while True:
        day += timedelta(days=1)
        index = (day - first_day).days
        if index >= max_retry_days:
            return None
        if daily_quota(index) > 0 and window.day_allowed(day):
            return window.opening(day, tz)
