"""Six-field NCRONTAB expressions, read the way the Functions timer extension reads them.

The host hands a timer's schedule to NCrontab (`CrontabSchedule.TryParse` with seconds included);
this module accepts what that parser accepts, means what it means, and refuses the rest:

- `{second} {minute} {hour} {day} {month} {day-of-week}`, separated by ASCII spaces only (runs of
  spaces count as one; a tab or a non-ASCII space is not a separator, so the field count or the
  field itself comes out wrong and the host refuses the schedule).
- Each field is a comma list of `*`, `n`, `a-b`, `*/s`, `a-b/s` or `a/s` (`a` to the field's
  maximum). A backwards range `5-1` is the range 1-5. A step below 1 means every value.
- Values are ASCII digits (trailing whitespace or NULs after the digits are tolerated, as .NET's
  `int.Parse` tolerates them), or for months and days of the week any leading part of the English
  name, any case (`J` is January, `Tu` Tuesday). Day-of-week runs 0-6 with Sunday 0; 7 is refused.
- A moment matches when every field matches, day-of-month AND day-of-week (`0 0 9 1-7 * Mon` is
  the first Monday of the month, not days 1-7 plus every Monday).

One refusal is ours: a schedule whose days never occur in its months (`30 Feb`). NCrontab parses
it and the timer would simply never fire; here it is an error at start-up instead.
"""

from __future__ import annotations

import bisect
import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["NCrontabSchedule", "parse_ncrontab"]

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")  # fmt: skip
_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
# .NET int.Parse (NumberStyles.Integer): the value itself starts with a digit (NCrontab checks),
# trailing white space (U+0009-U+000D, U+0020) and trailing NULs are allowed.
_VALUE = re.compile(r"([0-9]+)[\t-\r ]*\x00*", re.ASCII)
_STEP = re.compile(r"[\t-\r ]*([+-]?[0-9]+)[\t-\r ]*\x00*", re.ASCII)
_INT32 = range(-(2**31), 2**31)
_MAX_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_SEARCH_YEARS = 400  # the Gregorian calendar repeats every 400 years


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()


_FIELDS = (
    _Field("second", 0, 59),
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 0, 6, _DAYS),
)


@dataclass(frozen=True, slots=True)
class NCrontabSchedule:
    """A parsed NCRONTAB schedule; each field holds its sorted allowed values."""

    expression: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    weekdays: tuple[int, ...]  # 0 = Sunday

    def next_after(self, moment: datetime) -> datetime:
        """The first matching instant strictly after `moment` (timezone-aware), in UTC."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("moment must be timezone-aware")
        try:
            start = moment.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
            found = self._search(start)
        except (OverflowError, ValueError):  # ran past year 9999
            found = None
        if found is None:
            raise ValueError(f"{self.expression!r} has no occurrence after {moment}")
        return found

    def _search(self, t: datetime) -> datetime | None:
        # Each step jumps straight to the next allowed value of the coarsest field that does not
        # match yet; a day of the wrong weekday moves on by one day.
        limit_year = t.year + _SEARCH_YEARS
        while t.year <= limit_year:
            month = _next_value(self.months, t.month)
            if month is None:
                t = datetime(t.year + 1, self.months[0], 1, tzinfo=UTC)
                continue
            if month != t.month:
                t = datetime(t.year, month, 1, tzinfo=UTC)
                continue
            day = _next_value(self.days, t.day)
            if day is None or day > calendar.monthrange(t.year, t.month)[1]:
                t = _first_of_next_month(t)
                continue
            if day != t.day:
                t = datetime(t.year, t.month, day, tzinfo=UTC)
                continue
            # datetime.weekday() is Monday=0; cron counts from Sunday=0.
            if (t.weekday() + 1) % 7 not in self.weekdays:
                t = _midnight(t) + timedelta(days=1)
                continue
            hour = _next_value(self.hours, t.hour)
            if hour is None:
                t = _midnight(t) + timedelta(days=1)
                continue
            if hour != t.hour:
                t = t.replace(hour=hour, minute=self.minutes[0], second=self.seconds[0])
                continue
            minute = _next_value(self.minutes, t.minute)
            if minute is None:
                t = t.replace(minute=0, second=0) + timedelta(hours=1)
                continue
            if minute != t.minute:
                t = t.replace(minute=minute, second=self.seconds[0])
                continue
            second = _next_value(self.seconds, t.second)
            if second is None:
                t = t.replace(second=0) + timedelta(minutes=1)
                continue
            return t.replace(second=second)
        return None


def parse_ncrontab(expression: str) -> NCrontabSchedule:
    """Parse a six-field NCRONTAB expression; raise ValueError with a short reason if invalid."""
    parts = [part for part in expression.split(" ") if part]
    if len(parts) != len(_FIELDS):
        raise ValueError(
            f"expected 6 fields (second minute hour day month day-of-week) separated by spaces, "
            f"got {len(parts)}"
        )
    values = [_parse_field(text, field) for text, field in zip(parts, _FIELDS, strict=True)]
    seconds, minutes, hours, days, months, weekdays = values
    if all(days[0] > _MAX_DAYS_IN_MONTH[m - 1] for m in months):
        raise ValueError("the day field never occurs in the chosen months, so it would never fire")
    return NCrontabSchedule(
        expression=expression,
        seconds=seconds,
        minutes=minutes,
        hours=hours,
        days=days,
        months=months,
        weekdays=weekdays,
    )


def _parse_field(text: str, field: _Field) -> tuple[int, ...]:
    allowed: set[int] = set()
    for item in text.split(","):
        allowed.update(_parse_item(item, field))
    return tuple(sorted(allowed))


def _parse_item(item: str, field: _Field) -> range:
    if not item:
        raise ValueError(f"empty list item in the {field.name} field")
    step: int | None = None
    slash = item.find("/")
    if slash > 0:  # NCrontab looks for a step only after the first character
        step = _step(item[slash + 1 :], field)
        item = item[:slash]
    if item == "*":
        return range(field.low, field.high + 1, max(step or 1, 1))
    dash = item.find("-")
    if dash > 0:
        first, last = _value(item[:dash], field), _value(item[dash + 1 :], field)
        low, high = min(first, last), max(first, last)  # `5-1` is read as `1-5`
    else:
        low = _value(item, field)
        high = field.high if step is not None else low
    for value in (low, high):
        if not field.low <= value <= field.high:
            raise ValueError(f"{field.name} value {value} is outside {field.low}-{field.high}")
    return range(low, high + 1, max(step or 1, 1))


def _value(text: str, field: _Field) -> int:
    if not text:
        raise ValueError(f"empty value in the {field.name} field")
    number = _VALUE.fullmatch(text) if "0" <= text[0] <= "9" else None
    if number is not None:
        return int(number.group(1))
    if field.names and text.isascii() and text.isalpha():
        lowered = text.lower()
        for index, name in enumerate(field.names):
            if name.startswith(lowered):
                return index + field.low
    raise ValueError(f"{text!r} is not a valid value in the {field.name} field")


def _step(text: str, field: _Field) -> int:
    number = _STEP.fullmatch(text)
    if number is None or int(number.group(1)) not in _INT32:
        raise ValueError(f"{text!r} is not a valid step in the {field.name} field")
    return int(number.group(1))


def _next_value(values: tuple[int, ...], current: int) -> int | None:
    index = bisect.bisect_left(values, current)
    return values[index] if index < len(values) else None


def _midnight(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0)


def _first_of_next_month(t: datetime) -> datetime:
    return datetime(t.year + t.month // 12, t.month % 12 + 1, 1, tzinfo=UTC)
