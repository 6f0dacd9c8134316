"""Six-field NCRONTAB expressions, as Azure Functions timer triggers use them.

`{second} {minute} {hour} {day} {month} {day-of-week}`, e.g. `0 30 9 * * Mon-Fri`. Each field takes
`*`, numbers, lists `a,b`, ranges `a-b`, steps `*/n`, `a-b/n` and `a/n`; months take `Jan`..`Dec`
and days of the week `Sun`..`Sat` (any case); day-of-week 0 and 7 both mean Sunday.

Unlike NCrontab itself (which ANDs them), a restricted day-of-month and a restricted day-of-week
match like classic cron: a day matches when either does.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["NCrontabSchedule", "parse_ncrontab"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NUMBER = re.compile(r"[0-9]+")  # ASCII only: int() would accept other scripts' digits
_MAX_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_start: int = 0


_FIELDS = (
    _Field("second", 0, 59),
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day", 1, 31),
    _Field("month", 1, 12, _MONTHS, 1),
    # 7 is accepted as Sunday and folded onto 0 after parsing.
    _Field("day-of-week", 0, 7, _DAYS, 0),
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
    days_restricted: bool
    weekdays_restricted: bool

    def next_after(self, moment: datetime) -> datetime:
        """The first matching instant strictly after `moment` (timezone-aware), in UTC."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("moment must be timezone-aware")
        start = moment.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
        try:
            return self._search(start)
        except OverflowError:
            raise ValueError(f"{self.expression!r} has no occurrence after {moment}") from None

    def _search(self, t: datetime) -> datetime:
        # Each step jumps straight to the next allowed value of the coarsest field that does not
        # match yet, so the loop runs a few hundred times at most (Feb 29 can be 8 years away).
        limit_year = t.year + 9
        while t.year <= limit_year:
            month = _next_value(self.months, t.month)
            if month is None:
                t = datetime(t.year + 1, self.months[0], 1, tzinfo=UTC)
                continue
            if month != t.month:
                t = datetime(t.year, month, 1, tzinfo=UTC)
                continue
            if not self._day_matches(t):
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
        raise ValueError(f"{self.expression!r} has no occurrence within 9 years")

    def _day_matches(self, t: datetime) -> bool:
        in_days = t.day in self.days
        # datetime.weekday() is Monday=0; cron counts from Sunday=0.
        in_weekdays = (t.weekday() + 1) % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_days or in_weekdays
        return in_days and in_weekdays


def parse_ncrontab(expression: str) -> NCrontabSchedule:
    """Parse a six-field NCRONTAB expression; raise ValueError with a short reason if invalid."""
    parts = expression.split()
    if len(parts) != len(_FIELDS):
        raise ValueError(
            f"expected 6 fields (second minute hour day month day-of-week), got {len(parts)}"
        )
    values = [_parse_field(text, field) for text, field in zip(parts, _FIELDS, strict=True)]
    seconds, minutes, hours, days, months, weekdays_raw = values
    weekdays = sorted({day % 7 for day in weekdays_raw})
    days_restricted = len(days) < 31
    weekdays_restricted = len(weekdays) < 7
    if not weekdays_restricted and all(min(days) > _MAX_DAYS_IN_MONTH[m - 1] for m in months):
        raise ValueError("the day field never occurs in the chosen months")
    return NCrontabSchedule(
        expression=expression,
        seconds=tuple(seconds),
        minutes=tuple(minutes),
        hours=tuple(hours),
        days=tuple(days),
        months=tuple(months),
        weekdays=tuple(weekdays),
        days_restricted=days_restricted,
        weekdays_restricted=weekdays_restricted,
    )


def _parse_field(text: str, field: _Field) -> list[int]:
    allowed: set[int] = set()
    for item in text.split(","):
        allowed.update(_parse_item(item, field))
    return sorted(allowed)


def _parse_item(item: str, field: _Field) -> range:
    if not item:
        raise ValueError(f"empty list item in the {field.name} field")
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        step = _number(step_text, field, what="step")
        if step == 0:
            raise ValueError(f"step 0 in the {field.name} field")
    if base == "*":
        low, high = field.low, field.high
    elif "-" in base:
        first, _, last = base.partition("-")
        low, high = _value(first, field), _value(last, field)
        if low > high:
            raise ValueError(f"range {base!r} runs backwards in the {field.name} field")
    else:
        low = _value(base, field)
        # `a/n` means "from a to the end, every n", as in Vixie cron.
        high = field.high if slash else low
    return range(low, high + 1, step)


def _value(text: str, field: _Field) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.names.index(lowered) + field.names_start
    value = _number(text, field, what="value")
    if not field.low <= value <= field.high:
        raise ValueError(f"{field.name} value {value} is outside {field.low}-{field.high}")
    return value


def _number(text: str, field: _Field, *, what: str) -> int:
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"{text!r} is not a valid {what} in the {field.name} field")
    return int(text)


def _next_value(values: tuple[int, ...], current: int) -> int | None:
    index = bisect.bisect_left(values, current)
    return values[index] if index < len(values) else None


def _midnight(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0)
