"""Time rules of a channel, as pure functions of `now`: quiet hours and digest times, in the
channel's own time zone. Parsing of the "HH:MM" and "HH:MM-HH:MM" forms users type lives here
too, so every interface refuses the same bad input with the same words."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class ScheduleError(ValueError):
    """Input that does not describe a time, a time range or a time zone."""


def parse_time(text: str, *, what: str = "time") -> time:
    match = _HHMM.match(text.strip())
    if match is None:
        raise ScheduleError(f"{what} {text!r} is not a time of day as HH:MM (00:00 to 23:59)")
    return time(int(match.group(1)), int(match.group(2)))


def parse_quiet_hours(text: str) -> tuple[time, time]:
    """ "22:00-07:00" → (22:00, 07:00). The end is exclusive; a range may cross midnight."""
    parts = text.strip().split("-")
    if len(parts) != 2:
        raise ScheduleError(f"quiet hours {text!r} must look like 22:00-07:00 (start-end)")
    start = parse_time(parts[0], what="quiet hours start")
    end = parse_time(parts[1], what="quiet hours end")
    check_quiet_hours(start, end)
    return start, end


def check_quiet_hours(start: time | None, end: time | None) -> None:
    if (start is None) != (end is None):
        raise ScheduleError("quiet hours need both a start and an end")
    if start is not None and start == end:
        raise ScheduleError("quiet hours start and end are the same time: an empty range")


def zone(name: str) -> ZoneInfo:
    try:
        if not name or name != name.strip():
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = " (e.g. Europe/Berlin, America/New_York, UTC)"
        raise ScheduleError(f"unknown time zone {name!r}{hint}") from None


def is_known_zone(name: str) -> bool:
    return name in available_timezones() or name == "UTC"


def in_quiet_hours(now: datetime, start: time | None, end: time | None, tz: str) -> bool:
    if start is None or end is None:
        return False
    local = now.astimezone(zone(tz)).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end  # crosses midnight


def _at(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz)


def last_digest_time(now: datetime, *, at: time, weekday: int | None, tz: str) -> datetime:
    """The latest scheduled digest moment at or before `now` (daily, or weekly on `weekday`)."""
    zone_info = zone(tz)
    local_now = now.astimezone(zone_info)
    day = local_now.date()
    candidate = _at(day, at, zone_info)
    if candidate > local_now:
        day -= timedelta(days=1)
        candidate = _at(day, at, zone_info)
    if weekday is not None:
        back = (day.weekday() - weekday) % 7
        candidate = _at(day - timedelta(days=back), at, zone_info)
    return candidate
